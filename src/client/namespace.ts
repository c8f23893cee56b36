import { DLQ_GROUP_TOPIC_PREFIX, isSystemTopic, RETRY_GROUP_TOPIC_PREFIX, withoutRetryAndDLQ } from '../common/topic.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import type { MessageQueue } from './route.js';
import type { AllocateMessageQueueStrategy } from './rebalance/index.js';

/**
 * Client namespaces (upstream `NamespaceUtil` and `ClientConfig.withNamespace` /
 * `withoutNamespace` / `queueWithNamespace`): a client with namespace `NS` names every topic
 * and group `NS%<name>` on the wire, its retry topic `%RETRY%NS%<group>` and its DLQ
 * `%DLQ%NS%<group>`, so that clients of different namespaces share a cluster without seeing
 * each other's resources. System topics and groups are never wrapped.
 */
export const NAMESPACE_SEPARATOR = '%';

/** Upstream `MixAll.CID_RMQ_SYS_PREFIX`: groups under it are system groups. */
const SYS_CONSUMER_GROUP_PREFIX = 'CID_RMQ_SYS_';
/** Upstream `TopicValidator.RMQ_SYS_ROCKSDB_OFFSET_TOPIC`: in upstream's system topic set, not in ours. */
const ROCKSDB_OFFSET_TOPIC = 'CHECKPOINT_TOPIC';

/** Upstream `NamespaceUtil.isSystemResource`: a system topic or a `CID_RMQ_SYS_` group. */
export function isSystemResource(resource: string): boolean {
  return isSystemTopic(resource) || resource === ROCKSDB_OFFSET_TOPIC || resource.startsWith(SYS_CONSUMER_GROUP_PREFIX);
}

/** The `%RETRY%` / `%DLQ%` prefix of `resource`, or ''. */
function retryOrDLQPrefix(resource: string): string {
  if (resource.startsWith(RETRY_GROUP_TOPIC_PREFIX)) return RETRY_GROUP_TOPIC_PREFIX;
  if (resource.startsWith(DLQ_GROUP_TOPIC_PREFIX)) return DLQ_GROUP_TOPIC_PREFIX;
  return '';
}

/** Upstream `isAlreadyWithNamespace`: `resource` (past a retry/DLQ prefix) starts with `namespace%`. */
export function isAlreadyWithNamespace(resource: string, namespace: string | undefined): boolean {
  if (!namespace || !resource || isSystemResource(resource)) return false;
  return withoutRetryAndDLQ(resource).startsWith(namespace + NAMESPACE_SEPARATOR);
}

/**
 * Upstream `wrapNamespace`: `topic` → `NS%topic`, `%RETRY%group` → `%RETRY%NS%group`,
 * `%DLQ%group` → `%DLQ%NS%group`. A system resource, or one already in this namespace, is
 * returned as it is, so wrapping twice is harmless.
 */
export function wrapNamespace(namespace: string | undefined, resource: string): string {
  if (!namespace || !resource) return resource;
  if (isSystemResource(resource) || isAlreadyWithNamespace(resource, namespace)) return resource;
  return retryOrDLQPrefix(resource) + namespace + NAMESPACE_SEPARATOR + withoutRetryAndDLQ(resource);
}

/**
 * Upstream `withoutNamespace(resource, namespace)`: strips `namespace` from a resource of that
 * namespace (`NS%topic` → `topic`, `%RETRY%NS%group` → `%RETRY%group`); a resource of another
 * namespace, or of none, is returned as it is.
 */
export function withoutNamespace(resource: string, namespace: string | undefined): string {
  if (!namespace || !resource) return resource;
  if (!isAlreadyWithNamespace(resource, namespace)) return resource;
  return retryOrDLQPrefix(resource) + withoutRetryAndDLQ(resource).slice(namespace.length + 1);
}

/** Upstream `wrapNamespaceAndRetry`: the retry topic of `group` in `namespace`. */
export function wrapNamespaceAndRetry(namespace: string | undefined, group: string): string {
  return RETRY_GROUP_TOPIC_PREFIX + wrapNamespace(namespace, group);
}

/** Upstream `getNamespaceFromResource`: the part before the first `%` past a retry/DLQ prefix, or ''. */
export function getNamespaceFromResource(resource: string): string {
  if (!resource || isSystemResource(resource)) return '';
  const rest = withoutRetryAndDLQ(resource);
  const i = rest.indexOf(NAMESPACE_SEPARATOR);
  return i > 0 ? rest.slice(0, i) : '';
}

/** Upstream `queueWithNamespace`: the same queue with its topic wrapped (the queue itself when there is no namespace). */
export function queueWithNamespace(namespace: string | undefined, mq: MessageQueue): MessageQueue {
  if (!namespace) return mq;
  const topic = wrapNamespace(namespace, mq.topic);
  return topic === mq.topic ? mq : { ...mq, topic };
}

/** The same queue as the application names it: its topic without `namespace`. */
export function queueWithoutNamespace(namespace: string | undefined, mq: MessageQueue): MessageQueue {
  if (!namespace) return mq;
  const topic = withoutNamespace(mq.topic, namespace);
  return topic === mq.topic ? mq : { ...mq, topic };
}

/**
 * `strategy` as the application wrote it: it sees the group and the queues by their plain names
 * (queues of AllocateMessageQueueByConfig, say, are listed that way) and its choice is wrapped
 * again. Upstream hands strategies the wrapped names; for one that only counts and divides,
 * as the built-in ones do, the result is the same. The strategy itself when there is no namespace.
 */
export function namespacedStrategy(namespace: string | undefined, strategy: AllocateMessageQueueStrategy): AllocateMessageQueueStrategy {
  if (!namespace) return strategy;
  return {
    name: strategy.name,
    allocate: (consumerGroup, currentCID, mqAll, cidAll) =>
      strategy.allocate(withoutNamespace(consumerGroup, namespace), currentCID, mqAll.map((mq) => queueWithoutNamespace(namespace, mq)), cidAll)
        .map((mq) => queueWithNamespace(namespace, mq)),
  };
}

/**
 * A listener's consume context as the application sees it: `messageQueue` by the plain topic
 * (upstream's context carries the wrapped queue), while whatever the listener sets on it (delay
 * level, ackIndex, autoCommit…) lands on `ctx`, which the consume service reads back.
 */
export function contextWithoutNamespace<C extends { messageQueue: MessageQueue }>(ctx: C, namespace: string): C {
  const mq = queueWithoutNamespace(namespace, ctx.messageQueue);
  return new Proxy(ctx, { get: (target, key) => key === 'messageQueue' ? mq : Reflect.get(target, key) as unknown });
}

// Upstream takes any namespace; here one that could not be part of a topic name is refused
// when the client is built, rather than by the broker at the first send or subscribe. `%` is
// refused too: it separates the namespace from the name, and unwrapping cuts at the first one.
const NAMESPACE_PATTERN = /^[A-Za-z0-9_|-]+$/;

/**
 * The `namespace` option of a client, checked: undefined (and '') mean no namespace, as
 * upstream's `StringUtils.isEmpty` does. Throws ARGUMENT_ILLEGAL for a name with characters
 * a topic may not have.
 */
export function checkNamespace(namespace: string | undefined): string | undefined {
  if (namespace === undefined || namespace === '') return undefined;
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) {
    throw new MQClientError(`The specified namespace [${String(namespace)}] contains illegal characters, allowing only ^[|a-zA-Z0-9_-]+$ (no '%': it separates the namespace from the name)`,
      ClientErrorCode.ARGUMENT_ILLEGAL);
  }
  return namespace;
}
