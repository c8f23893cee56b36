import { int16At, int32At } from './bytes.js';

/** One message of a batch, with its properties already encoded. */
export interface BatchEntry {
  flag: number;
  body: Buffer;
  properties: string;
}

/**
 * Splits a SEND_BATCH_MESSAGE body (upstream `MessageDecoder.decodeMessages`): per message
 * TOTALSIZE int | MAGICCODE int | BODYCRC int | FLAG int | BODYLEN int + body | PROPLEN short +
 * properties, back to back. The producer's encoder and the broker's send path share it. Throws
 * an Error naming the byte where the body stops making sense; an empty body gives no entries.
 */
export function decodeBatchBody(buf: Buffer): BatchEntry[] {
  const out: BatchEntry[] = [];
  let p = 0;
  while (p < buf.length) {
    if (p + 22 > buf.length) throw new Error(`batch body truncated at byte ${p}: expected another message header`);
    // Each read below lies inside the message as checked before it.
    const total = int32At(buf, p);
    if (total < 22 || p + total > buf.length) throw new Error(`batch message at byte ${p} declares size ${total}, outside the body of ${buf.length} bytes`);
    const flag = int32At(buf, p + 12);
    const bodyLen = int32At(buf, p + 16);
    if (bodyLen < 0 || p + 20 + bodyLen + 2 > p + total) throw new Error(`batch message at byte ${p} has a body length ${bodyLen} outside its size`);
    const body = buf.subarray(p + 20, p + 20 + bodyLen);
    const propLen = int16At(buf, p + 20 + bodyLen);
    const propStart = p + 22 + bodyLen;
    if (propLen < 0 || propStart + propLen > p + total) throw new Error(`batch message at byte ${p} has properties outside its size`);
    out.push({ flag, body, properties: buf.toString('utf8', propStart, propStart + propLen) });
    p += total;
  }
  return out;
}
