import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import type { AuthMetadataStore } from '../broker/auth/auth-metadata-store.js';
import { parseWhitelist } from '../broker/auth/auth-pipeline.js';
import { hostOf } from '../common/socket-address.js';
import { authorize, type AuthorizationContext } from '../broker/auth/authorization.js';
import {
  Action, AuthError, UserStatus, UserType, groupResource, topicResource, userSubject, type Acl, type ActionValue, type Resource, type User,
} from '../broker/auth/model.js';
import { Code, D, protoFullName, S, type df } from './proto.js';
import { ProxyError } from './status.js';

/**
 * Where the gRPC endpoint reads users and ACLs (upstream `AuthenticationMetadataProvider.getUser`
 * and `AuthorizationMetadataProvider.getAcl`): the broker's own store in a standalone, the
 * brokers' over Remoting in cluster mode (cluster-auth-metadata.ts).
 */
export interface AuthMetadataProvider {
  getUser(username: string): Promise<User | undefined>;
  getAcl(subject: string): Promise<Acl | undefined>;
}

/**
 * ACL 2.0 of the gRPC endpoint: where users and ACLs are and the switches (upstream `AuthConfig`
 * `authenticationEnabled`, `authorizationEnabled` and the whitelists) — the broker's config in
 * a standalone, the proxy config in cluster mode.
 */
export interface ProxyAuth {
  metadata: AuthMetadataProvider;
  switches: {
    readonly authenticationEnabled: boolean;
    readonly authorizationEnabled: boolean;
    /**
     * Comma-separated rpcCodes that skip a step (upstream `AbstractAuthenticationStrategy` /
     * `AbstractAuthorizationStrategy`). A gRPC request's rpcCode is its message's full name
     * (`apache.rocketmq.v2.QueryRouteRequest`); Remoting codes in the same list mean nothing here.
     */
    readonly authenticationWhitelist?: string;
    readonly authorizationWhitelist?: string;
  };
}

/** The standalone's: the broker's store and switches, read at each request. */
export function localProxyAuth(store: AuthMetadataStore, switches: ProxyAuth['switches']): ProxyAuth {
  return {
    metadata: {
      getUser: (username) => Promise.resolve(store.getUser(username)),
      getAcl: (subject) => Promise.resolve(store.aclOf(subject)),
    },
    switches,
  };
}

/**
 * Authentication and authorization of gRPC requests (upstream proxy `AuthenticationPipeline` /
 * `AuthorizationPipeline` over the auth module's `DefaultAuthenticationContextBuilder` and
 * `DefaultAuthorizationContextBuilder`).
 *
 * A request is signed in the `authorization` header the 5.x clients send:
 * `MQv2-HMAC-SHA1 Credential=<accessKey>, SignedHeaders=x-mq-date-time, Signature=<hex>`, the
 * upper-case hex HMAC-SHA1 of the `x-mq-date-time` value keyed by the secret. Signatures are
 * required when the proxy config lists `acl.accounts` or authenticationEnabled is on; the secret
 * is that of an enabled user of the metadata provider or of an account. Accounts act as super
 * users. With authorizationEnabled, each resource an RPC touches must be allowed by the user's
 * ACL, by the evaluator the broker runs for Remoting requests (FORBIDDEN otherwise).
 */
export class Authenticator {
  private readonly secrets = new Map<string, string>();
  /** The last parsed whitelist of each kind: the settings are read at each request, parsed when they change. */
  private readonly parsed = { authn: { text: '', set: new Set<string>() }, authz: { text: '', set: new Set<string>() } };

  constructor(accounts: Array<{ accessKey: string; secretKey: string }>, private readonly shared?: ProxyAuth) {
    for (const a of accounts) this.secrets.set(a.accessKey, a.secretKey);
  }

  /** Whether requests must be signed. */
  get authenticationEnabled(): boolean {
    return this.secrets.size > 0 || this.shared?.switches.authenticationEnabled === true;
  }

  get authorizationEnabled(): boolean {
    return this.shared?.switches.authorizationEnabled === true;
  }

  /**
   * Throws UNAUTHORIZED unless the request is signed by a known user. Returns the access key
   * (undefined when signatures are not required and none came). `rpcCode` is the request's full
   * name: one in authenticationWhitelist is not checked, and its access key, if any, is taken
   * unverified for authorization, as upstream's pipeline takes the context's username.
   */
  async check(md: Metadata, rpcCode?: string): Promise<string | undefined> {
    const auth = first(md, 'authorization');
    if (!this.authenticationEnabled || this.whitelisted('authn', rpcCode)) return auth ? credentialOf(auth) : undefined;
    if (!auth) throw new ProxyError(Code.UNAUTHORIZED, 'no authorization header: ACL is on, configure the client with sessionCredentials {accessKey, accessSecret}');
    const sp = auth.indexOf(' ');
    if (sp < 0) throw new ProxyError(Code.UNAUTHORIZED, 'the authorization header is malformed');
    const fields = authorizationFields(auth.slice(sp + 1));
    const credential = fields.get('Credential');
    const signature = fields.get('Signature');
    if (!credential || !signature) throw new ProxyError(Code.UNAUTHORIZED, 'the authorization header lacks Credential or Signature');
    const accessKey = credential.split('/')[0]!;
    const secret = await this.secretOf(accessKey);
    const dateTime = first(md, 'x-mq-date-time') ?? '';
    const expected = createHmac('sha1', Buffer.from(secret, 'utf8')).update(Buffer.from(dateTime, 'utf8')).digest('hex').toUpperCase();
    const a = Buffer.from(expected);
    const b = Buffer.from(signature.toUpperCase());
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new ProxyError(Code.UNAUTHORIZED, `the signature of access key ${accessKey} does not match: check accessSecret`);
    return accessKey;
  }

  private whitelisted(kind: 'authn' | 'authz', rpcCode: string | undefined): boolean {
    const sw = this.shared?.switches;
    const text = (kind === 'authn' ? sw?.authenticationWhitelist : sw?.authorizationWhitelist) ?? '';
    if (text === '' || rpcCode === undefined) return false;
    const p = this.parsed[kind];
    if (p.text !== text) {
      p.text = text;
      p.set = parseWhitelist(text);
    }
    return p.set.has(rpcCode);
  }

  private async secretOf(accessKey: string): Promise<string> {
    const user = await this.shared?.metadata.getUser(accessKey);
    if (user) {
      if (user.userStatus === UserStatus.DISABLE) throw new ProxyError(Code.UNAUTHORIZED, `User:${accessKey} is disabled.`);
      return user.password;
    }
    const secret = this.secrets.get(accessKey);
    if (secret === undefined) throw new ProxyError(Code.UNAUTHORIZED, `unknown access key ${accessKey}`);
    return secret;
  }

  /**
   * Throws FORBIDDEN unless `accessKey` may do what `request` asks (nothing is checked when
   * authorizationEnabled is off). An account of the proxy config passes, as a super user.
   */
  async authorize(accessKey: string | undefined, peer: string, request: unknown): Promise<void> {
    if (!this.shared || !this.authorizationEnabled) return;
    const rpcCode = protoFullName(request) ?? 'unknown';
    // Every context of one gRPC request has the same rpcCode: a whitelisted one skips them all.
    if (this.whitelisted('authz', rpcCode)) return;
    const user = accessKey === undefined ? undefined : await this.shared.metadata.getUser(accessKey);
    if (accessKey !== undefined && !user && this.secrets.has(accessKey)) return;
    let needs: Array<{ resource: Resource; actions: ActionValue[] }>;
    try {
      needs = grpcResources(request);
    } catch (err) {
      if (err instanceof AuthError) throw new ProxyError(Code.FORBIDDEN, err.message);
      throw err;
    }
    if (needs.length === 0) return;
    // The evaluator reads the user and its ACL synchronously: give it what was fetched.
    const acl = user && user.userType !== UserType.SUPER ? await this.shared.metadata.getAcl(userSubject(user.username)) : undefined;
    const lookup = { getUser: (n: string) => (n === accessKey ? user : undefined), aclOf: (subject: string) => (user && subject === userSubject(user.username) ? acl : undefined) };
    const sourceIp = hostOf(peer);
    for (const n of needs) {
      const ctx: AuthorizationContext = { ...(accessKey !== undefined ? { username: accessKey } : {}), resource: n.resource, actions: n.actions, sourceIp, rpcCode };
      try {
        authorize(lookup, ctx);
      } catch (err) {
        if (err instanceof AuthError) throw new ProxyError(Code.FORBIDDEN, err.message);
        throw err;
      }
    }
  }
}


const PUB = [Action.PUB];
const SUB = [Action.SUB];

function named(r: df.Resource | undefined, what: 'topic' | 'group'): string {
  const name = r?.getName() ?? '';
  if (name.trim() === '') throw new AuthError(`${what} is null.`);
  return name;
}

/**
 * What each RPC needs (upstream `DefaultAuthorizationContextBuilder.build(Metadata, …)`): sends,
 * recalls and transaction ends Pub on the topic; receives, acks and DLQ forwards Sub on the
 * group and the topic; a route Pub or Sub on the topic; a consumer's heartbeat and settings
 * Sub on its group and topics; a producer's settings Pub on its topics.
 */
function grpcResources(request: unknown): Array<{ resource: Resource; actions: ActionValue[] }> {
  const out: Array<{ resource: Resource; actions: ActionValue[] }> = [];
  const pub = (t: df.Resource | undefined): void => { out.push({ resource: topicResource(named(t, 'topic')), actions: PUB }); };
  const subTopic = (t: df.Resource | undefined): void => { out.push({ resource: topicResource(named(t, 'topic')), actions: SUB }); };
  const subGroup = (g: df.Resource | undefined): void => { out.push({ resource: groupResource(named(g, 'group')), actions: SUB }); };
  if (request instanceof S.SendMessageRequest) {
    const m = request.getMessagesList()[0];
    if (!m) throw new AuthError('message is null.');
    pub(m.getTopic());
  } else if (request instanceof S.RecallMessageRequest || request instanceof S.EndTransactionRequest) {
    pub(request.getTopic());
  } else if (request instanceof S.HeartbeatRequest) {
    const ct = request.getClientType();
    if (ct === D.ClientType.PUSH_CONSUMER || ct === D.ClientType.SIMPLE_CONSUMER || ct === D.ClientType.PULL_CONSUMER) subGroup(request.getGroup());
  } else if (request instanceof S.ReceiveMessageRequest) {
    const mq = request.getMessageQueue();
    if (!mq) throw new AuthError('messageQueue is null.');
    subGroup(request.getGroup());
    subTopic(mq.getTopic());
  } else if (request instanceof S.AckMessageRequest || request instanceof S.ForwardMessageToDeadLetterQueueRequest || request instanceof S.QueryAssignmentRequest) {
    subGroup(request.getGroup());
    subTopic(request.getTopic());
  } else if (request instanceof S.NotifyClientTerminationRequest) {
    if ((request.getGroup()?.getName() ?? '').trim() !== '') subGroup(request.getGroup());
  } else if (request instanceof S.ChangeInvisibleDurationRequest) {
    subGroup(request.getGroup());
  } else if (request instanceof S.QueryRouteRequest) {
    out.push({ resource: topicResource(named(request.getTopic(), 'topic')), actions: [Action.PUB, Action.SUB] });
  } else if (request instanceof S.TelemetryCommand) {
    const settings = request.getSettings();
    if (request.getCommandCase() !== S.TelemetryCommand.CommandCase.SETTINGS || !settings) return out;
    const publishing = settings.getPublishing();
    const subscription = settings.getSubscription();
    if (!publishing && !subscription) throw new AuthError("settings command doesn't have publishing or subscription.");
    for (const t of publishing?.getTopicsList() ?? []) pub(t);
    if (subscription) {
      subGroup(subscription.getGroup());
      for (const e of subscription.getSubscriptionsList()) subTopic(e.getTopic());
    }
  }
  return out;
}

/** The key=value parts after the scheme of an authorization header. */
function authorizationFields(rest: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of rest.split(',')) {
    const t = part.trim();
    const eq = t.indexOf('=');
    if (eq > 0) fields.set(t.slice(0, eq).trim(), t.slice(eq + 1).trim());
  }
  return fields;
}

/** The access key of an authorization header, unchecked (for authorization when authentication is off). */
function credentialOf(auth: string): string | undefined {
  const sp = auth.indexOf(' ');
  if (sp < 0) return undefined;
  return authorizationFields(auth.slice(sp + 1)).get('Credential')?.split('/')[0];
}


function first(md: Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return v === undefined ? undefined : typeof v === 'string' ? v : v.toString('utf8');
}
