import { BlockList, isIP } from 'node:net';
import { withoutRetryAndDLQ } from '../../common/topic.js';
import type { AclInfo, PolicyEntryInfo, UserInfo } from '../../common/acl-info.js';

export type { AclInfo, PolicyEntryInfo, PolicyInfo, UserInfo } from '../../common/acl-info.js';

/**
 * The ACL 2.0 data model (upstream `auth` module: `User`, `Acl`, `Policy`, `PolicyEntry`,
 * `Resource`, `Environment` and their enums), with the JSON bodies of the AUTH_* admin codes
 * (upstream `UserInfo` and `AclInfo`) and their conversions (upstream broker `UserConverter`,
 * `AclConverter`). Names are upstream's wire names ("Super", "Topic:", "Pub", "Allow", …).
 */

/** An error the AUTH_* codes and the auth pipeline answer with NO_PERMISSION (upstream `AuthenticationException` / `AuthorizationException`). */
export class AuthError extends Error {
  readonly code = 'AUTH_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Upstream `Action` names. `Any` is only what a request asks ("any action will do"), never granted. */
export const Action = {
  ALL: 'All',
  ANY: 'Any',
  PUB: 'Pub',
  SUB: 'Sub',
  CREATE: 'Create',
  UPDATE: 'Update',
  DELETE: 'Delete',
  GET: 'Get',
  LIST: 'List',
} as const;
export type ActionValue = (typeof Action)[keyof typeof Action];

/** Upstream `ResourceType` names. */
export const ResourceType = { ANY: 'Any', CLUSTER: 'Cluster', NAMESPACE: 'Namespace', TOPIC: 'Topic', GROUP: 'Group' } as const;
export type ResourceTypeValue = (typeof ResourceType)[keyof typeof ResourceType];

export const ResourcePattern = { ANY: 'ANY', LITERAL: 'LITERAL', PREFIXED: 'PREFIXED' } as const;
export type ResourcePatternValue = (typeof ResourcePattern)[keyof typeof ResourcePattern];

export const Decision = { ALLOW: 'Allow', DENY: 'Deny' } as const;
export type DecisionValue = (typeof Decision)[keyof typeof Decision];

export const PolicyType = { CUSTOM: 'Custom', DEFAULT: 'Default' } as const;
export type PolicyTypeValue = (typeof PolicyType)[keyof typeof PolicyType];

export const UserType = { SUPER: 'Super', NORMAL: 'Normal' } as const;
export type UserTypeValue = (typeof UserType)[keyof typeof UserType];

/** Upstream `UserStatus` names are lower case. */
export const UserStatus = { ENABLE: 'enable', DISABLE: 'disable' } as const;
export type UserStatusValue = (typeof UserStatus)[keyof typeof UserStatus];

/** Upstream `getByName`: case-insensitive lookup of an enum's name. */
function byName<T extends string>(table: Record<string, T>, name: string | undefined): T | undefined {
  if (name === undefined || name === null) return undefined;
  const n = String(name).trim().toLowerCase();
  return Object.values(table).find((v) => v.toLowerCase() === n);
}

export const actionByName = (n: string | undefined): ActionValue | undefined => byName(Action, n);
export const decisionByName = (n: string | undefined): DecisionValue | undefined => byName(Decision, n);
export const policyTypeByName = (n: string | undefined): PolicyTypeValue | undefined => byName(PolicyType, n);
export const userTypeByName = (n: string | undefined): UserTypeValue | undefined => byName(UserType, n);
export const userStatusByName = (n: string | undefined): UserStatusValue | undefined => byName(UserStatus, n);

export interface User {
  username: string;
  password: string;
  userType: UserTypeValue;
  userStatus: UserStatusValue;
}

/** The subject key of a user: `User:<name>` (upstream `Subject.getSubjectKey`). */
export function userSubject(username: string): string {
  return `User:${username}`;
}

/** The user name of a subject key, or undefined when it names no user (upstream `Subject.of`). */
export function subjectUsername(subjectKey: string | undefined): string | undefined {
  if (!subjectKey) return undefined;
  const i = subjectKey.indexOf(':');
  if (i < 0 || subjectKey.slice(0, i).toLowerCase() !== 'user') return undefined;
  return subjectKey.slice(i + 1);
}

export interface Resource {
  type: ResourceTypeValue;
  /** Undefined for ANY; the prefix for PREFIXED. */
  name?: string;
  pattern: ResourcePatternValue;
}

export const topicResource = (name: string): Resource => ({ type: ResourceType.TOPIC, name, pattern: ResourcePattern.LITERAL });
/** As upstream `Resource.ofGroup`: a retry topic names its group. */
export const groupResource = (name: string): Resource => ({ type: ResourceType.GROUP, name: withoutRetryAndDLQ(name), pattern: ResourcePattern.LITERAL });
export const clusterResource = (name: string): Resource => ({ type: ResourceType.CLUSTER, name, pattern: ResourcePattern.LITERAL });

/**
 * A resource key (upstream `Resource.of(String)`): `*` is anything, `Topic:*` any topic,
 * `Topic:order-*` a prefix, `Topic:order` one topic. Undefined when the type is unknown.
 */
export function parseResource(key: string | undefined): Resource | undefined {
  if (key === undefined || key.trim() === '') return undefined;
  if (key === '*') return { type: ResourceType.ANY, pattern: ResourcePattern.ANY };
  const i = key.indexOf(':');
  const type = byName(ResourceType, i < 0 ? key : key.slice(0, i));
  if (type === undefined) return undefined;
  const name = i < 0 ? '' : key.slice(i + 1);
  if (name === '*') return { type, pattern: ResourcePattern.ANY };
  if (name.endsWith('*')) return { type, name: name.slice(0, name.indexOf('*')), pattern: ResourcePattern.PREFIXED };
  return { type, name, pattern: ResourcePattern.LITERAL };
}

/** Upstream `Resource.getResourceKey`. */
export function resourceKey(r: Resource): string {
  if (r.type === ResourceType.ANY) return '*';
  if (r.pattern === ResourcePattern.ANY) return `${r.type}:*`;
  if (r.pattern === ResourcePattern.PREFIXED) return `${r.type}:${r.name ?? ''}*`;
  return `${r.type}:${r.name ?? ''}`;
}

function sameResource(a: Resource, b: Resource): boolean {
  return a.type === b.type && a.pattern === b.pattern && (a.name ?? '') === (b.name ?? '');
}

/** Whether the granted resource `granted` covers the requested `r` (upstream `Resource.isMatch`). */
export function resourceMatches(granted: Resource, r: Resource): boolean {
  if (granted.type === ResourceType.ANY) return true;
  if (granted.type !== r.type) return false;
  if (granted.pattern === ResourcePattern.ANY) return true;
  if (granted.pattern === ResourcePattern.LITERAL) return r.name === granted.name;
  return r.name !== undefined && r.name.startsWith(granted.name ?? '');
}

export interface PolicyEntry {
  resource: Resource;
  actions: ActionValue[];
  /** Source IPs or CIDRs the entry applies to; none = from anywhere (upstream `Environment`). */
  sourceIps?: string[];
  decision: DecisionValue;
}

export interface Policy {
  policyType: PolicyTypeValue;
  entries: PolicyEntry[];
}

export interface Acl {
  /** Subject key, `User:<name>`. */
  subject: string;
  policies: Policy[];
}

/** Upstream `PolicyEntry.isMatchAction`: any requested action granted, `All` grants all, a request for `Any` takes any grant. */
export function entryMatchesActions(entry: PolicyEntry, actions: readonly ActionValue[]): boolean {
  if (entry.actions.length === 0) return false;
  if (actions.includes(Action.ANY)) return true;
  return actions.some((a) => entry.actions.includes(a) || entry.actions.includes(Action.ALL));
}

/** Upstream `IPAddressUtils.isValidIPOrCidr`. */
export function isValidIpOrCidr(v: string): boolean {
  if (isIP(v) !== 0) return true;
  const parts = v.split('/');
  if (parts.length !== 2 || !/^\d{1,3}$/.test(parts[1]!)) return false;
  const family = isIP(parts[0]!);
  const prefix = Number(parts[1]);
  return (family === 4 && prefix <= 32) || (family === 6 && prefix <= 128);
}

/** Upstream `IPAddressUtils.isIPInRange`: an IP equals a plain address, or lies inside a CIDR. */
export function ipInRange(ip: string, range: string): boolean {
  const parts = range.split('/');
  if (parts.length === 1) return ip === range;
  const family = isIP(parts[0]!);
  const ipFamily = isIP(ip);
  if (family === 0 || ipFamily !== family) return false;
  const list = new BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  list.addSubnet(parts[0]!, Number(parts[1]), type);
  return list.check(ip, type);
}

/** Upstream `PolicyEntry.isMatchEnvironment`. */
export function entryMatchesSource(entry: PolicyEntry, sourceIp: string | undefined): boolean {
  if (!entry.sourceIps || entry.sourceIps.length === 0) return true;
  if (!sourceIp) return false;
  return entry.sourceIps.some((r) => ipInRange(sourceIp, r));
}

/** Upstream `Acl.updatePolicy`: entries of a policy type replace those of the same resource, others are added. */
export function mergeAcl(old: Acl, policies: readonly Policy[]): void {
  for (const p of policies) {
    const cur = old.policies.find((x) => x.policyType === p.policyType);
    if (!cur) {
      old.policies.push({ policyType: p.policyType, entries: [...p.entries] });
      continue;
    }
    for (const e of p.entries) {
      const i = cur.entries.findIndex((x) => sameResource(x.resource, e.resource));
      if (i < 0) cur.entries.push(e);
      else cur.entries[i] = { ...cur.entries[i]!, actions: e.actions, sourceIps: e.sourceIps, decision: e.decision };
    }
  }
}

/** Upstream `Acl.deletePolicy`: drops the entry of `resource`, and the policy once it is empty. */
export function deleteAclEntry(acl: Acl, policyType: PolicyTypeValue, resource: Resource): void {
  const p = acl.policies.find((x) => x.policyType === policyType);
  if (!p) return;
  p.entries = p.entries.filter((e) => !sameResource(e.resource, resource));
  if (p.entries.length === 0) acl.policies = acl.policies.filter((x) => x !== p);
}

// ---- wire bodies (upstream UserInfo / AclInfo, in common/acl-info.ts) ----

export function userToInfo(u: User): UserInfo {
  return { username: u.username, password: u.password, userType: u.userType, userStatus: u.userStatus };
}

/**
 * A UserInfo body as a User (upstream `UserConverter.convertUser`), for the cluster-mode proxy
 * that reads users from a broker: undefined without a name or password; an unknown type or
 * status falls back to Normal / enable, as upstream's converter leaves them unset.
 */
export function userFromInfo(info: UserInfo): User | undefined {
  if (!info.username || !info.password) return undefined;
  return {
    username: info.username, password: info.password,
    userType: userTypeByName(info.userType) ?? UserType.NORMAL,
    userStatus: userStatusByName(info.userStatus) ?? UserStatus.ENABLE,
  };
}

export function aclToInfo(acl: Acl): AclInfo {
  return {
    subject: acl.subject,
    policies: acl.policies.map((p) => ({
      policyType: p.policyType,
      entries: p.entries.map((e) => ({
        resource: resourceKey(e.resource),
        actions: [...e.actions],
        ...(e.sourceIps && e.sourceIps.length > 0 ? { sourceIps: [...e.sourceIps] } : {}),
        decision: e.decision,
      })),
    })),
  };
}

/**
 * An AclInfo body as an Acl (upstream `AclConverter.convertAcl`), validated as upstream's
 * `AuthorizationMetadataManagerImpl.validate` does. Where upstream silently drops an action or
 * resource it does not know (and then fails with "The actions is empty."), this names it.
 */
export function aclFromInfo(info: AclInfo, subject: string): Acl {
  if (!Array.isArray(info.policies) || info.policies.length === 0) throw new AuthError('The body of acl is null');
  const policies: Policy[] = [];
  for (const p of info.policies) {
    if (typeof p !== 'object' || p === null) throw new AuthError('The policy is not a JSON object.');
    const policyType = p.policyType === undefined || p.policyType === null ? PolicyType.CUSTOM : policyTypeByName(p.policyType);
    if (policyType === undefined) throw new AuthError(`The policy type ${p.policyType} is unknown: use Custom or Default.`);
    if (!Array.isArray(p.entries) || p.entries.length === 0) throw new AuthError('The policy entries is empty.');
    const entries: PolicyEntry[] = p.entries.map((e) => entryFromInfo(e));
    policies.push({ policyType, entries });
  }
  return { subject, policies };
}

function entryFromInfo(e: PolicyEntryInfo): PolicyEntry {
  if (typeof e !== 'object' || e === null) throw new AuthError('The policy entry is not a JSON object.');
  if (e.resource === undefined || e.resource === null || String(e.resource).trim() === '') throw new AuthError('The resource is null.');
  const resource = parseResource(String(e.resource));
  if (!resource) throw new AuthError(`The resource ${e.resource} is invalid: use *, Cluster:<name>, Topic:<name>, Group:<name>, with a trailing * for a prefix.`);
  if (!Array.isArray(e.actions) || e.actions.length === 0) throw new AuthError('The actions is empty.');
  const actions: ActionValue[] = [];
  for (const a of e.actions) {
    const action = actionByName(String(a));
    if (action === undefined) throw new AuthError(`The action ${a} is unknown: use All, Pub, Sub, Create, Update, Delete, Get or List.`);
    if (action === Action.ANY) throw new AuthError('The actions can not be Any.');
    if (!actions.includes(action)) actions.push(action);
  }
  let sourceIps: string[] | undefined;
  if (e.sourceIps !== undefined && e.sourceIps !== null) {
    if (!Array.isArray(e.sourceIps)) throw new AuthError('The source ips must be a list.');
    for (const ip of e.sourceIps) {
      if (typeof ip !== 'string' || ip.trim() === '') throw new AuthError('The source ip is empty.');
      if (!isValidIpOrCidr(ip)) throw new AuthError(`The source ip ${ip} is invalid.`);
    }
    if (e.sourceIps.length > 0) sourceIps = [...e.sourceIps];
  }
  const decision = decisionByName(e.decision);
  if (decision === undefined) throw new AuthError('The decision is null or illegal.');
  return { resource, actions, ...(sourceIps ? { sourceIps } : {}), decision };
}
