import type { NamesrvConfig } from '../../common/config.js';
import type { Logger } from '../../common/logger.js';
import { RouteDataError } from '../../common/route.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import type { Connection, RequestHandler } from '../../remoting/connection.js';
import { HeaderError } from '../../remoting/header.js';
import type { KVConfigManager } from '../kv-config-manager.js';
import type { RouteInfoManager } from '../route-info-manager.js';
import type { RuntimeConfig } from '../../common/runtime-config.js';

/** What the NameServer's processors work on (upstream: the `NamesrvController` they hold). */
export interface NamesrvContext {
  readonly config: NamesrvConfig;
  readonly routeInfoManager: RouteInfoManager;
  readonly kvConfigManager: KVConfigManager;
  /** The NameServer's own settings as GET/UPDATE_NAMESRV_CONFIG see them. */
  readonly configuration: RuntimeConfig;
  readonly logger: Logger;
  /** When the server started, by `now` (upstream `ClientRequestProcessor.startupTimeMillis`). */
  readonly startupTimeMillis: number;
  readonly now: () => number;
}

export type NamesrvHandler = (request: RemotingCommand, conn: Connection) => RemotingCommand | Promise<RemotingCommand>;

/** A request family: the codes it answers and how. */
export type ProcessorTable = ReadonlyArray<readonly [code: number, handler: NamesrvHandler]>;

/**
 * The one place where request errors become response codes: a bad header answers with the
 * HeaderError's code and message, an undecodable body with SYSTEM_ERROR and what was wrong.
 * Anything else propagates, and the connection answers SYSTEM_ERROR with the error summary
 * (upstream: an exception in a processor).
 */
export function guard(handler: NamesrvHandler): RequestHandler {
  return async (request, conn) => {
    try {
      return await handler(request, conn);
    } catch (err) {
      if (err instanceof HeaderError) return createResponse(request, err.responseCode, err.message);
      if (err instanceof RouteDataError) return createResponse(request, ResponseCode.SYSTEM_ERROR, `the request body cannot be decoded: ${err.message}`);
      throw err;
    }
  };
}
