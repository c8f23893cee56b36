/**
 * The `apache.rocketmq.v2` service definition and message classes, taken from the generated
 * google-protobuf code that `rocketmq-client-nodejs` ships (see protocol/grpc-v2.md §1).
 *
 * In native ESM the generated `*_pb.js` files only work as default imports (they export through
 * `goog.object.extend`), so values come from the default import and types from a type-only
 * namespace import of the same file. Responses must be built from these very classes: the
 * generated serializers check `instanceof` against them.
 */
import ServicePb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import DefinitionPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import TimestampPb from 'google-protobuf/google/protobuf/timestamp_pb.js';
import DurationPb from 'google-protobuf/google/protobuf/duration_pb.js';

export { MessagingServiceService } from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_grpc_pb.js';
export type { IMessagingServiceServer } from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_grpc_pb.js';
export type * as sv from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
export type * as df from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
export type { Timestamp } from 'google-protobuf/google/protobuf/timestamp_pb.js';
export type { Duration } from 'google-protobuf/google/protobuf/duration_pb.js';

/** Request, response and command classes (service.proto). */
export const S = ServicePb;
/** Domain classes and enums (definition.proto): Code, Resource, MessageQueue, Settings, … */
export const D = DefinitionPb;
export const Code = DefinitionPb.Code;
export type CodeValue = (typeof DefinitionPb.Code)[keyof typeof DefinitionPb.Code];
export const TimestampClass = TimestampPb.Timestamp;
export const DurationClass = DurationPb.Duration;

/** Milliseconds of a protobuf Duration (0 when absent). */
export function durationMs(d: { getSeconds(): number; getNanos(): number } | undefined): number {
  if (!d) return 0;
  return d.getSeconds() * 1000 + Math.floor(d.getNanos() / 1e6);
}

/** A protobuf Duration of `ms` milliseconds. */
export function durationOf(ms: number): InstanceType<typeof DurationPb.Duration> {
  const d = new DurationPb.Duration();
  d.setSeconds(Math.floor(ms / 1000));
  d.setNanos((ms % 1000) * 1e6);
  return d;
}

/** A protobuf Timestamp of epoch milliseconds. */
export function timestampOf(ms: number): InstanceType<typeof TimestampPb.Timestamp> {
  const t = new TimestampPb.Timestamp();
  t.setSeconds(Math.floor(ms / 1000));
  t.setNanos((ms % 1000) * 1e6);
  return t;
}

/** Epoch milliseconds of a protobuf Timestamp. */
export function timestampMs(t: { getSeconds(): number; getNanos(): number } | undefined): number {
  if (!t) return 0;
  return t.getSeconds() * 1000 + Math.floor(t.getNanos() / 1e6);
}

/** The package of every message of service.proto and definition.proto. */
const PROTO_PACKAGE = 'apache.rocketmq.v2';

/**
 * Full protobuf names of the top-level message classes, by class. The generated JS carries no
 * descriptor, and the `S` exports are exactly the package's top-level messages (plus enums,
 * which are no functions), so the name is the package and the export name.
 */
const FULL_NAMES: ReadonlyMap<unknown, string> = new Map(
  Object.entries(ServicePb).filter(([, v]) => typeof v === 'function').map(([k, v]) => [v, `${PROTO_PACKAGE}.${k}`]),
);

/**
 * A request's full protobuf name, e.g. `apache.rocketmq.v2.QueryRouteRequest`: what upstream
 * takes as a gRPC request's rpcCode (`getDescriptorForType().getFullName()`), and so the name
 * `authenticationWhitelist` / `authorizationWhitelist` list it by.
 */
export function protoFullName(message: unknown): string | undefined {
  return message === null || typeof message !== 'object' ? undefined : FULL_NAMES.get(message.constructor);
}

/** The full name of TelemetryCommand, the message a Telemetry stream carries. */
export const TELEMETRY_COMMAND_NAME = `${PROTO_PACKAGE}.TelemetryCommand`;
