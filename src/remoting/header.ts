import { javaParseLong } from '../common/java.js';
import { ResponseCode } from './codes.js';

/**
 * Typed access to a request's extFields. Every request header has an interface and one
 * `decode…Header(ext)` built from these readers; processors never read raw extFields.
 * A missing or malformed field throws HeaderError, which the server answers with
 * `responseCode` and a remark naming the field.
 */
export class HeaderError extends Error {
  readonly code = 'HEADER_INVALID';
  constructor(message: string, readonly responseCode: number = ResponseCode.SYSTEM_ERROR) {
    super(message);
    this.name = 'HeaderError';
  }
}

export type Ext = Record<string, string> | undefined;

export function reqString(ext: Ext, key: string): string {
  const v = ext?.[key];
  if (v === undefined || v === null) throw new HeaderError(`the custom field <${key}> is null: the request header must carry it`);
  return v;
}

export function optString(ext: Ext, key: string): string | undefined {
  const v = ext?.[key];
  return v === undefined || v === null ? undefined : v;
}

/** Java `Long.parseLong` rules (optional sign, digits only), without a regex on the hot path. */
export function parseIntStrict(v: string, key: string): number {
  const len = v.length;
  let i = 0;
  let neg = false;
  if (len > 0 && (v.charCodeAt(0) === 45 || v.charCodeAt(0) === 43)) {
    neg = v.charCodeAt(0) === 45;
    i = 1;
  }
  if (i === len) throw new HeaderError(`the custom field <${key}> = "${v}" is not an integer`);
  let n = 0;
  for (; i < len; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw new HeaderError(`the custom field <${key}> = "${v}" is not an integer`);
    n = n * 10 + d;
  }
  if (!Number.isSafeInteger(n)) throw new HeaderError(`the custom field <${key}> = "${v}" is out of range`);
  return neg ? -n : n;
}

/** int32 or int64 field; both are JS numbers (offsets stay far below 2^53). */
export function reqNumber(ext: Ext, key: string): number {
  return parseIntStrict(reqString(ext, key), key);
}

/**
 * A Java long that bounds a time range. Upstream tools send `Long.MAX_VALUE` for "no end"
 * (mqadmin queryMsgByKey, queryMsgByUniqueKey, the client's viewMessage by unique key): any
 * long beyond 2^53 saturates to the nearest safe integer, which compares the same against
 * every real timestamp. What `Long.parseLong` refuses is still refused.
 */
export function reqLongSaturated(ext: Ext, key: string): number {
  const v = reqString(ext, key);
  const n = javaParseLong(v);
  // Not a Java long: the strict parser says why (not an integer, or out of range).
  if (n === undefined) return parseIntStrict(v, key);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return n > max ? Number.MAX_SAFE_INTEGER : n < -max ? -Number.MAX_SAFE_INTEGER : Number(n);
}

export function optNumber(ext: Ext, key: string): number | undefined {
  const v = optString(ext, key);
  return v === undefined || v === '' ? undefined : parseIntStrict(v, key);
}

export function optBoolean(ext: Ext, key: string): boolean | undefined {
  const v = optString(ext, key);
  if (v === undefined || v === '') return undefined;
  return v.toLowerCase() === 'true';
}
