import { ResponseCode } from '../remoting/codes.js';
import { Code, D, type CodeValue, type df } from './proto.js';

/**
 * Errors of the gRPC endpoint. As upstream, they travel inside the response as
 * `Status{code, message}` with gRPC status OK; the client's StatusChecker turns them into
 * exceptions (BadRequestException for 400xx, NotFoundException for 404xx, …).
 */
export class ProxyError extends Error {
  constructor(readonly code: CodeValue, message: string) {
    super(message);
    this.name = 'ProxyError';
  }
}

export function status(code: CodeValue, message = ''): df.Status {
  const s = new D.Status();
  s.setCode(code);
  s.setMessage(message || (code === Code.OK ? 'OK' : ''));
  return s;
}

export function okStatus(): df.Status {
  return status(Code.OK, 'OK');
}

/** The status of any error thrown while serving a request. */
export function statusOfError(err: unknown): df.Status {
  if (err instanceof ProxyError) return status(err.code, err.message);
  return status(Code.INTERNAL_SERVER_ERROR, err instanceof Error ? err.message : String(err));
}

/**
 * Remoting response code → gRPC Code, in one place (upstream `ResponseBuilder.buildStatus`
 * plus the send-specific codes of `SendMessageActivity`).
 */
const REMOTING_TO_CODE: Readonly<Record<number, CodeValue>> = {
  [ResponseCode.SUCCESS]: Code.OK,
  [ResponseCode.SYSTEM_ERROR]: Code.INTERNAL_SERVER_ERROR,
  [ResponseCode.SYSTEM_BUSY]: Code.TOO_MANY_REQUESTS,
  [ResponseCode.REQUEST_CODE_NOT_SUPPORTED]: Code.NOT_IMPLEMENTED,
  [ResponseCode.FLUSH_DISK_TIMEOUT]: Code.MASTER_PERSISTENCE_TIMEOUT,
  [ResponseCode.FLUSH_SLAVE_TIMEOUT]: Code.SLAVE_PERSISTENCE_TIMEOUT,
  [ResponseCode.SLAVE_NOT_AVAILABLE]: Code.HA_NOT_AVAILABLE,
  [ResponseCode.MESSAGE_ILLEGAL]: Code.BAD_REQUEST,
  [ResponseCode.SERVICE_NOT_AVAILABLE]: Code.INTERNAL_SERVER_ERROR,
  [ResponseCode.NO_PERMISSION]: Code.FORBIDDEN,
  [ResponseCode.TOPIC_NOT_EXIST]: Code.TOPIC_NOT_FOUND,
  [ResponseCode.SUBSCRIPTION_PARSE_FAILED]: Code.ILLEGAL_FILTER_EXPRESSION,
  [ResponseCode.SUBSCRIPTION_NOT_EXIST]: Code.CONSUMER_GROUP_NOT_FOUND,
  [ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST]: Code.CONSUMER_GROUP_NOT_FOUND,
  [ResponseCode.INVALID_PARAMETER]: Code.BAD_REQUEST,
  [ResponseCode.TRANSACTION_FAILED]: Code.INTERNAL_SERVER_ERROR,
};

export function codeOfRemoting(responseCode: number): CodeValue {
  return REMOTING_TO_CODE[responseCode] ?? Code.INTERNAL_SERVER_ERROR;
}
