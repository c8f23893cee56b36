import { randomUUID } from 'node:crypto';
import { MessageConst, PROPERTY_SEPARATOR } from '../common/message-const.js';
import { encodeProperties } from '../common/properties.js';
import { getReplyTopic, REPLY_MESSAGE_FLAG } from '../common/topic.js';
import { ResponseCode } from '../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../remoting/command.js';
import { optNumber, optString, reqString } from '../remoting/header.js';
import { ClientErrorCode, isRetriable, MQClientError } from './errors.js';
import { Message, toMessageExt, type MessageExt } from './message.js';

/**
 * Request-reply over the queue (upstream `DefaultMQProducer.request`, `MessageUtil`,
 * `RequestFutureHolder`): a producer's request carries CORRELATION_ID, REPLY_TO_CLIENT (its
 * client id) and TTL; a consumer answers with `createReplyMessage`, sent to the cluster's reply
 * topic with SEND_REPLY_MESSAGE; the broker pushes the reply to the requester
 * (PUSH_REPLY_MESSAGE_TO_CLIENT), whose pending request it completes.
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

interface Pending {
  resolve: (reply: MessageExt) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  /** The request reached the broker: a timeout then means nobody answered in time. */
  sent: boolean;
  topic: string;
  timeoutMs: number;
}

/** A producer's requests waiting for their replies, by correlation id. */
export class RequestFutureTable {
  private readonly pending = new Map<string, Pending>();

  /** Tags `msg` as a request and returns its correlation id and the promise of its reply. */
  open(msg: Message, requesterClientId: string, timeoutMs: number): { correlationId: string; reply: Promise<MessageExt> } {
    const correlationId = randomUUID();
    msg.properties.set(MessageConst.CORRELATION_ID, correlationId);
    msg.properties.set(MessageConst.REPLY_TO_CLIENT, requesterClientId);
    msg.properties.set(MessageConst.TTL, String(timeoutMs));
    const reply = new Promise<MessageExt>((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = this.pending.get(correlationId);
        if (!p) return;
        this.pending.delete(correlationId);
        p.reject(p.sent
          ? new MQClientError(`send request message to <${p.topic}> OK, but wait reply message timeout, ${p.timeoutMs} ms: is a consumer of ${p.topic} answering with createReplyMessage?`, ClientErrorCode.REQUEST_TIMEOUT, true)
          : new MQClientError(`send request message to <${p.topic}> did not complete within ${p.timeoutMs} ms`, ClientErrorCode.REQUEST_TIMEOUT, true));
      }, timeoutMs);
      timer.unref();
      this.pending.set(correlationId, { resolve, reject, timer, sent: false, topic: msg.topic, timeoutMs });
    });
    return { correlationId, reply };
  }

  /** The request is stored on a broker. */
  markSent(correlationId: string): void {
    const p = this.pending.get(correlationId);
    if (p) p.sent = true;
  }

  /** The request could not be sent: its caller gets `err` (upstream: "send request message to <topic> fail"). */
  fail(correlationId: string, err: unknown): void {
    const p = this.pending.get(correlationId);
    if (!p) return;
    this.settle(correlationId, p);
    p.reject(new MQClientError(`send request message to <${p.topic}> fail: ${(err as Error).message}`, ClientErrorCode.REQUEST_FAILED, isRetriable(err), { cause: err }));
  }

  /** Completes the request `reply` answers; false when none is waiting here (late, or another producer's). */
  complete(reply: MessageExt): boolean {
    const id = reply.propertyMap.get(MessageConst.CORRELATION_ID);
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || id === undefined) return false;
    this.settle(id, p);
    p.resolve(reply);
    return true;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Fails every waiting request (the producer shuts down). */
  close(): void {
    for (const [id, p] of [...this.pending]) {
      this.settle(id, p);
      p.reject(new MQClientError(`the producer shut down while request ${id} to <${p.topic}> waited for its reply`, ClientErrorCode.NOT_STARTED));
    }
  }

  private settle(id: string, p: Pending): void {
    clearTimeout(p.timer);
    this.pending.delete(id);
  }
}

/**
 * PUSH_REPLY_MESSAGE_TO_CLIENT → the reply message (upstream `ClientRemotingProcessor.receiveReplyMessage`),
 * its body inflated, with ARRIVE_TIME added.
 */
export function decodePushedReply(req: RemotingCommand, now = Date.now()): MessageExt {
  const ext = req.extFields;
  let properties = optString(ext, 'properties') ?? '';
  if (properties.length > 0 && !properties.endsWith(PROPERTY_SEPARATOR)) properties += PROPERTY_SEPARATOR;
  properties += encodeProperties({ [MessageConst.ARRIVE_TIME]: String(now) });
  return toMessageExt({
    storeSize: 0, bodyCRC: 0, queueOffset: 0, commitLogOffset: 0, preparedTransactionOffset: 0,
    topic: reqString(ext, 'topic'),
    queueId: optNumber(ext, 'queueId') ?? 0,
    flag: optNumber(ext, 'flag') ?? 0,
    sysFlag: optNumber(ext, 'sysFlag') ?? 0,
    bornTimestamp: optNumber(ext, 'bornTimestamp') ?? 0,
    bornHost: optString(ext, 'bornHost') ?? '',
    storeTimestamp: optNumber(ext, 'storeTimestamp') ?? 0,
    storeHost: optString(ext, 'storeHost') ?? '',
    reconsumeTimes: optNumber(ext, 'reconsumeTimes') ?? 0,
    body: req.body ?? Buffer.alloc(0),
    properties,
    offsetMsgId: '',
  });
}

/** The client's answer to a pushed reply: taken, whether or not a request still waited for it (as upstream). */
export function replyReceived(req: RemotingCommand): RemotingCommand {
  return createResponse(req, ResponseCode.SUCCESS);
}
