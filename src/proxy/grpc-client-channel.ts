import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import { decodeRecord } from '../common/message-record.js';
import { RequestCode } from '../remoting/codes.js';
import type { RemotingCommand } from '../remoting/command.js';
import type { Connection } from '../remoting/connection.js';
import { toGrpcMessage } from './message-converter.js';
import { D, S, type df, type sv } from './proto.js';
import { encodeTransactionId } from './transaction-id.js';

export type TelemetryStream = ServerDuplexStream<sv.TelemetryCommand, sv.TelemetryCommand>;

/**
 * A gRPC client as the broker sees it (upstream `GrpcClientChannel`): registered with the
 * producer and consumer managers like a Remoting connection, so broker-initiated requests
 * reach it — CHECK_TRANSACTION_STATE becomes a RecoverOrphanedTransactionCommand on the
 * client's Telemetry stream. Other broker-to-client requests have no gRPC form and are dropped.
 */
export class GrpcClientChannel {
  /** Free-form state, as on a Remoting connection. */
  readonly attrs: Record<string, unknown> = { language: 'HTTP', version: 0 };
  readonly localAddress = '';
  private closed = false;
  stream?: TelemetryStream;

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
      const message = toGrpcMessage(ext, { topic: f.topic ?? ext.topic });
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
