import { optBoolean, optNumber, optString, reqNumber, reqString, type Ext } from '../header.js';
import type { SendMessageRequestHeader } from './send-message-header.js';

/**
 * PUSH_REPLY_MESSAGE_TO_CLIENT (326) header (upstream `ReplyMessageRequestHeader`): the broker
 * hands a consumer's reply to the producer that asked, with the fields of the reply's own send
 * header plus where the reply was born and which broker took it. The broker writes it, the
 * requesting client reads it.
 */
export interface ReplyMessageRequestHeader extends Pick<SendMessageRequestHeader,
  'producerGroup' | 'topic' | 'defaultTopic' | 'defaultTopicQueueNums' | 'queueId' | 'sysFlag' | 'bornTimestamp' | 'flag' | 'properties' | 'reconsumeTimes'> {
  unitMode: boolean;
  /** ip:port of the replier's connection to the broker. */
  bornHost: string;
  /** ip:port of the broker. */
  storeHost: string;
  storeTimestamp: number;
}

/** The extFields of `h`; optional fields only when set. */
export function encodeReplyMessageRequestHeader(h: ReplyMessageRequestHeader): Record<string, string> {
  const ext: Record<string, string> = {
    producerGroup: h.producerGroup, topic: h.topic, defaultTopic: h.defaultTopic, defaultTopicQueueNums: String(h.defaultTopicQueueNums),
    queueId: String(h.queueId), sysFlag: String(h.sysFlag), bornTimestamp: String(h.bornTimestamp), flag: String(h.flag),
    unitMode: String(h.unitMode), bornHost: h.bornHost, storeHost: h.storeHost, storeTimestamp: String(h.storeTimestamp),
  };
  if (h.properties !== undefined) ext.properties = h.properties;
  if (h.reconsumeTimes !== undefined) ext.reconsumeTimes = String(h.reconsumeTimes);
  return ext;
}

/** Every field upstream marks @CFNotNull is required; a missing one throws HeaderError naming it. */
export function decodeReplyMessageRequestHeader(ext: Ext): ReplyMessageRequestHeader {
  return {
    producerGroup: reqString(ext, 'producerGroup'),
    topic: reqString(ext, 'topic'),
    defaultTopic: reqString(ext, 'defaultTopic'),
    defaultTopicQueueNums: reqNumber(ext, 'defaultTopicQueueNums'),
    queueId: reqNumber(ext, 'queueId'),
    sysFlag: reqNumber(ext, 'sysFlag'),
    bornTimestamp: reqNumber(ext, 'bornTimestamp'),
    flag: reqNumber(ext, 'flag'),
    properties: optString(ext, 'properties'),
    reconsumeTimes: optNumber(ext, 'reconsumeTimes'),
    unitMode: optBoolean(ext, 'unitMode') ?? false,
    bornHost: reqString(ext, 'bornHost'),
    storeHost: reqString(ext, 'storeHost'),
    storeTimestamp: reqNumber(ext, 'storeTimestamp'),
  };
}
