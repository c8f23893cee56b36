import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { Code } from './proto.js';
import { ProxyError } from './status.js';

/**
 * Checks the signature 5.x clients put in the `authorization` header (upstream proxy
 * `AuthenticationInterceptor` / ACL `DefaultAuthenticationProvider`):
 * `MQv2-HMAC-SHA1 Credential=<accessKey>, SignedHeaders=x-mq-date-time, Signature=<hex>`, where the
 * signature is the upper-case hex HMAC-SHA1 of the `x-mq-date-time` value keyed by the secret.
 */
export class Authenticator {
  private readonly secrets = new Map<string, string>();

  constructor(accounts: Array<{ accessKey: string; secretKey: string }>) {
    for (const a of accounts) this.secrets.set(a.accessKey, a.secretKey);
  }

  /** Throws UNAUTHORIZED unless the request is signed by a known account. Returns the access key. */
  check(md: Metadata): string {
    const auth = first(md, 'authorization');
    if (!auth) throw new ProxyError(Code.UNAUTHORIZED, 'no authorization header: ACL is on, configure the client with sessionCredentials {accessKey, accessSecret}');
    const sp = auth.indexOf(' ');
    if (sp < 0) throw new ProxyError(Code.UNAUTHORIZED, 'the authorization header is malformed');
    const fields = new Map<string, string>();
    for (const part of auth.slice(sp + 1).split(',')) {
      const t = part.trim();
      const eq = t.indexOf('=');
      if (eq > 0) fields.set(t.slice(0, eq).trim(), t.slice(eq + 1).trim());
    }
    const credential = fields.get('Credential');
    const signature = fields.get('Signature');
    if (!credential || !signature) throw new ProxyError(Code.UNAUTHORIZED, 'the authorization header lacks Credential or Signature');
    const accessKey = credential.split('/')[0]!;
    const secret = this.secrets.get(accessKey);
    if (secret === undefined) throw new ProxyError(Code.UNAUTHORIZED, `unknown access key ${accessKey}`);
    const dateTime = first(md, 'x-mq-date-time') ?? '';
    const expected = createHmac('sha1', Buffer.from(secret, 'utf8')).update(Buffer.from(dateTime, 'utf8')).digest('hex').toUpperCase();
    const a = Buffer.from(expected);
    const b = Buffer.from(signature.toUpperCase());
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new ProxyError(Code.UNAUTHORIZED, `the signature of access key ${accessKey} does not match: check accessSecret`);
    return accessKey;
  }
}

function first(md: Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return v === undefined ? undefined : typeof v === 'string' ? v : v.toString('utf8');
}
