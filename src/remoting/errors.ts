import { ResponseCodeName } from './codes.js';

/** Base class of Remoting-level failures. `code` is stable; `retriable` drives client retries. */
export class RemotingError extends Error {
  constructor(message: string, readonly code: string, readonly retriable: boolean) {
    super(message);
    this.name = new.target.name;
  }
}

export class RemotingConnectError extends RemotingError {
  constructor(addr: string, cause?: Error) {
    super(`connect to ${addr} failed${cause ? `: ${cause.message}` : ''}; is the server running and reachable at that address?`, 'RPC_CONNECT_FAILED', true);
  }
}

export class RemotingTimeoutError extends RemotingError {
  constructor(addr: string, timeoutMs: number, code: number) {
    super(`request code ${code} to ${addr} timed out after ${timeoutMs} ms; check the server's load and the network, or raise the timeout`, 'RPC_TIME_OUT', true);
  }
}

export class RemotingSendRequestError extends RemotingError {
  constructor(addr: string, reason: string) {
    super(`request to ${addr} failed: ${reason}`, 'RPC_SEND_TO_CHANNEL_FAILED', true);
  }
}

/** A response with a non-success code, surfaced to callers that expected success. */
export class MQBrokerError extends Error {
  readonly code = 'MQ_BROKER_ERROR';
  constructor(readonly responseCode: number, readonly remark: string | undefined, readonly addr: string, readonly retriable = false) {
    super(`${ResponseCodeName[responseCode] ?? 'CODE_' + responseCode} (${responseCode}) from ${addr}${remark ? `: ${remark}` : ''}`);
    this.name = 'MQBrokerError';
  }
}
