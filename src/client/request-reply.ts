import { MessageConst, PROPERTY_SEPARATOR } from '../common/message-const.js';
import { encodeProperties } from '../common/properties.js';
import { getReplyTopic, REPLY_MESSAGE_FLAG } from '../common/topic.js';
import { ResponseCode } from '../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../remoting/command.js';
import { decodeReplyMessageRequestHeader } from '../remoting/protocol/index.js';
import type { Logger } from '../common/logger.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import { Message, toMessageExt, type MessageExt } from './message.js';
import type { RequestFutureHolder } from './request-future-holder.js';
import { withoutNamespace } from './namespace.js';

/**
 * Request-reply over the queue (upstream `DefaultMQProducer.request`, `MessageUtil`,
 * `RequestFutureHolder`): a producer's request carries CORRELATION_ID, REPLY_TO_CLIENT (its
 * client id) and TTL; a consumer answers with `createReplyMessage`, sent to the cluster's reply
 * topic with SEND_REPLY_MESSAGE; the broker pushes the reply to the requester
 * (PUSH_REPLY_MESSAGE_TO_CLIENT), whose pending request (request-future-holder.ts) it completes.
 */

/**
 * The reply to `request` (upstream `MessageUtil.createReplyMessage`): addressed to the reply topic
 * of the request's cluster, with its correlation id, requester and TTL. Send it with any
 * Producer's `send`.
 */
export function createReplyMessage(request: Pick<MessageExt, 'propertyMap'>, body: Buffer | string): Message {
  const p = request.propertyMap;
  const cluster = p.get(MessageConst.CLUSTER);
  if (cluster === undefined) {
    throw new MQClientError(`create reply message fail, requestMessage error, property[${MessageConst.CLUSTER}] is null: reply only to messages a broker stored (a request received by a consumer)`, ClientErrorCode.CREATE_REPLY_MESSAGE);
  }
  const reply = new Message(getReplyTopic(cluster), body);
  reply.properties.set(MessageConst.MESSAGE_TYPE, REPLY_MESSAGE_FLAG);
  for (const k of [MessageConst.CORRELATION_ID, MessageConst.REPLY_TO_CLIENT, MessageConst.TTL]) {
    const v = p.get(k);
    if (v !== undefined) reply.properties.set(k, v);
  }
  return reply;
}

/** Whether `msg` is a reply (MSG_TYPE=reply): it goes out as SEND_REPLY_MESSAGE. */
export function isReplyMessage(msg: Message): boolean {
  return msg.properties.get(MessageConst.MESSAGE_TYPE) === REPLY_MESSAGE_FLAG;
}

/**
 * PUSH_REPLY_MESSAGE_TO_CLIENT (upstream `ClientRemotingProcessor.receiveReplyMessage`): the
 * reply completes the request of this process it answers; `namespace` is the receiving producer's. As upstream, the broker is told SUCCESS
 * once the reply is read, whether or not a request still waited for it (a late reply is only
 * logged), and SYSTEM_ERROR "process reply message fail" when it cannot be read.
 */
export function receiveReplyMessage(req: RemotingCommand, holder: RequestFutureHolder, log: Logger, namespace?: string): RemotingCommand {
  let reply: MessageExt;
  try {
    reply = decodePushedReply(req);
    // As upstream ClientRemotingProcessor: the requester sees the reply topic without its namespace.
    if (namespace !== undefined) reply.topic = withoutNamespace(reply.topic, namespace);
  } catch (err) {
    log.warn(`a pushed reply message could not be read: ${(err as Error).message}`);
    return createResponse(req, ResponseCode.SYSTEM_ERROR, `process reply message fail: ${(err as Error).message}`);
  }
  if (!holder.complete(reply)) {
    // Several producers sharing one connection each see every reply: only one of them has its request.
    log.debug(`receive reply message, but not matched any request, CorrelationId: ${reply.propertyMap.get(MessageConst.CORRELATION_ID) ?? ''}, reply from host: ${reply.bornHost}`);
  }
  return createResponse(req, ResponseCode.SUCCESS);
}

/** The reply message a push carries, its body inflated, with ARRIVE_TIME added (as upstream). */
export function decodePushedReply(req: RemotingCommand, now = Date.now()): MessageExt {
  const h = decodeReplyMessageRequestHeader(req.extFields);
  let properties = h.properties ?? '';
  if (properties.length > 0 && !properties.endsWith(PROPERTY_SEPARATOR)) properties += PROPERTY_SEPARATOR;
  properties += encodeProperties({ [MessageConst.ARRIVE_TIME]: String(now) });
  return toMessageExt({
    storeSize: 0, bodyCRC: 0, queueOffset: 0, commitLogOffset: 0, preparedTransactionOffset: 0,
    topic: h.topic,
    queueId: h.queueId,
    flag: h.flag,
    sysFlag: h.sysFlag,
    bornTimestamp: h.bornTimestamp,
    bornHost: h.bornHost,
    storeTimestamp: h.storeTimestamp,
    storeHost: h.storeHost,
    reconsumeTimes: h.reconsumeTimes ?? 0,
    body: req.body ?? Buffer.alloc(0),
    properties,
    offsetMsgId: '',
  });
}
