import { MessageConst } from '../common/message-const.js';
import { decodeOffsetMessageId } from '../common/message-id.js';
import { MessageSysFlag } from '../common/sysflag.js';
import { createRequest, RequestCode, type RemotingCommand } from '../remoting/index.js';
import { decodeReceivedMessages, type Message, type MessageExt } from './message.js';
import { MQClientAPI, type SendResult } from './mq-client-api.js';
import { Producer, type ProducerOptions } from './producer.js';
import { withoutNamespace } from './namespace.js';

/** Outcome of a local transaction (upstream `LocalTransactionState`). */
export const LocalTransactionState = {
  COMMIT_MESSAGE: 'COMMIT_MESSAGE',
  ROLLBACK_MESSAGE: 'ROLLBACK_MESSAGE',
  UNKNOW: 'UNKNOW',
} as const;
export type LocalTransactionStateValue = (typeof LocalTransactionState)[keyof typeof LocalTransactionState];

export interface TransactionProducerOptions extends ProducerOptions {
  /**
   * Answers the broker's CHECK_TRANSACTION_STATE for a half message whose outcome it never got
   * (upstream `TransactionListener.checkLocalTransaction`).
   */
  checkLocalTransaction: (msg: MessageExt) => Promise<LocalTransactionStateValue> | LocalTransactionStateValue;
}

export interface TransactionSendResult extends SendResult {
  localTransactionState: LocalTransactionStateValue;
}

const STATE_TO_FLAG: Record<LocalTransactionStateValue, number> = {
  COMMIT_MESSAGE: MessageSysFlag.TRANSACTION_COMMIT_TYPE,
  ROLLBACK_MESSAGE: MessageSysFlag.TRANSACTION_ROLLBACK_TYPE,
  UNKNOW: MessageSysFlag.TRANSACTION_NOT_TYPE,
};

/**
 * Transaction messages (upstream `TransactionMQProducer`): `sendInTransaction` sends a half
 * message, runs the local transaction, and tells the broker to commit or roll back
 * (END_TRANSACTION, oneway); unresolved halves are checked back through `checkLocalTransaction`.
 *
 * ```ts
 * const p = new TransactionProducer({ group: 'TXG', namesrvAddr, checkLocalTransaction: (m) => lookup(m.keys[0]) });
 * await p.start();
 * await p.sendInTransaction(new Message('Orders', body, { keys: orderId }), async () => (await db.commit()) ? 'COMMIT_MESSAGE' : 'ROLLBACK_MESSAGE');
 * ```
 */
export class TransactionProducer extends Producer {
  private readonly api2: MQClientAPI;
  private readonly check: TransactionProducerOptions['checkLocalTransaction'];
  private unregisterCheck?: () => void;

  constructor(opts: TransactionProducerOptions) {
    const api = opts.api ?? new MQClientAPI({ serializeType: opts.serializeType, sessionCredentials: opts.sessionCredentials });
    super({ ...opts, api });
    this.api2 = api;
    this.check = opts.checkLocalTransaction;
    this.ownedApi = !opts.api;
  }

  private readonly ownedApi: boolean;

  override async start(): Promise<void> {
    await super.start();
    this.unregisterCheck = this.api2.registerRequestHandler(RequestCode.CHECK_TRANSACTION_STATE, (req, conn) => {
      void this.onCheck(req, conn.remoteAddress);
      return null;
    });
  }

  override async shutdown(): Promise<void> {
    this.unregisterCheck?.();
    await super.shutdown();
    if (this.ownedApi) await this.api2.shutdown();
  }

  /** Sends `msg` as a half message, runs `executeLocal`, then commits or rolls back. */
  async sendInTransaction(msg: Message, executeLocal: (msg: Message, arg: unknown) => Promise<LocalTransactionStateValue> | LocalTransactionStateValue, arg?: unknown): Promise<TransactionSendResult> {
    // As upstream sendMessageInTransaction: a delay level is ignored (dropped), not refused.
    if (msg.delayTimeLevel !== 0) msg.delayTimeLevel = 0;
    msg.properties.set(MessageConst.TRANSACTION_PREPARED, 'true');
    msg.properties.set(MessageConst.PRODUCER_GROUP, this.group);
    const sent = await this.send(msg);
    let state: LocalTransactionStateValue = LocalTransactionState.UNKNOW;
    let remark: string | undefined;
    if (sent.sendStatus === 'SEND_OK') {
      // As upstream: the local transaction sees the broker's transaction id in __transactionId__.
      if (sent.transactionId) msg.properties.set(MessageConst.TRANSACTION_ID, sent.transactionId);
      try {
        state = (await executeLocal(msg, arg)) ?? LocalTransactionState.UNKNOW;
      } catch (err) {
        // As upstream: a throwing local transaction is unknown and will be checked back; the broker logs why.
        state = LocalTransactionState.UNKNOW;
        remark = `executeLocalTransactionBranch exception: ${String(err)}`;
      }
    } else {
      state = LocalTransactionState.ROLLBACK_MESSAGE;
    }
    const addr = this.brokerAddress(sent.messageQueue.brokerName);
    if (addr) {
      await this.endTransaction(addr, {
        tranStateTableOffset: sent.queueOffset, commitLogOffset: decodeOffsetMessageId(sent.offsetMsgId).commitLogOffset,
        msgId: sent.msgId, transactionId: sent.transactionId ?? sent.msgId, topic: msg.topic, brokerName: sent.messageQueue.brokerName,
      }, state, false, remark);
    }
    return { ...sent, localTransactionState: state };
  }

  private async onCheck(req: RemotingCommand, brokerAddr: string): Promise<void> {
    const ext = req.extFields ?? {};
    const msg = req.body ? decodeReceivedMessages(req.body)[0] : undefined;
    if (!msg) return;
    // As upstream ClientRemotingProcessor.checkTransactionState: the producer of the half's group
    // answers, so producers of other groups sharing this client stay out of it.
    if (msg.propertyMap.get(MessageConst.PRODUCER_GROUP) !== this.group) return;
    // As upstream ClientRemotingProcessor.checkTransactionState: the check sees the application's topic.
    if (this.namespace !== undefined) msg.topic = withoutNamespace(msg.topic, this.namespace);
    let state: LocalTransactionStateValue = LocalTransactionState.UNKNOW;
    let remark: string | undefined;
    try {
      state = (await this.check(msg)) ?? LocalTransactionState.UNKNOW;
    } catch (err) {
      state = LocalTransactionState.UNKNOW;
      remark = `checkLocalTransactionState Exception: ${String(err)}`;
    }
    await this.endTransaction(brokerAddr, {
      tranStateTableOffset: Number(ext.tranStateTableOffset), commitLogOffset: Number(ext.commitLogOffset),
      msgId: msg.propertyMap.get(MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? msg.msgId, transactionId: ext.transactionId ?? msg.msgId,
      topic: ext.topic ?? msg.topic, brokerName: ext.bname,
    }, state, true, remark);
  }

  private endTransaction(
    addr: string,
    h: { tranStateTableOffset: number; commitLogOffset: number; msgId: string; transactionId: string; topic: string; brokerName?: string },
    state: LocalTransactionStateValue, fromCheck: boolean, remark?: string,
  ): Promise<void> {
    return this.api2.remoting.invokeOneway(addr, createRequest(RequestCode.END_TRANSACTION, {
      extFields: {
        producerGroup: this.group, tranStateTableOffset: h.tranStateTableOffset, commitLogOffset: h.commitLogOffset,
        commitOrRollback: STATE_TO_FLAG[state], fromTransactionCheck: fromCheck, msgId: h.msgId, transactionId: h.transactionId,
        topic: h.topic, ...(h.brokerName !== undefined ? { bname: h.brokerName } : {}),
      },
      remark,
    })).catch(() => undefined);
  }
}
