import { optNumber, optString, reqNumber, reqString, type Ext } from '../header.js';

/** PULL_MESSAGE (11) / LITE_PULL_MESSAGE (361) headers (upstream `PullMessageRequestHeader`, `PullMessageResponseHeader`). */
export interface PullMessageRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  queueOffset: number;
  maxMsgNums: number;
  /** PullSysFlag bits. */
  sysFlag: number;
  commitOffset: number;
  suspendTimeoutMillis: number;
  /** Expression, sent when FLAG_SUBSCRIPTION is set. */
  subscription?: string;
  subVersion: number;
  expressionType?: string;
  maxMsgBytes?: number;
  /** Broker name (`bname`, RpcRequestHeader). */
  brokerName?: string;
}

export function encodePullMessageRequestHeader(h: PullMessageRequestHeader): Record<string, string> {
  const ext: Record<string, string> = {
    consumerGroup: h.consumerGroup,
    topic: h.topic,
    queueId: String(h.queueId),
    queueOffset: String(h.queueOffset),
    maxMsgNums: String(h.maxMsgNums),
    sysFlag: String(h.sysFlag),
    commitOffset: String(h.commitOffset),
    suspendTimeoutMillis: String(h.suspendTimeoutMillis),
    subVersion: String(h.subVersion),
  };
  if (h.subscription !== undefined) ext.subscription = h.subscription;
  if (h.expressionType !== undefined) ext.expressionType = h.expressionType;
  if (h.maxMsgBytes !== undefined) ext.maxMsgBytes = String(h.maxMsgBytes);
  if (h.brokerName !== undefined) ext.bname = h.brokerName;
  return ext;
}

export function decodePullMessageRequestHeader(ext: Ext): PullMessageRequestHeader & { expressionType: string } {
  return {
    consumerGroup: reqString(ext, 'consumerGroup'),
    topic: reqString(ext, 'topic'),
    queueId: reqNumber(ext, 'queueId'),
    queueOffset: reqNumber(ext, 'queueOffset'),
    maxMsgNums: reqNumber(ext, 'maxMsgNums'),
    sysFlag: reqNumber(ext, 'sysFlag'),
    commitOffset: optNumber(ext, 'commitOffset') ?? 0,
    suspendTimeoutMillis: optNumber(ext, 'suspendTimeoutMillis') ?? 0,
    subscription: optString(ext, 'subscription'),
    subVersion: optNumber(ext, 'subVersion') ?? 0,
    expressionType: optString(ext, 'expressionType') ?? 'TAG',
    maxMsgBytes: optNumber(ext, 'maxMsgBytes'),
    brokerName: optString(ext, 'bname'),
  };
}

export interface PullMessageResponseHeader {
  suggestWhichBrokerId: number;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
}

export function decodePullMessageResponseHeader(ext: Ext): PullMessageResponseHeader {
  return {
    suggestWhichBrokerId: optNumber(ext, 'suggestWhichBrokerId') ?? 0,
    nextBeginOffset: reqNumber(ext, 'nextBeginOffset'),
    minOffset: reqNumber(ext, 'minOffset'),
    maxOffset: reqNumber(ext, 'maxOffset'),
  };
}
