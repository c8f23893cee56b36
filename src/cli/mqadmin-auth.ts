import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { AclInfo, UserInfo } from '../common/acl-info.js';
import { masterAddrOf } from '../common/route.js';
import type { SessionCredentials } from '../remoting/acl-signature.js';
import type { Admin } from '../admin/index.js';
import { CliError, type CommonFlags, type Ctx, type Sub } from './mqadmin.js';
import { parseSimpleYaml } from '../common/simple-yaml.js';

/**
 * mqadmin's ACL 2.0 commands (upstream `tools/command/auth/*SubCommand`): createUser,
 * updateUser, deleteUser, getUser, listUser, copyUser, createAcl, updateAcl, deleteAcl,
 * getAcl, listAcl, copyAcl, with upstream's flags and output; and the credentials every
 * command signs its requests with.
 */

/** Upstream's location of the tools' credentials: `$ROCKETMQ_HOME/conf/tools.yml` (`MixAll.ACL_CONF_TOOLS_FILE`). */
const TOOLS_YML = join('conf', 'tools.yml');

/** The `accessKey` / `secretKey` of a tools.yml (the two keys upstream reads), through the one YAML reader. */
function readToolsYml(path: string): SessionCredentials | undefined {
  const doc = parseSimpleYaml(readFileSync(path, 'utf8'));
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const { accessKey, secretKey } = doc;
  return typeof accessKey === 'string' && accessKey !== '' && typeof secretKey === 'string' && secretKey !== '' ? { accessKey, secretKey } : undefined;
}

/**
 * What mqadmin signs with: `--accessKey/--secretKey`, else upstream's tools.yml under
 * ROCKETMQ_HOME; none when neither is set (the broker then sees unsigned requests).
 */
export function toolsCredentials(flags: { accessKey?: string; secretKey?: string }, env: NodeJS.ProcessEnv): SessionCredentials | undefined {
  if (flags.accessKey !== undefined || flags.secretKey !== undefined) {
    if (!flags.accessKey || !flags.secretKey) throw new CliError('--accessKey and --secretKey go together');
    return { accessKey: flags.accessKey, secretKey: flags.secretKey };
  }
  const home = env.ROCKETMQ_HOME;
  if (!home) return undefined;
  const path = join(home, TOOLS_YML);
  return existsSync(path) ? readToolsYml(path) : undefined;
}

/** The options every subcommand gets for the credentials. */
export function credentialOptions(c: Command): Command {
  return c
    .option('--accessKey <ak>', 'ACL access key to sign requests with (default: accessKey of $ROCKETMQ_HOME/conf/tools.yml)')
    .option('--secretKey <sk>', 'ACL secret key of the access key');
}

interface Target {
  brokerAddr?: string;
  clusterName?: string;
}

function split(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function needTarget(f: Target): void {
  if (!f.brokerAddr && !f.clusterName) throw new CliError('give the broker with -b <brokerAddr> or the cluster with -c <clusterName>');
}

/** Upstream `CommandUtil.fetchMasterAndSlaveAddrByClusterName` (all = with slaves) / `fetchMasterAddrByClusterName`. */
async function clusterAddrs(admin: Admin, clusterName: string, all: boolean): Promise<string[]> {
  if (!all) return admin.masterAddrsOfCluster(clusterName);
  const ci = await admin.examineBrokerClusterInfo();
  const names = ci.clusterAddrTable[clusterName];
  if (!names) throw new CliError(`cluster ${clusterName} does not exist; known clusters: ${Object.keys(ci.clusterAddrTable).join(', ') || '(none)'}`);
  const out: string[] = [];
  for (const name of [...names].sort()) {
    const bd = ci.brokerAddrTable[name];
    if (!bd) continue;
    const master = masterAddrOf(bd);
    if (master) out.push(master);
    for (const [id, addr] of Object.entries(bd.brokerAddrs)) if (id !== '0') out.push(addr);
  }
  return out;
}

/** Java `List.toString`, as upstream prints actions and source IPs. */
function javaList(v: readonly string[] | undefined): string {
  return v === undefined || v === null ? 'null' : `[${v.join(', ')}]`;
}

const USER_FORMAT = '%-16s  %-22s  %-22s  %-22s%n';
const ACL_FORMAT = '%-16s  %-10s  %-22s  %-20s  %-24s  %-10s%n';

function printUsers(ctx: Ctx, users: readonly UserInfo[]): void {
  ctx.p(USER_FORMAT, '#UserName', '#Password', '#UserType', '#UserStatus');
  for (const u of users) ctx.p(USER_FORMAT, u.username, u.password, u.userType, u.userStatus);
}

function printAcls(ctx: Ctx, acls: readonly AclInfo[]): void {
  ctx.p(ACL_FORMAT, '#Subject', '#PolicyType', '#Resource', '#Actions', '#SourceIp', '#Decision');
  for (const acl of acls) {
    if (!acl.policies || acl.policies.length === 0) {
      ctx.p(ACL_FORMAT, acl.subject, '', '', '', '', '');
      continue;
    }
    for (const p of acl.policies) {
      for (const e of p.entries ?? []) ctx.p(ACL_FORMAT, acl.subject, p.policyType, e.resource, javaList(e.actions), javaList(e.sourceIps), e.decision);
    }
  }
}

type TargetFlags = CommonFlags & Target;

function targetOptions(c: Command, verb: string): Command {
  return c
    .option('-c, --clusterName <name>', `${verb} which cluster`)
    .option('-b, --brokerAddr <addr>', `${verb} which broker`);
}

/**
 * copyUser / copyAcl (upstream `CopyUsersSubCommand` / `CopyAclsSubCommand`): the named entries,
 * or every one, from one broker to another, created there or updated when it has them already.
 */
async function copyEntries<T>(ctx: Ctx, from: string, to: string, keys: string[] | undefined, what: string, ops: {
  get(addr: string, key: string): Promise<T | undefined>;
  list(addr: string): Promise<T[]>;
  create(addr: string, e: T): Promise<unknown>;
  update(addr: string, e: T): Promise<unknown>;
  key(e: T): string;
}): Promise<void> {
  const entries: T[] = [];
  if (keys && keys.length > 0) {
    for (const k of keys) {
      const e = await ops.get(from, k);
      if (e !== undefined) entries.push(e);
    }
  } else {
    entries.push(...await ops.list(from));
  }
  for (const e of entries) {
    if (await ops.get(to, ops.key(e)) === undefined) await ops.create(to, e);
    else await ops.update(to, e);
    ctx.p(`copy ${what} of %s from %s to %s success.%n`, ops.key(e), from, to);
  }
}

/** Runs `each` on the broker, or on every broker (with slaves when `all`) of the cluster. */
async function onTargets(ctx: Ctx, f: Target, all: boolean, each: (addr: string) => Promise<void>): Promise<void> {
  needTarget(f);
  if (f.brokerAddr) {
    await each(f.brokerAddr.trim());
    return;
  }
  ctx.needNamesrv();
  for (const addr of await clusterAddrs(ctx.admin, f.clusterName!.trim(), all)) await each(addr);
}

export function registerAuthCommands(sub: Sub): void {
  sub<TargetFlags & { username: string; password: string; userType?: string }>('createUser', 'Create user to cluster.', (c) => targetOptions(c, 'create user to')
    .requiredOption('-u, --username <username>', 'the username of user to create.')
    .requiredOption('-p, --password <password>', 'the password of user to create')
    .option('-t, --userType <userType>', 'the userType of user to create'),
  async (ctx, f) => {
    const user: UserInfo = { username: f.username.trim(), password: f.password.trim(), ...(f.userType ? { userType: f.userType.trim() } : {}) };
    await onTargets(ctx, f, true, async (addr) => {
      await ctx.admin.api.createUser(addr, user);
      if (!ctx.asJson({ brokerAddr: addr, user: user.username })) ctx.p('create user to %s success.%n', addr);
    });
  });

  sub<TargetFlags & { username: string; password?: string; userType?: string; userStatus?: string }>('updateUser', 'Update user to cluster.', (c) => targetOptions(c, 'update user to')
    .requiredOption('-u, --username <username>', 'the username of user to update.')
    .option('-p, --password <password>', 'the password of user to update')
    .option('-t, --userType <userType>', 'the userType of user to update')
    .option('-s, --userStatus <userStatus>', 'the userStatus of user to update'),
  async (ctx, f) => {
    if (f.password === undefined && f.userType === undefined && f.userStatus === undefined) {
      throw new CliError('give what to change: -p <password>, -t <userType> or -s <userStatus>');
    }
    const user: UserInfo = { username: f.username.trim() };
    if (f.password !== undefined) user.password = f.password.trim();
    if (f.userType !== undefined) user.userType = f.userType.trim();
    if (f.userStatus !== undefined) user.userStatus = f.userStatus.trim();
    await onTargets(ctx, f, true, async (addr) => {
      await ctx.admin.api.updateUser(addr, user);
      if (!ctx.asJson({ brokerAddr: addr, user: user.username })) ctx.p('update user to %s success.%n', addr);
    });
  });

  sub<TargetFlags & { username: string }>('deleteUser', 'Delete user from cluster.', (c) => targetOptions(c, 'delete user from')
    .requiredOption('-u, --username <username>', 'the username of user to delete.'),
  async (ctx, f) => {
    await onTargets(ctx, f, true, async (addr) => {
      await ctx.admin.api.deleteUser(addr, f.username.trim());
      if (!ctx.asJson({ brokerAddr: addr, user: f.username })) ctx.p('delete user to %s success.%n', addr);
    });
  });

  sub<TargetFlags & { username?: string }>('getUser', 'Get user from cluster.', (c) => targetOptions(c, 'get user for')
    .option('-u, --username <username>', 'the username of user to get'),
  async (ctx, f) => {
    if (!f.username) throw new CliError('give the user with -u <username>');
    let found: UserInfo | undefined;
    await onTargets(ctx, f, false, async (addr) => {
      if (found) return;
      found = await ctx.admin.api.getUser(addr, f.username!.trim());
    });
    if (ctx.asJson(found ?? null)) return;
    if (found) printUsers(ctx, [found]);
  });

  sub<TargetFlags & { filter?: string }>('listUser', 'List user from cluster.', (c) => targetOptions(c, 'list user for')
    .option('-f, --filter <filter>', 'the filter to list users'),
  async (ctx, f) => {
    let done = false;
    await onTargets(ctx, f, false, async (addr) => {
      if (done) return;
      const users = await ctx.admin.api.listUser(addr, f.filter?.trim());
      if (users.length === 0) return;
      done = true;
      if (ctx.asJson(users)) return;
      printUsers(ctx, users);
      if (!f.brokerAddr) ctx.p('get user from %s success.%n', addr);
    });
  });

  sub<CommonFlags & { fromBroker: string; toBroker: string; usernames?: string }>('copyUser', 'Copy user to cluster.', (c) => c
    .requiredOption('-f, --fromBroker <addr>', 'the source broker that the users copy from')
    .requiredOption('-t, --toBroker <addr>', 'the target broker that the users copy to')
    .option('-u, --usernames <names>', 'the username list of user to copy.'),
  async (ctx, f) => {
    const api = ctx.admin.api;
    await copyEntries(ctx, f.fromBroker.trim(), f.toBroker.trim(), split(f.usernames), 'user', {
      get: (addr, name) => api.getUser(addr, name), list: (addr) => api.listUser(addr),
      create: (addr, u) => api.createUser(addr, u), update: (addr, u) => api.updateUser(addr, u), key: (u) => u.username!,
    });
  });

  for (const [name, verb] of [['createAcl', 'create'], ['updateAcl', 'update']] as const) {
    sub<TargetFlags & { subject: string; resources: string; actions: string; sourceIp?: string; decision: string }>(name, `${verb === 'create' ? 'Create' : 'Update'} acl to cluster.`, (c) => targetOptions(c, `${verb} acl to`)
      .requiredOption('-s, --subject <subject>', `the subject of acl to ${verb}.`)
      .requiredOption('-r, --resources <resources>', `the resources of acl to ${verb}`)
      .requiredOption('-a, --actions <actions>', `the actions of acl to ${verb}`)
      .option('-i, --sourceIp <ips>', `the sourceIps of acl to ${verb}`)
      .requiredOption('-d, --decision <decision>', `the decision of acl to ${verb}`),
    async (ctx, f) => {
      // Upstream `AclInfo.of`: one policy (Custom) with an entry per resource.
      const actions = split(f.actions) ?? [];
      const sourceIps = split(f.sourceIp);
      const acl: AclInfo = {
        subject: f.subject.trim(),
        policies: [{ entries: (split(f.resources) ?? []).map((resource) => ({ resource, actions, ...(sourceIps ? { sourceIps } : {}), decision: f.decision.trim() })) }],
      };
      await onTargets(ctx, f, true, async (addr) => {
        if (verb === 'create') await ctx.admin.api.createAcl(addr, acl);
        else await ctx.admin.api.updateAcl(addr, acl);
        if (!ctx.asJson({ brokerAddr: addr, acl })) ctx.p(`${verb} acl to %s success.%n`, addr);
      });
    });
  }

  sub<TargetFlags & { subject: string; resources?: string }>('deleteAcl', 'Delete acl from cluster.', (c) => targetOptions(c, 'delete acl from')
    .requiredOption('-s, --subject <subject>', 'the subject of acl to delete.')
    .option('-r, --resources <resource>', 'the resources of acl to delete'),
  async (ctx, f) => {
    await onTargets(ctx, f, true, async (addr) => {
      await ctx.admin.api.deleteAcl(addr, f.subject.trim(), f.resources?.trim());
      if (!ctx.asJson({ brokerAddr: addr, subject: f.subject })) ctx.p('delete acl to %s success.%n', addr);
    });
  });

  sub<TargetFlags & { subject?: string }>('getAcl', 'Get acl from cluster.', (c) => targetOptions(c, 'get acl for')
    .option('-s, --subject <subject>', 'the subject of acl to get'),
  async (ctx, f) => {
    if (!f.subject) throw new CliError('give the subject with -s User:<username>');
    const found: AclInfo[] = [];
    await onTargets(ctx, f, false, async (addr) => {
      const acl = await ctx.admin.api.getAcl(addr, f.subject!.trim());
      if (acl) found.push(acl);
    });
    if (ctx.asJson(found)) return;
    for (const acl of found) printAcls(ctx, [acl]);
  });

  sub<TargetFlags & { subject?: string; resource?: string }>('listAcl', 'List acl from cluster.', (c) => targetOptions(c, 'list acl for')
    .option('-s, --subject <subject>', 'the subject of acl to filter.')
    .option('-r, --resource <resource>', 'the resource of acl to filter.'),
  async (ctx, f) => {
    const all: AclInfo[] = [];
    await onTargets(ctx, f, false, async (addr) => {
      const acls = await ctx.admin.api.listAcl(addr, f.subject?.trim(), f.resource?.trim());
      if (acls.length === 0) return;
      all.push(...acls);
      if (!ctx.json) printAcls(ctx, acls);
    });
    ctx.asJson(all);
  });

  sub<CommonFlags & { fromBroker: string; toBroker: string; subjects?: string }>('copyAcl', 'Copy acl to cluster.', (c) => c
    .requiredOption('-f, --fromBroker <addr>', 'the source broker that the acls copy from')
    .requiredOption('-t, --toBroker <addr>', 'the target broker that the acls copy to')
    .option('-s, --subjects <subjects>', 'the subject list of acl to copy.'),
  async (ctx, f) => {
    const api = ctx.admin.api;
    await copyEntries(ctx, f.fromBroker.trim(), f.toBroker.trim(), split(f.subjects), 'acl', {
      get: (addr, subject) => api.getAcl(addr, subject), list: (addr) => api.listAcl(addr),
      create: (addr, a) => api.createAcl(addr, a), update: (addr, a) => api.updateAcl(addr, a), key: (a) => a.subject!,
    });
  });
}
