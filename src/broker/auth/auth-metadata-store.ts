import { join } from 'node:path';
import { readJsonFile, writeFileAtomic } from '../../common/config-file.js';
import type { Logger } from '../../common/logger.js';
import {
  AuthError, PolicyType, UserStatus, UserType, aclFromInfo, aclToInfo, deleteAclEntry, mergeAcl, subjectUsername,
  userStatusByName, userTypeByName, type Acl, type AclInfo, type PolicyTypeValue, type Resource, type User,
} from './model.js';

/**
 * The users and ACLs of a broker (upstream `AuthenticationMetadataManagerImpl` +
 * `AuthorizationMetadataManagerImpl` over `LocalAuthenticationMetadataProvider` /
 * `LocalAuthorizationMetadataProvider`). Upstream keeps them in two RocksDB stores,
 * `<storePathRootDir>/config/users` and `config/acls`; here they are two JSON files next to
 * them, `config/users.json` and `config/acls.json`, written like every other state file (temp
 * file, fsync, rename, `.bak`), read once at start and then served from memory.
 */
export class AuthMetadataStore {
  private readonly users = new Map<string, User>();
  private readonly acls = new Map<string, Acl>();
  private readonly usersPath: string;
  private readonly aclsPath: string;

  constructor(storeRoot: string, private readonly logger: Logger) {
    this.usersPath = join(storeRoot, 'config', 'users.json');
    this.aclsPath = join(storeRoot, 'config', 'acls.json');
  }

  load(): void {
    const onCorrupt = (m: string): void => this.logger.warn(m);
    const u = readJsonFile<{ users?: Record<string, User> }>(this.usersPath, onCorrupt);
    for (const [name, user] of Object.entries(u?.users ?? {})) this.users.set(name, user);
    const a = readJsonFile<{ acls?: Record<string, AclInfo> }>(this.aclsPath, onCorrupt);
    for (const [subject, info] of Object.entries(a?.acls ?? {})) {
      try {
        this.acls.set(subject, aclFromInfo(info, subject));
      } catch (err) {
        this.logger.warn(`acl of ${subject} in ${this.aclsPath} is invalid (${(err as Error).message}); skipped`);
      }
    }
  }

  /**
   * Upstream `initUser`: `initAuthenticationUser` (JSON `{"username","password"}`) and the inner
   * client credentials (JSON `{"accessKey","secretKey"}`) become super users when missing.
   */
  initUsers(initAuthenticationUser: string, innerClientCredentials: string): void {
    if (initAuthenticationUser.trim() !== '') {
      const v = parseJsonObject(initAuthenticationUser, 'initAuthenticationUser');
      const username = str(v.username);
      const password = str(v.password);
      if (!username || !password) throw new AuthError('Init authentication user error: initAuthenticationUser needs a username and a password.');
      if (!this.users.has(username)) this.createUser({ username, password, userType: UserType.SUPER });
    }
    if (innerClientCredentials.trim() !== '') {
      const v = parseJsonObject(innerClientCredentials, 'innerClientAuthenticationCredentials');
      const username = str(v.accessKey);
      const password = str(v.secretKey);
      if (!username || !password) throw new AuthError('Init inner client authentication credentials error: innerClientAuthenticationCredentials needs an accessKey and a secretKey.');
      if (!this.users.has(username)) this.createUser({ username, password, userType: UserType.SUPER });
    }
  }

  getUser(username: string): User | undefined {
    return this.users.get(username);
  }

  isSuperUser(username: string): boolean {
    const u = this.users.get(username);
    if (!u) throw new AuthError(`User:${username} is not found`);
    return u.userType === UserType.SUPER;
  }

  /** Users whose name contains `filter` (all when blank), by name. */
  listUser(filter?: string): User[] {
    return [...this.users.values()].filter((u) => !filter || u.username.includes(filter)).sort((a, b) => (a.username < b.username ? -1 : 1));
  }

  createUser(u: { username?: string; password?: string; userType?: string; userStatus?: string }): void {
    if (!u.username || u.username.trim() === '') throw new AuthError('username can not be blank');
    if (!u.password || u.password.trim() === '') throw new AuthError('password can not be blank');
    const userType = u.userType ? userTypeByName(u.userType) : UserType.NORMAL;
    if (!userType) throw new AuthError(`The user type ${u.userType} is unknown: use Super or Normal.`);
    const userStatus = u.userStatus ? userStatusByName(u.userStatus) : UserStatus.ENABLE;
    if (!userStatus) throw new AuthError(`The user status ${u.userStatus} is unknown: use enable or disable.`);
    if (this.users.has(u.username)) throw new AuthError('The user is existed');
    this.users.set(u.username, { username: u.username, password: u.password, userType, userStatus });
    this.persistUsers();
  }

  /** Upstream `updateUser`: only the fields given change. */
  updateUser(u: { username?: string; password?: string; userType?: string; userStatus?: string }): void {
    if (!u.username || u.username.trim() === '') throw new AuthError('username can not be blank');
    const old = this.users.get(u.username);
    if (!old) throw new AuthError('The user is not exist');
    const userType = u.userType ? userTypeByName(u.userType) : undefined;
    if (u.userType && !userType) throw new AuthError(`The user type ${u.userType} is unknown: use Super or Normal.`);
    const userStatus = u.userStatus ? userStatusByName(u.userStatus) : undefined;
    if (u.userStatus && !userStatus) throw new AuthError(`The user status ${u.userStatus} is unknown: use enable or disable.`);
    const next: User = { ...old };
    if (u.password && u.password.trim() !== '') next.password = u.password;
    if (userType) next.userType = userType;
    if (userStatus) next.userStatus = userStatus;
    this.users.set(u.username, next);
    this.persistUsers();
  }

  /** Upstream `deleteUser`: the user and its ACL go together. */
  deleteUser(username: string): void {
    if (!username || username.trim() === '') throw new AuthError('username can not be blank');
    const hadUser = this.users.delete(username);
    const hadAcl = this.acls.delete(`User:${username}`);
    if (hadUser) this.persistUsers();
    if (hadAcl) this.persistAcls();
  }

  private subjectMustExist(subject: string): void {
    const username = subjectUsername(subject);
    if (username === undefined) throw new AuthError(`The subject ${subject} is invalid: use User:<username>.`);
    if (!this.users.has(username)) throw new AuthError(`The subject of ${subject} is not exist.`);
  }

  /** Upstream `createAcl` and `updateAcl` (the same there): entries merge into the subject's ACL. */
  putAcl(acl: Acl): void {
    this.subjectMustExist(acl.subject);
    const old = this.acls.get(acl.subject);
    if (!old) this.acls.set(acl.subject, { subject: acl.subject, policies: acl.policies.map((p) => ({ ...p, entries: [...p.entries] })) });
    else mergeAcl(old, acl.policies);
    this.persistAcls();
  }

  /** Upstream `deleteAcl`: one resource's entry of a policy type (Custom by default), or the whole ACL. */
  deleteAcl(subject: string, policyType: PolicyTypeValue | undefined, resource: Resource | undefined): void {
    const username = subjectUsername(subject);
    if (username === undefined) throw new AuthError('The subject is null.');
    if (!this.users.has(username)) throw new AuthError('The subject is not exist.');
    const old = this.acls.get(subject);
    if (!old) throw new AuthError('The acl is not exist.');
    if (resource) deleteAclEntry(old, policyType ?? PolicyType.CUSTOM, resource);
    if (!resource || old.policies.length === 0) this.acls.delete(subject);
    this.persistAcls();
  }

  getAcl(subject: string): Acl | undefined {
    const username = subjectUsername(subject);
    if (username === undefined || !this.users.has(username)) throw new AuthError('The subject is not exist.');
    return this.acls.get(subject);
  }

  /** The ACL of a subject for the authorization check (no existence check of the user). */
  aclOf(subject: string): Acl | undefined {
    return this.acls.get(subject);
  }

  /**
   * Upstream `listAcl`: subjects containing `subjectFilter`; with `resourceFilter`, only the
   * entries whose resource key contains it (and only ACLs left with an entry).
   */
  listAcl(subjectFilter?: string, resourceFilter?: string): Acl[] {
    const out: Acl[] = [];
    for (const acl of [...this.acls.values()].sort((a, b) => (a.subject < b.subject ? -1 : 1))) {
      if (subjectFilter && !acl.subject.includes(subjectFilter)) continue;
      const info = aclToInfo(acl);
      const policies = (info.policies ?? [])
        .map((p) => ({ ...p, entries: (p.entries ?? []).filter((e) => !resourceFilter || acl.subject.includes(resourceFilter) || (e.resource ?? '').includes(resourceFilter)) }))
        .filter((p) => p.entries.length > 0);
      if (policies.length > 0) out.push(aclFromInfo({ subject: acl.subject, policies }, acl.subject));
    }
    return out;
  }

  private persistUsers(): void {
    const users: Record<string, User> = {};
    for (const [k, v] of this.users) users[k] = v;
    writeFileAtomic(this.usersPath, JSON.stringify({ users }, null, 2));
  }

  private persistAcls(): void {
    const acls: Record<string, AclInfo> = {};
    for (const [k, v] of this.acls) acls[k] = aclToInfo(v);
    writeFileAtomic(this.aclsPath, JSON.stringify({ acls }, null, 2));
  }
}

function parseJsonObject(text: string, key: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new AuthError(`${key} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new AuthError(`${key} must be a JSON object`);
  return v as Record<string, unknown>;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}
