import { decodeProperties, encodeProperties, getProperty } from '../common/properties.js';
import { MessageConst } from '../common/message-const.js';
import { javaStringHashCode } from '../common/java.js';
import { SystemTopic } from '../common/topic.js';
import { MessageSysFlag, transactionValue } from '../common/sysflag.js';
import { decodeRecord, type MessageExt } from '../common/message-record.js';
import { encodeSocketAddress, splitAddress } from '../common/socket-address.js';
import type { PutMessageInput } from '../store/message-store.js';

/** Tag code of a properties string: Java hashCode of TAGS, 0 without tags. */
export function tagsCodeOf(properties: string): number {
  const tags = getProperty(properties, MessageConst.TAGS);
  return tags ? javaStringHashCode(tags) : 0;
}

/** A stored record turned back into something to store again (retry, delay delivery, DLQ). */
export function putInputFromRecord(record: Buffer): { ext: MessageExt; input: PutMessageInput } {
  const ext = decodeRecord(record);
  const { host, port } = splitAddress(ext.bornHost.startsWith('[') ? ext.bornHost.replace(/^\[(.*)\]/, '$1') : ext.bornHost);
  return {
    ext,
    input: {
      topic: ext.topic, queueId: ext.queueId, flag: ext.flag, sysFlag: ext.sysFlag, bornTimestamp: ext.bornTimestamp,
      bornHost: encodeSocketAddress(host, port), reconsumeTimes: ext.reconsumeTimes,
      preparedTransactionOffset: ext.preparedTransactionOffset, body: Buffer.from(ext.body), properties: ext.properties,
      tagsCode: tagsCodeOf(ext.properties), waitStoreMsgOK: true,
    },
  };
}

/** Applies `edit` to a properties string (decode, change, encode). */
export function editProperties(properties: string, edit: (p: Map<string, string>) => void): string {
  const map = decodeProperties(properties);
  edit(map);
  return encodeProperties(map);
}

/**
 * Parks a message with a delay level on SCHEDULE_TOPIC_XXXX, queue level − 1, keeping its
 * destination in REAL_TOPIC / REAL_QID (upstream `HookUtils.handleScheduleMessage`). Only
 * normal and committed messages are delayed; levels above the highest are clamped.
 */
export function toScheduleTopic(input: PutMessageInput, level: number, maxLevel: number): void {
  const t = transactionValue(input.sysFlag);
  if (t !== MessageSysFlag.TRANSACTION_NOT_TYPE && t !== MessageSysFlag.TRANSACTION_COMMIT_TYPE) return;
  const lvl = Math.min(level, maxLevel);
  input.properties = editProperties(input.properties, (p) => {
    p.set(MessageConst.REAL_TOPIC, input.topic);
    p.set(MessageConst.REAL_QUEUE_ID, String(input.queueId));
    p.set(MessageConst.DELAY_TIME_LEVEL, String(lvl));
  });
  input.topic = SystemTopic.SCHEDULE_TOPIC;
  input.queueId = lvl - 1;
}
