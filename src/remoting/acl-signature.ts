import { createHmac, timingSafeEqual } from 'node:crypto';
import { extFieldsOf, type RemotingCommand } from './command.js';

/**
 * The Remoting request signature of RocketMQ's ACL (upstream client `acl/common`:
 * `AclClientRPCHook`, `AclUtils.combineRequestContent`, `AclSigner`). The client adds its
 * AccessKey (and SecurityToken) to the extFields, then signs the *values* of every extField
 * but `Signature`, in the order of their sorted keys, followed by the body bytes, with
 * HmacSHA1 keyed by the secret, base64-encoded. The broker computes the same content from what
 * it received and compares.
 */

/** extField names of the credentials (upstream `SessionCredentials`). */
export const SessionCredentialsKey = {
  ACCESS_KEY: 'AccessKey',
  SECRET_KEY: 'SecretKey',
  SIGNATURE: 'Signature',
  SECURITY_TOKEN: 'SecurityToken',
} as const;

/** An access key and its secret (upstream `SessionCredentials`); the token travels unsigned-for. */
export interface SessionCredentials {
  accessKey: string;
  secretKey: string;
  securityToken?: string;
}

/** Keys sorted as Java's `TreeMap<String, …>` does (UTF-16 code units, which is JS's default order). */
function sortedKeys(fields: Record<string, string>): string[] {
  return Object.keys(fields).sort();
}

/**
 * The signed bytes of a request (upstream `AclUtils.combineRequestContent`): every extField value
 * but the Signature's, by sorted key, then the body. `skip` leaves out further keys (the broker
 * drops `_UNIQUE_KEY_QUERY` for clients up to V4_9_3, as upstream).
 */
export function combineRequestContent(fields: Record<string, string>, body: Buffer | undefined, skip?: (key: string) => boolean): Buffer {
  let text = '';
  for (const k of sortedKeys(fields)) {
    if (k === SessionCredentialsKey.SIGNATURE || skip?.(k)) continue;
    text += fields[k];
  }
  const head = Buffer.from(text, 'utf8');
  if (!body || body.length === 0) return head;
  if (head.length === 0) return body;
  return Buffer.concat([head, body]);
}

/** Base64 HmacSHA1 of `content` keyed by `secretKey` (upstream `AclSigner.calSignature`). */
export function calSignature(content: Buffer, secretKey: string): string {
  return createHmac('sha1', Buffer.from(secretKey, 'utf8')).update(content).digest('base64');
}

/** Constant-time comparison of two signatures (upstream uses `MessageDigest.isEqual`). */
export function signatureEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Signs `cmd` in place (upstream `AclClientRPCHook.doBeforeRequest`). A header laid out in binary
 * (`binaryExt`, the send path) is turned into plain extFields first: the signature covers the
 * fields as sent, so they must be the ones written.
 */
export function signRequest(cmd: RemotingCommand, creds: SessionCredentials): void {
  const fields: Record<string, string> = { ...extFieldsOf(cmd) };
  cmd.binaryExt = undefined;
  fields[SessionCredentialsKey.ACCESS_KEY] = creds.accessKey;
  if (creds.securityToken !== undefined) fields[SessionCredentialsKey.SECURITY_TOKEN] = creds.securityToken;
  delete fields[SessionCredentialsKey.SIGNATURE];
  fields[SessionCredentialsKey.SIGNATURE] = calSignature(combineRequestContent(fields, cmd.body), creds.secretKey);
  cmd.extFields = fields;
}

/** The credentials as an RPC hook for a RemotingClient; undefined when there are none. */
export function aclRpcHook(creds: SessionCredentials | undefined): ((addr: string, cmd: RemotingCommand) => void) | undefined {
  if (!creds || !creds.accessKey || !creds.secretKey) return undefined;
  return (_addr, cmd) => signRequest(cmd, creds);
}
