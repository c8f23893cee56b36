import { MQBrokerError, RemotingError, ResponseCode, type RemotingCommand } from '../remoting/index.js';

/** 5.x GO_AWAY: the broker is shutting down; the request may go elsewhere. Not in the remoting table. */
export const GO_AWAY = 1500;

/**
 * Broker response codes after which a producer tries again on another broker, as upstream's
 * `DefaultMQProducer.retryResponseCodes` (plus 5.x GO_AWAY).
 */
export const RETRIABLE_RESPONSE_CODES: ReadonlySet<number> = new Set<number>([
  ResponseCode.TOPIC_NOT_EXIST,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.SYSTEM_BUSY,
  ResponseCode.NO_PERMISSION,
  ResponseCode.NO_BUYER_ID,
  ResponseCode.NOT_IN_CURRENT_UNIT,
  GO_AWAY,
]);

export function isRetriableResponseCode(code: number): boolean {
  return RETRIABLE_RESPONSE_CODES.has(code);
}

/** The error for a response whose code the caller did not expect. */
export function brokerError(res: RemotingCommand, addr: string): MQBrokerError {
  return new MQBrokerError(res.code, res.remark, addr, isRetriableResponseCode(res.code));
}

/** Stable codes of client-side failures (no broker answer involved). */
export const ClientErrorCode = {
  NOT_STARTED: 'CLIENT_NOT_STARTED',
  NO_NAMESRV: 'NO_NAMESRV_ADDRESS',
  NO_ROUTE: 'NO_ROUTE_INFO',
  NO_BROKER_ADDRESS: 'NO_BROKER_ADDRESS',
  MESSAGE_ILLEGAL: 'MESSAGE_ILLEGAL',
  SEND_TIMEOUT: 'SEND_TIMEOUT',
  BAD_RESPONSE: 'BAD_RESPONSE',
  ARGUMENT_ILLEGAL: 'ARGUMENT_ILLEGAL',
  /** What was asked for does not exist (message, consumer group online, …). */
  NOT_FOUND: 'NOT_FOUND',
  /** A request (request-reply) got no reply within its timeout. */
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  /** A request (request-reply) could not be sent. */
  REQUEST_FAILED: 'REQUEST_FAILED',
  /** A reply cannot be made for that message (it has no CLUSTER property). */
  CREATE_REPLY_MESSAGE: 'CREATE_REPLY_MESSAGE_FAILED',
} as const;

export type ClientErrorCodeValue = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** A failure detected by the client itself: bad argument, no route, malformed response, total timeout. */
export class MQClientError extends Error {
  constructor(message: string, readonly code: ClientErrorCodeValue, readonly retriable = false, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MQClientError';
  }
}

/**
 * Whether an operation that failed with `err` may be tried again (on another broker for sends):
 * connection-level Remoting failures and the broker codes in RETRIABLE_RESPONSE_CODES.
 */
export function isRetriable(err: unknown): boolean {
  if (err instanceof RemotingError || err instanceof MQBrokerError || err instanceof MQClientError) return err.retriable;
  return false;
}
