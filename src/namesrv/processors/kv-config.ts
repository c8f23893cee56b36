import { encodeJson } from '../../common/route.js';
import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optString, reqString, type Ext } from '../../remoting/header.js';
import type { NamesrvContext, ProcessorTable } from './processor.js';

/** The KV config store over the wire: PUT / GET / DELETE one item, list a namespace. */

export interface KVConfigRequestHeader {
  namespace: string;
  key: string;
}

export interface PutKVConfigRequestHeader extends KVConfigRequestHeader {
  value: string;
}

export function decodeKVConfigHeader(ext: Ext): KVConfigRequestHeader {
  return { namespace: reqString(ext, 'namespace'), key: reqString(ext, 'key') };
}

export function decodePutKVConfigHeader(ext: Ext): PutKVConfigRequestHeader {
  // The binary header turns an empty value into a missing one, so absent means "".
  return { ...decodeKVConfigHeader(ext), value: optString(ext, 'value') ?? '' };
}

export interface GetKVListByNamespaceRequestHeader {
  namespace: string;
}

export function decodeGetKVListByNamespaceHeader(ext: Ext): GetKVListByNamespaceRequestHeader {
  return { namespace: reqString(ext, 'namespace') };
}

export function kvConfigProcessors(ctx: NamesrvContext): ProcessorTable {
  const { kvConfigManager: kv, logger } = ctx;
  /** The change is in memory either way; the caller learns whether it also reached the disk. */
  const persisted = async (req: RemotingCommand, change: Promise<void>): Promise<RemotingCommand> => {
    try {
      await change;
      return createResponse(req, ResponseCode.SUCCESS);
    } catch (err) {
      logger.error((err as Error).message);
      return createResponse(req, ResponseCode.SYSTEM_ERROR, (err as Error).message);
    }
  };
  return [
    [RequestCode.PUT_KV_CONFIG, (req) => {
      const h = decodePutKVConfigHeader(req.extFields);
      return persisted(req, kv.putKVConfig(h.namespace, h.key, h.value));
    }],
    [RequestCode.GET_KV_CONFIG, (req) => {
      const h = decodeKVConfigHeader(req.extFields);
      const value = kv.getKVConfig(h.namespace, h.key);
      if (value === undefined) {
        return createResponse(req, ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${h.namespace} Key: ${h.key}`);
      }
      return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { value } });
    }],
    [RequestCode.DELETE_KV_CONFIG, (req) => {
      const h = decodeKVConfigHeader(req.extFields);
      return persisted(req, kv.deleteKVConfig(h.namespace, h.key));
    }],
    [RequestCode.GET_KVLIST_BY_NAMESPACE, (req) => {
      const h = decodeGetKVListByNamespaceHeader(req.extFields);
      const table = kv.getKVListByNamespace(h.namespace);
      if (!table) return createResponse(req, ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${h.namespace}`);
      return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ table }) });
    }],
  ];
}
