import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import { decodeRecord } from '../common/message-record.js';
import { encodeJson } from '../common/json.js';
import { encodeConsumerRunningInfo, CMResult, type ConsumeMessageDirectlyResult } from '../client/consumer-running-info.js';
import { RequestCode, ResponseCode } from '../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../remoting/command.js';
import type { Connection } from '../remoting/connection.js';
import { RemotingTimeoutError } from '../remoting/errors.js';
import { toGrpcMessage } from './message-converter.js';
import { D, S, type df, type sv } from './proto.js';
import { encodeTransactionId } from './transaction-id.js';

export type TelemetryStream = ServerDuplexStream<sv.TelemetryCommand, sv.TelemetryCommand>;

/**
 * A gRPC client as the broker sees it (upstream `GrpcClientChannel`): registered with the
 * producer and consumer managers like a Remoting connection, so broker-initiated requests
 * reach it — CHECK_TRANSACTION_STATE becomes a RecoverOrphanedTransactionCommand on the
 * client's Telemetry stream; GET_CONSUMER_RUNNING_INFO a PrintThreadStackTraceCommand and
 * CONSUME_MESSAGE_DIRECTLY a VerifyMessageCommand, each answered by the client on that stream
 * under the command's nonce (see `onReply`). Other broker-to-client requests have no gRPC form.
 */
export class GrpcClientChannel {
  /** Free-form state, as on a Remoting connection. */
  readonly attrs: Record<string, unknown> = { language: 'HTTP', version: 0 };
  readonly localAddress = '';
  private closed = false;
  stream?: TelemetryStream;
  /** Requests relayed to the client, by the nonce of their Telemetry command. */
  private readonly awaiting = new Map<string, Awaiting>();
  private nonceSeq = 0;

  constructor(
    readonly clientId: string,
    readonly remoteAddress: string,
    private readonly brokerName: string,
    private readonly logger: Logger,
    private readonly onClose: (ch: GrpcClientChannel) => void,
  ) {}

  /** This channel where the broker's managers expect a Remoting connection. */
  asConnection(): Connection {
    return this as unknown as Connection;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  invokeOneway(cmd: RemotingCommand): void {
    if (cmd.code !== RequestCode.CHECK_TRANSACTION_STATE) return;
    const stream = this.stream;
    if (!stream || this.closed || !cmd.body) {
      this.logger.warn(`transaction check for client ${this.clientId} dropped: it has no Telemetry stream`);
      return;
    }
    try {
      const ext = decodeRecord(cmd.body);
      const f = cmd.extFields ?? {};
      // The body carries the real topic; the header's is the half topic, as upstream's broker sends it.
      const message = toGrpcMessage(ext, { topic: ext.topic });
      const transactionId = encodeTransactionId({
        brokerName: f.bname ?? this.brokerName,
        commitLogOffset: Number(f.commitLogOffset),
        tranStateTableOffset: Number(f.tranStateTableOffset),
        brokerTransactionId: f.transactionId ?? '',
      });
      const recover = new S.RecoverOrphanedTransactionCommand();
      recover.setMessage(message);
      recover.setTransactionId(transactionId);
      const tc = new S.TelemetryCommand();
      const st: df.Status = new D.Status();
      st.setCode(D.Code.OK);
      st.setMessage('OK');
      tc.setStatus(st);
      tc.setRecoverOrphanedTransactionCommand(recover);
      stream.write(tc);
    } catch (err) {
      this.logger.warn(`transaction check for client ${this.clientId} failed: ${(err as Error).message}`);
    }
  }

  /**
   * A request the broker relays to this client (AdminBrokerProcessor's callConsumer, from
   * `mqadmin consumerStatus` or `consumeMessage`, or the dashboard), as upstream's
   * GrpcClientChannel: written to the client's Telemetry stream, answered by `onReply`.
   */
  invoke(cmd: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    let command: sv.TelemetryCommand;
    const nonce = `${this.clientId}-${++this.nonceSeq}`;
    if (cmd.code === RequestCode.GET_CONSUMER_RUNNING_INFO) {
      // Upstream's proxy asks a gRPC client for its thread stack only, and nothing without jstack.
      if (cmd.extFields?.jstackEnable !== 'true') {
        return Promise.resolve(createResponse(cmd, ResponseCode.SYSTEM_ERROR,
          `client ${this.clientId} is a gRPC client: its running info is its thread stack only; ask with jstack (mqadmin consumerStatus -s)`));
      }
      command = new S.TelemetryCommand().setPrintThreadStackTraceCommand(new S.PrintThreadStackTraceCommand().setNonce(nonce));
    } else if (cmd.code === RequestCode.CONSUME_MESSAGE_DIRECTLY) {
      if (!cmd.body) return Promise.resolve(createResponse(cmd, ResponseCode.SYSTEM_ERROR, 'CONSUME_MESSAGE_DIRECTLY without a message record in its body'));
      const ext = decodeRecord(cmd.body);
      const verify = new S.VerifyMessageCommand().setNonce(nonce).setMessage(toGrpcMessage(ext, { topic: ext.topic }));
      command = new S.TelemetryCommand().setVerifyMessageCommand(verify);
    } else {
      return Promise.reject(new Error(`request code ${cmd.code} has no gRPC form`));
    }
    const stream = this.stream;
    if (!stream || this.closed) return Promise.reject(new Error(`client ${this.clientId} has no Telemetry stream open; it cannot be asked`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.awaiting.delete(nonce);
        reject(new RemotingTimeoutError(`gRPC client ${this.clientId}`, timeoutMs, cmd.code));
      }, timeoutMs);
      this.awaiting.set(nonce, { cmd, started: Date.now(), resolve: (r) => { clearTimeout(timer); resolve(r); } });
      try {
        stream.write(command);
      } catch (err) {
        this.awaiting.delete(nonce);
        clearTimeout(timer);
        reject(err as Error);
      }
    });
  }

  /**
   * The client's answer on Telemetry to a relayed request (upstream ClientActivity's
   * reportThreadStackTrace / reportVerifyMessageResult): a thread stack becomes a
   * ConsumerRunningInfo carrying it, a verify result a ConsumeMessageDirectlyResult. The Node
   * client answers a VerifyMessageCommand with the command itself and NOT_IMPLEMENTED; that
   * counts as its result too. Unknown or late nonces are ignored.
   */
  onReply(nonce: string, status: df.Status | undefined, stack?: string): void {
    const w = this.awaiting.get(nonce);
    if (!w) return;
    this.awaiting.delete(nonce);
    const code = status?.getCode() ?? D.Code.OK;
    if (w.cmd.code === RequestCode.GET_CONSUMER_RUNNING_INFO) {
      if (code !== D.Code.OK) {
        const rc = code === D.Code.VERIFY_FIFO_MESSAGE_UNSUPPORTED ? ResponseCode.NO_PERMISSION : ResponseCode.SYSTEM_ERROR;
        w.resolve(createResponse(w.cmd, rc, `the gRPC client ${this.clientId} gave no thread stack: status ${code} ${status?.getMessage() ?? ''}`.trim()));
        return;
      }
      const body = encodeConsumerRunningInfo({ properties: {}, subscriptionSet: [], mqTable: [], statusTable: new Map(), userConsumerInfo: {}, jstack: stack ?? '' });
      w.resolve(createResponse(w.cmd, ResponseCode.SUCCESS, undefined, { body }));
      return;
    }
    const result: ConsumeMessageDirectlyResult = { order: false, autoCommit: true, spentTimeMills: Date.now() - w.started, remark: 'from gRPC client' };
    if (code === D.Code.OK) result.consumeResult = CMResult.CR_SUCCESS;
    else if (code === D.Code.FAILED_TO_CONSUME_MESSAGE) result.consumeResult = CMResult.CR_LATER;
    else if (code === D.Code.MESSAGE_CORRUPTED) result.consumeResult = CMResult.CR_RETURN_NULL;
    else result.remark = `from gRPC client: status ${code} ${status?.getMessage() ?? ''}`.trim();
    w.resolve(createResponse(w.cmd, ResponseCode.SUCCESS, undefined, { body: encodeJson(result) }));
  }

  /** The broker closes silent channels: forget the client. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.stream?.end();
    } catch {
      // already gone
    }
    this.onClose(this);
  }

  /** Marks the channel closed without calling back (the client left). */
  markClosed(): void {
    this.closed = true;
  }

  // Connections are EventEmitters; the managers never listen on them, but keep the shape.
  on(): this {
    return this;
  }

  emit(): boolean {
    return false;
  }
}

interface Awaiting {
  cmd: RemotingCommand;
  started: number;
  resolve: (res: RemotingCommand) => void;
}
