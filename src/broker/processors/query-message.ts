import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optString, reqLongSaturated, reqNumber, reqString, type Ext } from '../../remoting/header.js';
import type { BrokerController } from '../broker-controller.js';

/** extField set by clients when `key` is a message's UNIQ_KEY (upstream `MixAll.UNIQUE_MSG_QUERY_FLAG`). */
export const UNIQUE_MSG_QUERY_FLAG = '_UNIQUE_KEY_QUERY';

/** QUERY_MESSAGE (12) request header (upstream `QueryMessageRequestHeader`). */
export interface QueryMessageRequestHeader {
  topic: string;
  key: string;
  maxNum: number;
  beginTimestamp: number;
  endTimestamp: number;
  /** `_UNIQUE_KEY_QUERY=true`: `key` is a unique key. */
  uniqueKeyQuery: boolean;
}

export function decodeQueryMessageRequestHeader(ext: Ext): QueryMessageRequestHeader {
  return {
    topic: reqString(ext, 'topic'),
    key: reqString(ext, 'key'),
    maxNum: reqNumber(ext, 'maxNum'),
    // Java longs: upstream tools send Long.MAX_VALUE as the open end.
    beginTimestamp: reqLongSaturated(ext, 'beginTimestamp'),
    endTimestamp: reqLongSaturated(ext, 'endTimestamp'),
    uniqueKeyQuery: optString(ext, UNIQUE_MSG_QUERY_FLAG) === 'true',
  };
}

/**
 * QUERY_MESSAGE (upstream `QueryMessageProcessor.queryMessage`): messages of a topic by key or
 * unique key within a store-time range, found through the IndexFiles. The body is the stored
 * records one after another; none found is QUERY_NOT_FOUND.
 */
export class QueryMessageProcessor {
  constructor(private readonly broker: BrokerController) {}

  async queryMessage(req: RemotingCommand): Promise<RemotingCommand> {
    const h = decodeQueryMessageRequestHeader(req.extFields);
    // As upstream: a unique key names one message (a few if resent), so the limit is defaultQueryMaxNum.
    const maxNum = h.uniqueKeyQuery ? this.broker.storeConfig.defaultQueryMaxNum : h.maxNum;
    const r = await this.broker.messageStore.queryMessage(h.topic, h.key, maxNum, h.beginTimestamp, h.endTimestamp);
    const extFields = { indexLastUpdateTimestamp: r.indexLastUpdateTimestamp, indexLastUpdatePhyoffset: r.indexLastUpdatePhyoffset };
    if (r.bufferTotalSize === 0) {
      return createResponse(req, ResponseCode.QUERY_NOT_FOUND, 'can not find message, maybe time range not correct', { extFields });
    }
    const res = createResponse(req, ResponseCode.SUCCESS, undefined, { extFields });
    res.bodyParts = r.buffers;
    return res;
  }
}
