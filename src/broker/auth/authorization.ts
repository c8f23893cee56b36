import { RequestCode } from '../../remoting/codes.js';
import type { RemotingCommand } from '../../remoting/command.js';
import { SessionCredentialsKey } from '../../remoting/acl-signature.js';
import { isRetryTopic } from '../../common/topic.js';
import { clientBodyObject, objectsOf } from '../client/heartbeat.js';
import {
  Action, AuthError, Decision, PolicyType, ResourcePattern, ResourceType, UserStatus, UserType, clusterResource,
  entryMatchesActions, entryMatchesSource, groupResource, resourceKey, resourceMatches, topicResource,
  userSubject, type ActionValue, type Acl, type PolicyEntry, type Resource, type User,
} from './model.js';

/**
 * Where the evaluator finds a user and its ACL: the broker's AuthMetadataStore, or the user and
 * ACL the cluster-mode proxy fetched from a broker for one request (upstream's evaluator reads
 * either through its AuthenticationMetadataProvider / AuthorizationMetadataProvider).
 */
export interface AuthMetadataLookup {
  getUser(username: string): User | undefined;
  aclOf(subject: string): Acl | undefined;
}

/** One resource a request touches and the actions it needs there (upstream `DefaultAuthorizationContext`). */
export interface AuthorizationContext {
  /** The user name (AccessKey) of the request, if it has one. */
  username?: string;
  resource: Resource;
  actions: ActionValue[];
  sourceIp?: string;
  rpcCode: string;
}

type FieldType = typeof ResourceType.TOPIC | typeof ResourceType.GROUP | typeof ResourceType.CLUSTER;

/** What a request code needs, read from its header (upstream's `@RocketMQAction` / `@RocketMQResource` on the header classes). */
interface CodeRule {
  actions: ActionValue[];
  /** Header fields naming resources, with an optional splitter. */
  fields?: Array<{ key: string; type: FieldType; splitter?: string }>;
  /** Class-level resource CLUSTER: the broker's cluster, when no field named a resource. */
  cluster?: true;
}

const T = ResourceType.TOPIC;
const G = ResourceType.GROUP;
const f = (key: string, type: FieldType, splitter?: string): { key: string; type: FieldType; splitter?: string } => ({ key, type, ...(splitter ? { splitter } : {}) });
const GET = [Action.GET];
const SUB = [Action.SUB];
const UPDATE = [Action.UPDATE];

/**
 * Request codes checked by their header, as upstream's `RequestHeaderRegistry` finds them. A
 * code without a rule (or a rule that names no resource, e.g. GET_ALL_TOPIC_CONFIG) is not
 * checked, as upstream.
 */
const RULES: ReadonlyMap<number, CodeRule> = new Map<number, CodeRule>([
  [RequestCode.ACK_MESSAGE, { actions: SUB, fields: [f('consumerGroup', G), f('topic', T)] }],
  [RequestCode.CHANGE_MESSAGE_INVISIBLETIME, { actions: SUB, fields: [f('consumerGroup', G), f('topic', T)] }],
  [RequestCode.CLONE_GROUP_OFFSET, { actions: UPDATE, fields: [f('destGroup', G), f('topic', T)] }],
  [RequestCode.CONSUME_MESSAGE_DIRECTLY, { actions: SUB, fields: [f('consumerGroup', G), f('topic', T)] }],
  [RequestCode.UPDATE_AND_CREATE_TOPIC, { actions: [Action.CREATE], fields: [f('topic', T)] }],
  [RequestCode.DELETE_SUBSCRIPTIONGROUP, { actions: [Action.DELETE], fields: [f('groupName', G)] }],
  [RequestCode.DELETE_TOPIC_IN_BROKER, { actions: [Action.DELETE], fields: [f('topic', T)] }],
  [RequestCode.GET_ALL_PRODUCER_INFO, { actions: GET, cluster: true }],
  [RequestCode.GET_BROKER_CONSUME_STATS, { actions: GET, cluster: true }],
  [RequestCode.GET_CONSUME_STATS, { actions: GET, fields: [f('consumerGroup', G), f('topic', T), f('topicList', T, ';')] }],
  [RequestCode.GET_CONSUMER_CONNECTION_LIST, { actions: GET, fields: [f('consumerGroup', G)] }],
  [RequestCode.GET_CONSUMER_RUNNING_INFO, { actions: GET, fields: [f('consumerGroup', G)] }],
  [RequestCode.INVOKE_BROKER_TO_GET_CONSUMER_STATUS, { actions: GET, fields: [f('topic', T), f('group', G)] }],
  [RequestCode.GET_EARLIEST_MSG_STORETIME, { actions: GET, fields: [f('topic', T)] }],
  [RequestCode.GET_MAX_OFFSET, { actions: GET, fields: [f('topic', T)] }],
  [RequestCode.GET_MIN_OFFSET, { actions: GET, fields: [f('topic', T)] }],
  [RequestCode.GET_PRODUCER_CONNECTION_LIST, { actions: GET, cluster: true }],
  [RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG, { actions: GET, fields: [f('group', G)] }],
  [RequestCode.GET_TOPIC_CONFIG, { actions: GET, fields: [f('topic', T)] }],
  [RequestCode.GET_TOPIC_STATS_INFO, { actions: GET, fields: [f('topic', T)] }],
  [RequestCode.NOTIFICATION, { actions: SUB, fields: [f('consumerGroup', G), f('topic', T)] }],
  [RequestCode.PEEK_MESSAGE, { actions: SUB, fields: [f('topic', T), f('consumerGroup', G)] }],
  [RequestCode.POLLING_INFO, { actions: GET, fields: [f('consumerGroup', G), f('topic', T)] }],
  [RequestCode.POP_MESSAGE, { actions: SUB, fields: [f('consumerGroup', G), f('topic', T)] }],
  [RequestCode.QUERY_CONSUME_QUEUE, { actions: GET, fields: [f('topic', T), f('consumerGroup', G)] }],
  [RequestCode.QUERY_CONSUME_TIME_SPAN, { actions: GET, fields: [f('topic', T), f('group', G)] }],
  [RequestCode.QUERY_CORRECTION_OFFSET, { actions: GET, fields: [f('filterGroups', G, ','), f('compareGroup', G), f('topic', T)] }],
  [RequestCode.QUERY_SUBSCRIPTION_BY_CONSUMER, { actions: GET, fields: [f('group', G), f('topic', T)] }],
  [RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { actions: GET, fields: [f('topic', T)] }],
  [RequestCode.QUERY_TOPICS_BY_CONSUMER, { actions: GET, fields: [f('group', G)] }],
  [RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { actions: UPDATE, fields: [f('group', G), f('topic', T)] }],
  [RequestCode.RESUME_CHECK_HALF_MESSAGE, { actions: UPDATE, fields: [f('topic', T)] }],
  [RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { actions: GET, fields: [f('topic', T)] }],
  [RequestCode.UPDATE_AND_GET_GROUP_FORBIDDEN, { actions: UPDATE, fields: [f('group', G), f('topic', T)] }],
  [RequestCode.VIEW_BROKER_STATS_DATA, { actions: GET, cluster: true }],
  [RequestCode.VIEW_MESSAGE_BY_ID, { actions: GET, fields: [f('topic', T)] }],
  [RequestCode.AUTH_CREATE_USER, { actions: UPDATE, cluster: true }],
  [RequestCode.AUTH_UPDATE_USER, { actions: UPDATE, cluster: true }],
  [RequestCode.AUTH_DELETE_USER, { actions: UPDATE, cluster: true }],
  [RequestCode.AUTH_GET_USER, { actions: GET, cluster: true }],
  [RequestCode.AUTH_LIST_USER, { actions: GET, cluster: true }],
  [RequestCode.AUTH_CREATE_ACL, { actions: UPDATE, cluster: true }],
  [RequestCode.AUTH_UPDATE_ACL, { actions: UPDATE, cluster: true }],
  [RequestCode.AUTH_DELETE_ACL, { actions: UPDATE, cluster: true }],
  [RequestCode.AUTH_GET_ACL, { actions: GET, cluster: true }],
  [RequestCode.AUTH_LIST_ACL, { actions: GET, cluster: true }],
]);

/**
 * The resources and actions a Remoting request needs (upstream `DefaultAuthorizationContextBuilder.build`
 * for a `RemotingCommand`): the send, pull, offset, heartbeat and lock codes are special cases
 * (a retry topic is its group, which needs Sub); the rest follow the header rules above.
 */
export function remotingAuthorizationContexts(req: RemotingCommand, sourceIp: string | undefined, clusterName: string): AuthorizationContext[] {
  const fields = req.extFields;
  const out: AuthorizationContext[] = [];
  if (!fields || Object.keys(fields).length === 0) return out;
  const username = fields[SessionCredentialsKey.ACCESS_KEY];
  const rpcCode = String(req.code);
  const add = (resource: Resource, actions: ActionValue[]): void => {
    out.push({ ...(username !== undefined ? { username } : {}), resource, actions, ...(sourceIp ? { sourceIp } : {}), rpcCode });
  };
  const topicOrRetryGroup = (topic: string | undefined, group: string | undefined, pub: ActionValue[]): void => {
    if (isRetryTopic(topic ?? '')) add(groupResource(group && group.trim() !== '' ? group : topic!), SUB);
    else add(topicResource(topic ?? ''), pub);
  };
  try {
    switch (req.code) {
      case RequestCode.SEND_MESSAGE:
        topicOrRetryGroup(fields.topic, fields.group, [Action.PUB]);
        break;
      case RequestCode.SEND_MESSAGE_V2:
      case RequestCode.SEND_BATCH_MESSAGE:
        topicOrRetryGroup(fields.b, fields.a, [Action.PUB]);
        break;
      case RequestCode.RECALL_MESSAGE:
        add(topicResource(fields.topic ?? ''), [Action.PUB]);
        break;
      case RequestCode.END_TRANSACTION:
        if (fields.topic && fields.topic.trim() !== '') add(topicResource(fields.topic), [Action.PUB]);
        break;
      case RequestCode.CONSUMER_SEND_MSG_BACK:
        add(groupResource(fields.group ?? ''), SUB);
        break;
      // Upstream registers no header for LITE_PULL_MESSAGE (so it goes unchecked there); it reads
      // the same queues as PULL_MESSAGE, so it is checked the same way here.
      case RequestCode.PULL_MESSAGE:
      case RequestCode.LITE_PULL_MESSAGE:
        if (!isRetryTopic(fields.topic ?? '')) add(topicResource(fields.topic ?? ''), SUB);
        add(groupResource(fields.consumerGroup ?? ''), SUB);
        break;
      case RequestCode.QUERY_MESSAGE:
        add(topicResource(fields.topic ?? ''), [Action.SUB, Action.GET]);
        break;
      case RequestCode.HEART_BEAT: {
        const data = clientBodyObject(req.body, 'HEART_BEAT');
        for (const c of objectsOf(data.consumerDataSet)) {
          add(groupResource(String(c.groupName ?? '')), SUB);
          for (const s of objectsOf(c.subscriptionDataSet)) {
            const topic = String(s.topic ?? '');
            if (!isRetryTopic(topic)) add(topicResource(topic), SUB);
          }
        }
        break;
      }
      case RequestCode.UNREGISTER_CLIENT:
        if (fields.consumerGroup && fields.consumerGroup.trim() !== '') add(groupResource(fields.consumerGroup), SUB);
        break;
      case RequestCode.GET_CONSUMER_LIST_BY_GROUP:
        add(groupResource(fields.consumerGroup ?? ''), [Action.SUB, Action.GET]);
        break;
      case RequestCode.QUERY_CONSUMER_OFFSET:
        if (!isRetryTopic(fields.topic ?? '')) add(topicResource(fields.topic ?? ''), [Action.SUB, Action.GET]);
        add(groupResource(fields.consumerGroup ?? ''), [Action.SUB, Action.GET]);
        break;
      case RequestCode.UPDATE_CONSUMER_OFFSET:
        if (!isRetryTopic(fields.topic ?? '')) add(topicResource(fields.topic ?? ''), [Action.SUB, Action.UPDATE]);
        add(groupResource(fields.consumerGroup ?? ''), [Action.SUB, Action.UPDATE]);
        break;
      case RequestCode.LOCK_BATCH_MQ:
      case RequestCode.UNLOCK_BATCH_MQ: {
        const body = clientBodyObject(req.body, req.code === RequestCode.LOCK_BATCH_MQ ? 'LOCK_BATCH_MQ' : 'UNLOCK_BATCH_MQ');
        add(groupResource(String(body.consumerGroup ?? '')), SUB);
        for (const mq of objectsOf(body.mqSet)) {
          const topic = String(mq.topic ?? '');
          if (!isRetryTopic(topic)) add(topicResource(topic), SUB);
        }
        break;
      }
      default: {
        const rule = RULES.get(req.code);
        if (!rule) break;
        for (const fld of rule.fields ?? []) {
          const value = fields[fld.key];
          if (value === undefined) continue;
          const values = fld.splitter ? value.split(fld.splitter).filter((v) => v !== '') : [value];
          for (const v of values) {
            if (fld.type === T && isRetryTopic(v)) add(groupResource(v), rule.actions);
            else add({ type: fld.type, name: v, pattern: ResourcePattern.LITERAL }, rule.actions);
          }
        }
        if (out.length === 0 && rule.cluster) add(clusterResource(clusterName), rule.actions);
      }
    }
  } catch (err) {
    throw new AuthError(`parse authorization context error: ${(err as Error).message}`);
  }
  return out;
}

/** Upstream `AclAuthorizationHandler.comparePolicyEntries`: the most specific entry first, Deny before Allow. */
function comparePolicyEntries(a: PolicyEntry, b: PolicyEntry): number {
  const r1 = a.resource;
  const r2 = b.resource;
  let c = 0;
  if (r1.type !== r2.type) {
    if (r1.type === ResourceType.ANY) c = 1;
    if (r2.type === ResourceType.ANY) c = -1;
  } else if (r1.pattern === r2.pattern) {
    if (r1.pattern === ResourcePattern.PREFIXED) c = -Math.sign((r1.name ?? '').length - (r2.name ?? '').length);
  } else if (r1.pattern === ResourcePattern.LITERAL) c = -1;
  else if (r2.pattern === ResourcePattern.LITERAL) c = 1;
  else if (r1.pattern === ResourcePattern.PREFIXED) c = -1;
  else if (r2.pattern === ResourcePattern.PREFIXED) c = 1;
  if (c !== 0) return c;
  return a.decision === Decision.DENY ? 1 : b.decision === Decision.DENY ? -1 : 0;
}

/** The entry that decides `ctx` in `acl` (upstream `matchPolicyEntries`): Custom policies first, else Default. */
function matchPolicyEntry(ctx: AuthorizationContext, acl: Acl): PolicyEntry | undefined {
  const matching = (type: string): PolicyEntry[] => (acl.policies.find((p) => p.policyType === type)?.entries ?? [])
    .filter((e) => resourceMatches(e.resource, ctx.resource) && entryMatchesActions(e, ctx.actions) && entryMatchesSource(e, ctx.sourceIp));
  let entries = matching(PolicyType.CUSTOM);
  if (entries.length === 0) entries = matching(PolicyType.DEFAULT);
  if (entries.length === 0) return undefined;
  return entries.sort(comparePolicyEntries)[0];
}

/**
 * Checks one context (upstream `UserAuthorizationHandler` then `AclAuthorizationHandler`): a
 * super user passes; otherwise the best matching entry of the user's ACL must allow it.
 * Throws AuthError with upstream's message.
 */
export function authorize(store: AuthMetadataLookup, ctx: AuthorizationContext): void {
  if (ctx.username === undefined) {
    // Upstream fails on the missing subject with this generic message.
    throw new AuthError('Authorization failed. Please verify your access rights and try again.');
  }
  const user = store.getUser(ctx.username);
  if (!user) throw new AuthError(`User:${ctx.username} not found.`);
  if (user.userStatus === UserStatus.DISABLE) throw new AuthError(`User:${ctx.username} is disabled.`);
  if (user.userType === UserType.SUPER) return;
  const deny = (detail: string): never => {
    throw new AuthError(`${userSubject(ctx.username!)} has no permission to access ${resourceKey(ctx.resource)} from ${ctx.sourceIp ?? 'null'}, ${detail}`);
  };
  const acl = store.aclOf(userSubject(ctx.username));
  if (!acl) deny('no matched policies.');
  const entry = matchPolicyEntry(ctx, acl!);
  if (!entry) deny('no matched policies.');
  if (entry!.decision === Decision.DENY) deny('the decision is deny.');
}
