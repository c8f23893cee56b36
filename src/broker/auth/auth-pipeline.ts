import type { BrokerConfig } from '../../common/config.js';
import type { Logger } from '../../common/logger.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import type { Connection } from '../../remoting/connection.js';
import { SessionCredentialsKey, calSignature, combineRequestContent, signatureEquals } from '../../remoting/acl-signature.js';
import type { AuthMetadataStore } from './auth-metadata-store.js';
import { authorize, remotingAuthorizationContexts, type AuthorizationContext } from './authorization.js';
import { AuthError, UserStatus } from './model.js';
import { hostOf } from '../../common/socket-address.js';

/**
 * Authentication and authorization of the broker's Remoting requests: upstream's ACL 2.0
 * (RocketMQ 5.3+, the `auth` module and `broker/auth/pipeline`), not ACL 1.0's plain_acl.yml.
 *
 * Design. Users (name = AccessKey, password = SecretKey, Super or Normal, enabled or disabled)
 * and ACLs (per user: policies of entries `resource + actions + source IPs → Allow/Deny`) live
 * in the broker's AuthMetadataStore (JSON files under `<store>/config`, upstream uses RocksDB
 * there) and are managed with the AUTH_* codes 3001-3010 (processors/auth.ts, `mqadmin
 * createUser/createAcl/…`). The RemotingServer runs this pipeline before the processor of
 * every request it supports, as upstream's `RequestPipeline` (authentication, then
 * authorization):
 *  - authentication (`authenticationEnabled`): the request's extFields must carry AccessKey and
 *    Signature, the base64 HmacSHA1 the client's `AclClientRPCHook` computed over the sorted
 *    extField values + body (remoting/acl-signature.ts), with the secret of an enabled user;
 *  - authorization (`authorizationEnabled`): each resource the code touches
 *    (authorization.ts, upstream `DefaultAuthorizationContextBuilder`) must be allowed by the
 *    user's best matching ACL entry, unless the user is a super user.
 * A refusal is NO_PERMISSION with upstream's message plus what to do; the connection stays open.
 * Codes in `authenticationWhitelist` / `authorizationWhitelist` skip the step. As upstream's
 * AuthConfig, the switches are read from broker.conf at start and not changeable at run time.
 * The NameServer does not authenticate (neither does upstream's); the broker signs its own
 * requests to it with `innerClientAuthenticationCredentials`, as upstream's BrokerOuterAPI.
 */

/** `MQVersion.Version.V4_9_3`: clients up to it did not sign `_UNIQUE_KEY_QUERY` (upstream skips it for them). */
const V4_9_3 = 399;
const UNIQUE_MSG_QUERY_FLAG = '_UNIQUE_KEY_QUERY';
/** Most verdicts a connection keeps under a stateful strategy. */
const MAX_VERDICTS_PER_CONNECTION = 1000;

/** Whether a strategy setting names upstream's stateful strategy (a verdict kept per connection). */
function isStateful(strategy: string): boolean {
  return /stateful/i.test(strategy);
}

/** The entries of a comma-separated whitelist setting, trimmed (upstream `AbstractAuthenticationStrategy`). */
export function parseWhitelist(v: string): Set<string> {
  return new Set(v.split(',').map((s) => s.trim()).filter((s) => s !== ''));
}


interface CachedVerdict {
  until: number;
  error?: AuthError;
}

export class AuthPipeline {
  constructor(
    private readonly config: BrokerConfig,
    private readonly store: AuthMetadataStore,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The RemotingServer pipeline (installed only when a switch is on): null to go on, or the NO_PERMISSION answer. */
  readonly handle = (req: RemotingCommand, conn: Connection): RemotingCommand | null => {
    const cfg = this.config;
    try {
      if (cfg.authenticationEnabled) this.authenticate(req, conn);
      if (cfg.authorizationEnabled) this.authorizeRequest(req, conn);
      return null;
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      return createResponse(req, ResponseCode.NO_PERMISSION, err.message);
    }
  };

  private authenticate(req: RemotingCommand, conn: Connection): void {
    if (parseWhitelist(this.config.authenticationWhitelist).has(String(req.code))) return;
    const username = req.extFields?.[SessionCredentialsKey.ACCESS_KEY];
    if (!isStateful(this.config.authenticationStrategy)) {
      this.doAuthenticate(req, username, conn);
      return;
    }
    // Upstream `StatefulAuthenticationStrategy`: one verdict per channel and user for a while.
    this.cached(conn, `authn#${username ?? ''}`, this.config.statefulAuthenticationCacheExpiredSecond, () => this.doAuthenticate(req, username, conn));
  }

  /** Upstream `DefaultAuthenticationHandler`, its messages followed by what to do. */
  private doAuthenticate(req: RemotingCommand, username: string | undefined, conn: Connection): void {
    if (username === undefined || username === '') {
      throw new AuthError('username cannot be null. The broker has authenticationEnabled: sign requests with an AccessKey and SecretKey (the client\'s sessionCredentials, mqadmin --accessKey/--secretKey).');
    }
    const user = this.store.getUser(username);
    const fail = (msg: string): never => {
      this.logger.info(`[AUTHENTICATION] User:${username} is authenticated failed from ${conn.remoteAddress}: ${msg}`);
      throw new AuthError(msg);
    };
    if (!user) fail(`User:${username} is not found. Create it on the broker (mqadmin createUser) or use another AccessKey.`);
    if (user!.userStatus === UserStatus.DISABLE) fail(`User:${username} is disabled. Enable it (mqadmin updateUser -s enable) or use another AccessKey.`);
    const fields = req.extFields ?? {};
    const skipUniqueKey = req.version <= V4_9_3;
    const content = combineRequestContent(fields, req.body, (k) => skipUniqueKey && k === UNIQUE_MSG_QUERY_FLAG);
    const expected = calSignature(content, user!.password);
    const signature = fields[SessionCredentialsKey.SIGNATURE];
    if (signature === undefined || !signatureEquals(expected, signature)) {
      fail(`check signature failed. Check the SecretKey of AccessKey ${username}.`);
    }
  }

  private authorizeRequest(req: RemotingCommand, conn: Connection): void {
    const contexts = remotingAuthorizationContexts(req, hostOf(conn.remoteAddress), this.config.brokerClusterName);
    const skip = parseWhitelist(this.config.authorizationWhitelist);
    const stateful = isStateful(this.config.authorizationStrategy);
    for (const ctx of contexts) {
      if (skip.has(ctx.rpcCode)) continue;
      if (!stateful) this.doAuthorize(ctx);
      else this.cached(conn, `authz#${ctx.username ?? ''}#${ctx.resource.type}:${ctx.resource.name ?? ''}#${ctx.actions.join(',')}#${ctx.sourceIp ?? ''}`, this.config.statefulAuthorizationCacheExpiredSecond, () => this.doAuthorize(ctx));
    }
  }

  private doAuthorize(ctx: AuthorizationContext): void {
    try {
      authorize(this.store, ctx);
    } catch (err) {
      if (err instanceof AuthError) this.logger.info(`[AUTHORIZATION] Subject = User:${ctx.username ?? 'null'} is Deny Action = ${ctx.actions.join(',')} from sourceIp = ${ctx.sourceIp ?? 'null'} on resource = ${ctx.resource.type}:${ctx.resource.name ?? ''} for request = ${ctx.rpcCode}.`);
      throw err;
    }
  }

  /** Runs `check` once per connection and key for `seconds`, replaying its verdict (upstream's stateful strategies). */
  private cached(conn: Connection, key: string, seconds: number, check: () => void): void {
    let cache = conn.attrs.authVerdicts as Map<string, CachedVerdict> | undefined;
    if (!cache) conn.attrs.authVerdicts = cache = new Map<string, CachedVerdict>();
    // Bounded, as upstream's cache (10,000 entries): a connection touching ever new resources
    // starts over rather than grow without end.
    if (cache.size >= MAX_VERDICTS_PER_CONNECTION) cache.clear();
    const now = this.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) {
      if (hit.error) throw hit.error;
      return;
    }
    try {
      check();
      cache.set(key, { until: now + seconds * 1000 });
    } catch (err) {
      if (err instanceof AuthError) cache.set(key, { until: now + seconds * 1000, error: err });
      throw err;
    }
  }
}
