import { optBoolean, reqNumber, reqString, type Ext } from '../header.js';

/** QUERY_CONSUMER_OFFSET (14) header (upstream `QueryConsumerOffsetRequestHeader`). */
export interface QueryConsumerOffsetRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  /** 5.x: when false the broker answers QUERY_NOT_FOUND instead of 0 for a young queue. */
  setZeroIfNotFound?: boolean;
}

/** UPDATE_CONSUMER_OFFSET (15) header (upstream `UpdateConsumerOffsetRequestHeader`). */
export interface UpdateConsumerOffsetRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  commitOffset: number;
}

export function decodeQueryConsumerOffsetRequestHeader(ext: Ext): QueryConsumerOffsetRequestHeader {
  return { consumerGroup: reqString(ext, 'consumerGroup'), topic: reqString(ext, 'topic'), queueId: reqNumber(ext, 'queueId'), setZeroIfNotFound: optBoolean(ext, 'setZeroIfNotFound') };
}

export function decodeUpdateConsumerOffsetRequestHeader(ext: Ext): UpdateConsumerOffsetRequestHeader {
  return { consumerGroup: reqString(ext, 'consumerGroup'), topic: reqString(ext, 'topic'), queueId: reqNumber(ext, 'queueId'), commitOffset: reqNumber(ext, 'commitOffset') };
}
