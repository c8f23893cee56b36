import { randomUUID } from 'node:crypto';
import { MessageConst } from '../common/message-const.js';
import { ClientErrorCode, isRetriable, MQClientError } from './errors.js';
import type { Message, MessageExt } from './message.js';

/** What the callback form of `Producer.request` is told (upstream `RequestCallback`). */
export interface RequestCallback {
  onSuccess(reply: MessageExt): void;
  onException(err: Error): void;
}

/** One request waiting for its reply (upstream `RequestResponseFuture`). */
interface RequestResponseFuture {
  /** The producer that sent it: its shutdown fails its requests only. */
  readonly owner: object;
  readonly topic: string;
  readonly timeoutMs: number;
  readonly timer: NodeJS.Timeout;
  /** The request reached a broker: a timeout then means nobody answered in time. */
  sendRequestOk: boolean;
  resolve(reply: MessageExt): void;
  reject(err: Error): void;
}

/**
 * The requests of this process waiting for their replies, by correlation id (upstream
 * `RequestFutureHolder`). As upstream there is one per process, shared by every producer: the
 * broker pushes a reply on a connection of the client id named by REPLY_TO_CLIENT, and producers
 * given the same instanceName share that id while each has connections of its own, so the reply
 * may arrive at a sibling of the producer that asked. Correlation ids are random UUIDs, so
 * producers never see each other's requests by mistake.
 *
 * Upstream's sync form waits on a latch for exactly the timeout, its callback form learns of the
 * timeout from a scan of the table every second; here every request has a timer of its own,
 * cleared when the reply comes, so both forms time out on time and nothing is left to scan.
 */
export class RequestFutureHolder {
  /** The holder of this process (upstream `RequestFutureHolder.getInstance()`). */
  static readonly instance = new RequestFutureHolder();

  private readonly table = new Map<string, RequestResponseFuture>();

  /**
   * Tags `msg` as a request of `owner` (upstream `prepareSendRequest`: CORRELATION_ID,
   * REPLY_TO_CLIENT and TTL) and returns its correlation id and the promise of its reply, which
   * rejects with REQUEST_TIMEOUT once `timeoutMs` has passed without one.
   */
  open(owner: object, msg: Message, requesterClientId: string, timeoutMs: number): { correlationId: string; reply: Promise<MessageExt> } {
    const correlationId = randomUUID();
    msg.properties.set(MessageConst.CORRELATION_ID, correlationId);
    msg.properties.set(MessageConst.REPLY_TO_CLIENT, requesterClientId);
    msg.properties.set(MessageConst.TTL, String(timeoutMs));
    const reply = new Promise<MessageExt>((resolve, reject) => {
      const timer = setTimeout(() => this.expire(correlationId), timeoutMs);
      timer.unref();
      this.table.set(correlationId, { owner, topic: msg.topic, timeoutMs, timer, sendRequestOk: false, resolve, reject });
    });
    return { correlationId, reply };
  }

  /** The request is stored on a broker. */
  markSent(correlationId: string): void {
    const f = this.table.get(correlationId);
    if (f) f.sendRequestOk = true;
  }

  /** The request could not be sent: its caller gets `err` (upstream: "send request message to <topic> fail"). */
  fail(correlationId: string, err: unknown): void {
    const f = this.take(correlationId);
    f?.reject(new MQClientError(`send request message to <${f.topic}> fail: ${(err as Error).message}`, ClientErrorCode.REQUEST_FAILED, isRetriable(err), { cause: err }));
  }

  /** Completes the request `reply` answers (by its CORRELATION_ID); false when none waits (late, or from elsewhere). */
  complete(reply: MessageExt): boolean {
    const id = reply.propertyMap.get(MessageConst.CORRELATION_ID);
    const f = id === undefined ? undefined : this.take(id);
    f?.resolve(reply);
    return f !== undefined;
  }

  /** Fails every request of `owner` still waiting (the producer shuts down). */
  close(owner: object): void {
    for (const [id, f] of [...this.table]) {
      if (f.owner !== owner) continue;
      this.take(id);
      f.reject(new MQClientError(`the producer shut down while request ${id} to <${f.topic}> waited for its reply`, ClientErrorCode.NOT_STARTED));
    }
  }

  /** Requests waiting, of `owner` or of the whole process. */
  size(owner?: object): number {
    if (owner === undefined) return this.table.size;
    let n = 0;
    for (const f of this.table.values()) if (f.owner === owner) n++;
    return n;
  }

  private expire(correlationId: string): void {
    const f = this.take(correlationId);
    if (!f) return;
    f.reject(f.sendRequestOk
      ? new MQClientError(`send request message to <${f.topic}> OK, but wait reply message timeout, ${f.timeoutMs} ms: is a consumer of ${f.topic} answering with createReplyMessage?`, ClientErrorCode.REQUEST_TIMEOUT, true)
      : new MQClientError(`send request message to <${f.topic}> did not complete within ${f.timeoutMs} ms`, ClientErrorCode.REQUEST_TIMEOUT, true));
  }

  /** Removes the request from the table and stops its timer. */
  private take(correlationId: string): RequestResponseFuture | undefined {
    const f = this.table.get(correlationId);
    if (!f) return undefined;
    clearTimeout(f.timer);
    this.table.delete(correlationId);
    return f;
  }
}
