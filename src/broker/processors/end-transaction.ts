import { MessageSysFlag } from '../../common/sysflag.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optBoolean, optString, reqNumber, reqString, type Ext } from '../../remoting/header.js';
import type { Connection } from '../../remoting/connection.js';
import type { BrokerController } from '../broker-controller.js';

/** END_TRANSACTION (37) header (upstream `EndTransactionRequestHeader`). */
export interface EndTransactionRequestHeader {
  producerGroup: string;
  /** Queue offset of the half message. */
  tranStateTableOffset: number;
  /** CommitLog offset of the half message. */
  commitLogOffset: number;
  /** 0 unknown, 8 commit, 12 rollback (MessageSysFlag values). */
  commitOrRollback: number;
  fromTransactionCheck: boolean;
  msgId: string;
  transactionId?: string;
}

export function decodeEndTransactionRequestHeader(ext: Ext): EndTransactionRequestHeader {
  return {
    producerGroup: reqString(ext, 'producerGroup'),
    tranStateTableOffset: reqNumber(ext, 'tranStateTableOffset'),
    commitLogOffset: reqNumber(ext, 'commitLogOffset'),
    commitOrRollback: reqNumber(ext, 'commitOrRollback'),
    fromTransactionCheck: optBoolean(ext, 'fromTransactionCheck') ?? false,
    msgId: optString(ext, 'msgId') ?? '',
    transactionId: optString(ext, 'transactionId'),
  };
}

/** The header as upstream logs it (`EndTransactionRequestHeader#toString`, Guava's toStringHelper). */
export function endTransactionHeaderString(h: EndTransactionRequestHeader): string {
  return `EndTransactionRequestHeader{producerGroup=${h.producerGroup}, tranStateTableOffset=${h.tranStateTableOffset}, `
    + `commitLogOffset=${h.commitLogOffset}, commitOrRollback=${h.commitOrRollback}, fromTransactionCheck=${h.fromTransactionCheck}, `
    + `msgId=${h.msgId || 'null'}, transactionId=${h.transactionId ?? 'null'}}`;
}

/** Handles END_TRANSACTION (upstream `EndTransactionProcessor`); usually sent oneway. */
export class EndTransactionProcessor {
  constructor(private readonly broker: BrokerController) {}

  async process(req: RemotingCommand, conn?: Pick<Connection, 'remoteAddress'>): Promise<RemotingCommand | null> {
    const h = decodeEndTransactionRequestHeader(req.extFields);
    if (this.broker.brokerConfig.brokerRole === 'SLAVE') {
      return createResponse(req, ResponseCode.SLAVE_NOT_AVAILABLE, 'a slave broker does not end transactions; send it to the master');
    }
    const t = h.commitOrRollback;
    if (t !== MessageSysFlag.TRANSACTION_NOT_TYPE && t !== MessageSysFlag.TRANSACTION_COMMIT_TYPE && t !== MessageSysFlag.TRANSACTION_ROLLBACK_TYPE) {
      // Upstream answers nothing here; a request that expects an answer would then wait out its timeout.
      return createResponse(req, ResponseCode.SYSTEM_ERROR, `commitOrRollback=${t} is not 0, 8 (commit) or 12 (rollback)`);
    }
    // The lines upstream logs for answers other than a producer's own commit, so a transaction left
    // unknown or rolled back can be traced to its producer.
    const addr = conn?.remoteAddress ?? '';
    const about = `RequestHeader: ${endTransactionHeaderString(h)} Remark: ${req.remark ?? 'null'}`;
    if (h.fromTransactionCheck) {
      const what = t === MessageSysFlag.TRANSACTION_NOT_TYPE ? 'but it\'s pending status.'
        : t === MessageSysFlag.TRANSACTION_COMMIT_TYPE ? 'the producer commit the message.' : 'the producer rollback the message.';
      this.broker.logger.warn(`Check producer[${addr}] transaction state, ${what}${about}`);
    } else if (t === MessageSysFlag.TRANSACTION_NOT_TYPE) {
      this.broker.logger.warn(`The producer[${addr}] end transaction in sending message,  and it's pending status.${about}`);
    } else if (t === MessageSysFlag.TRANSACTION_ROLLBACK_TYPE) {
      this.broker.logger.warn(`The producer[${addr}] end transaction in sending message, rollback the message.${about}`);
    }
    // Unknown: the half stays open and will be checked back.
    if (t === MessageSysFlag.TRANSACTION_NOT_TYPE) return null;
    const r = await this.broker.transactionalMessageService.endTransaction(h);
    if (!r.ok) {
      this.broker.logger.warn(`END_TRANSACTION for ${h.msgId} failed: ${r.detail ?? r.remark}${r.detail && r.remark ? ` (${r.remark})` : ''}`);
      return createResponse(req, r.code, r.remark);
    }
    return createResponse(req, ResponseCode.SUCCESS);
  }
}
