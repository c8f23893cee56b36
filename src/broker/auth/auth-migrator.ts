import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '../../common/logger.js';
import { parseSimpleYaml, type YamlValue } from '../../common/simple-yaml.js';
import type { AuthMetadataStore } from './auth-metadata-store.js';
import {
  Action, Decision, PolicyType, ResourcePattern, ResourceType, UserType, groupResource, topicResource, userSubject,
  type ActionValue, type DecisionValue, type Policy, type PolicyEntry, type Resource,
} from './model.js';

/**
 * One account of an ACL 1.0 file (upstream `migration/v1/PlainAccessConfig`). `whiteRemoteAddress`
 * is read but, as upstream's migration, not carried over.
 */
export interface PlainAccessConfig {
  accessKey: string;
  secretKey: string;
  whiteRemoteAddress?: string;
  admin: boolean;
  defaultTopicPerm?: string;
  defaultGroupPerm?: string;
  topicPerms: string[];
  groupPerms: string[];
}

/** Upstream `AclConstants`: the permission words of ACL 1.0. */
const V1Perm = { DENY: 'DENY', PUB: 'PUB', SUB: 'SUB', PUB_SUB: 'PUB|SUB', SUB_PUB: 'SUB|PUB' } as const;

/**
 * The ACL 1.0 files upstream's `PlainPermissionManager` reads under ROCKETMQ_HOME: every `.yml` /
 * `.yaml` below `conf/acl/` (recursively), then `conf/plain_acl.yml` (`plainFile`, relative to the
 * home: upstream's `-Drocketmq.acl.plain.file`). Unlike upstream, a missing plain_acl.yml is not
 * created.
 */
export function plainAclFiles(home: string, plainFile = join('conf', 'plain_acl.yml')): string[] {
  const walk = (dir: string): string[] => {
    if (!existsSync(dir)) return [];
    const out: string[] = [];
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) out.push(...walk(p));
      else if (name.endsWith('.yml') || name.endsWith('.yaml')) out.push(p);
    }
    return out;
  };
  const files = walk(join(home, 'conf', 'acl'));
  const plain = resolve(home, plainFile);
  if (existsSync(plain) && !files.includes(plain)) files.push(plain);
  return files;
}

const str = (v: YamlValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: YamlValue | undefined): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
/** As SnakeYAML reads a boolean property. */
const bool = (v: YamlValue | undefined): boolean => typeof v === 'string' && /^(true|yes|on|y)$/i.test(v);

/**
 * The accounts of ACL 1.0 files, the first of each accessKey winning (upstream
 * `PlainPermissionManager.getAllAclConfig`). `globalWhiteRemoteAddresses` are read past, as
 * upstream's migration does nothing with them. A file that cannot be read is reported and skipped.
 */
export function readPlainAccessConfigs(files: readonly string[], logger: Logger): PlainAccessConfig[] {
  const seen = new Set<string>();
  const out: PlainAccessConfig[] = [];
  for (const file of files) {
    let data: YamlValue;
    try {
      data = parseSimpleYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      logger.error(`[ACL MIGRATE] ${file} cannot be read (${(err as Error).message}); its accounts are not migrated`);
      continue;
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) continue;
    const accounts = data.accounts;
    if (!Array.isArray(accounts)) continue;
    for (const a of accounts) {
      if (a === null || typeof a !== 'object' || Array.isArray(a)) continue;
      const accessKey = str(a.accessKey);
      if (accessKey === undefined || seen.has(accessKey)) continue;
      seen.add(accessKey);
      const c: PlainAccessConfig = { accessKey, secretKey: str(a.secretKey) ?? '', admin: bool(a.admin), topicPerms: list(a.topicPerms), groupPerms: list(a.groupPerms) };
      const w = str(a.whiteRemoteAddress);
      if (w !== undefined) c.whiteRemoteAddress = w;
      const dt = str(a.defaultTopicPerm);
      if (dt !== undefined) c.defaultTopicPerm = dt;
      const dg = str(a.defaultGroupPerm);
      if (dg !== undefined) c.defaultGroupPerm = dg;
      out.push(c);
    }
  }
  return out;
}

/** Upstream `AuthMigrator.parseDecision`: DENY denies, anything else allows. */
function parseDecision(perm: string): DecisionValue {
  return perm.trim() === '' || perm === V1Perm.DENY ? Decision.DENY : Decision.ALLOW;
}

/** Upstream `AuthMigrator.parseActions`: PUB, SUB, both, or All (DENY and anything else). */
function parseActions(perm: string): ActionValue[] {
  switch (perm.trim()) {
    case V1Perm.PUB: return [Action.PUB];
    case V1Perm.SUB: return [Action.SUB];
    case V1Perm.PUB_SUB: case V1Perm.SUB_PUB: return [Action.PUB, Action.SUB];
    default: return [Action.ALL];
  }
}

/** `name=PERM` entries (upstream splits on `=` and skips anything without exactly two parts). */
function permEntries(perms: readonly string[], resourceOf: (name: string) => Resource): PolicyEntry[] {
  const out: PolicyEntry[] = [];
  for (const p of perms) {
    const parts = p.split('=').filter((s) => s !== '');
    if (parts.length !== 2) continue;
    const perm = parts[1]!.trim();
    out.push({ resource: resourceOf(parts[0]!.trim()), actions: parseActions(perm), decision: parseDecision(perm) });
  }
  return out;
}

/**
 * The policies an ACL 1.0 account becomes (upstream `AuthMigrator.createAcl`): its topicPerms and
 * groupPerms a Custom policy of literal resources, its defaultTopicPerm / defaultGroupPerm a
 * Default policy on any topic / any group.
 */
export function policiesOf(c: PlainAccessConfig): Policy[] {
  const policies: Policy[] = [];
  const custom = [...permEntries(c.topicPerms, topicResource), ...permEntries(c.groupPerms, groupResource)];
  if (custom.length > 0) policies.push({ policyType: PolicyType.CUSTOM, entries: custom });
  const defaults: PolicyEntry[] = [];
  const anyOf = (type: typeof ResourceType.TOPIC | typeof ResourceType.GROUP, perm: string): PolicyEntry =>
    ({ resource: { type, pattern: ResourcePattern.ANY }, actions: parseActions(perm.trim()), decision: parseDecision(perm.trim()) });
  if (c.defaultTopicPerm !== undefined && c.defaultTopicPerm.trim() !== '') defaults.push(anyOf(ResourceType.TOPIC, c.defaultTopicPerm));
  if (c.defaultGroupPerm !== undefined && c.defaultGroupPerm.trim() !== '') defaults.push(anyOf(ResourceType.GROUP, c.defaultGroupPerm));
  if (defaults.length > 0) policies.push({ policyType: PolicyType.DEFAULT, entries: defaults });
  return policies;
}

/**
 * `migrateAuthFromV1Enabled` (upstream `AuthMigrator.migrate`, run at broker start): each ACL
 * 1.0 account becomes a user (Super when `admin`, else Normal) and an ACL, unless a user of that
 * name exists already — then nothing of it is touched. An account that fails (e.g. no secretKey)
 * is reported and the others go on. Returns the users created.
 */
export function migrateAuthFromV1(store: AuthMetadataStore, files: readonly string[], logger: Logger): string[] {
  const created: string[] = [];
  for (const c of readPlainAccessConfigs(files, logger)) {
    if (store.getUser(c.accessKey)) continue;
    try {
      store.createUser({ username: c.accessKey, password: c.secretKey, userType: c.admin ? UserType.SUPER : UserType.NORMAL });
      const policies = policiesOf(c);
      if (policies.length > 0) store.putAcl({ subject: userSubject(c.accessKey), policies });
      created.push(c.accessKey);
    } catch (err) {
      logger.error(`[ACL MIGRATE] An error occurred while migrating ACL configurations for AccessKey:${c.accessKey}: ${(err as Error).message}`);
    }
  }
  if (created.length > 0) logger.info(`[ACL MIGRATE] ACL 1.0 accounts migrated to users and ACLs: ${created.join(', ')}`);
  return created;
}
