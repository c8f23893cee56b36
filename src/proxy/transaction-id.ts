/**
 * The transaction id a gRPC producer gets back from a transactional send (upstream proxy
 * `TransactionId`): it names the broker and the half message's offsets, so EndTransaction
 * needs no table in the proxy. URL-safe base64 of `v1 brokerName commitLogOffset tranStateTableOffset brokerTransactionId`.
 */
export interface TransactionId {
  brokerName: string;
  commitLogOffset: number;
  tranStateTableOffset: number;
  /** The broker's own id of the transaction (the message's unique key). */
  brokerTransactionId: string;
}

export function encodeTransactionId(t: TransactionId): string {
  return Buffer.from(`v1 ${t.brokerName} ${t.commitLogOffset} ${t.tranStateTableOffset} ${t.brokerTransactionId}`, 'utf8').toString('base64url');
}

export function decodeTransactionId(text: string): TransactionId | undefined {
  if (!text || text.length > 512 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const parts = Buffer.from(text, 'base64url').toString('utf8').split(' ');
  if (parts.length !== 5 || parts[0] !== 'v1') return undefined;
  const [, brokerName, clo, tso, id] = parts as [string, string, string, string, string];
  if (!/^\d{1,16}$/.test(clo) || !/^\d{1,16}$/.test(tso) || !brokerName) return undefined;
  return { brokerName, commitLogOffset: Number(clo), tranStateTableOffset: Number(tso), brokerTransactionId: id };
}
