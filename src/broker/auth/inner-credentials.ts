import type { SessionCredentials } from '../../remoting/acl-signature.js';

/**
 * `innerClientAuthenticationCredentials` (JSON `{"accessKey":…,"secretKey":…}`) as credentials,
 * or undefined when unset or incomplete (upstream `BrokerOuterAPI.newAclRPCHook` then signs nothing).
 */
export function innerClientCredentials(json: string): SessionCredentials | undefined {
  if (!json || json.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { accessKey, secretKey } = v as Record<string, unknown>;
  if (typeof accessKey !== 'string' || typeof secretKey !== 'string' || accessKey.trim() === '' || secretKey.trim() === '') return undefined;
  return { accessKey, secretKey };
}
