import { LanguageByCode, LanguageCode, SerializeType } from './codes.js';
import { extFieldsOf, type RemotingCommand } from './command.js';
import { adjacentJoined, int16At, int32At, put16, put32 } from '../common/bytes.js';

/**
 * Remoting framing: `int32 total | byte serializeType | uint24 headerLen | header | body`,
 * where total counts everything after itself. Both header serializations (JSON and ROCKETMQ
 * binary) are decoded; encoding uses the command's own `serializeType`.
 */

export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

export class CodecError extends Error {
  readonly code = 'REMOTING_CODEC_ERROR';
}

const SERIALIZE_NAMES = ['JSON', 'ROCKETMQ'] as const;

export function encodeCommand(cmd: RemotingCommand): Buffer {
  const body = cmd.body;
  const bodyLen = body ? body.length : 0;
  const headerLen = measureHeader(cmd);
  const frame = Buffer.allocUnsafe(8 + headerLen + bodyLen);
  writeFrameHead(frame, 0, cmd, headerLen, bodyLen);
  if (body) body.copy(frame, 8 + headerLen);
  return frame;
}

/**
 * Bytes of the frame prefix and header of `cmd` (the body not counted). Must be followed by
 * `writeHead` for the same command before any other command is measured: the measurement
 * leaves the JSON text and lengths in module scratch so nothing is computed twice.
 */
export function measureHead(cmd: RemotingCommand): number {
  return 8 + measureHeader(cmd);
}

/** Writes the prefix and header measured by the last `measureHead` at `pos` of `target`. */
export function writeHead(target: Buffer, pos: number, cmd: RemotingCommand, headLen: number, bodyLen: number): void {
  writeFrameHead(target, pos, cmd, headLen - 8, bodyLen);
}

// Scratch of the last measurement (single-threaded: measure and write are always paired).
let scratchJson = '';
let scratchRemarkLen = 0;
let scratchExtLen = 0;

function measureHeader(cmd: RemotingCommand): number {
  if (cmd.serializeType !== SerializeType.ROCKETMQ) {
    scratchJson = jsonHeaderText(cmd);
    return Buffer.byteLength(scratchJson, 'utf8');
  }
  const ext = cmd.extFields;
  let extLen = 0;
  if (cmd.binaryExt) {
    extLen = cmd.binaryExt.byteLength;
  } else if (ext) {
    // for-in over an object literal reads its fields through the enum cache, far cheaper
    // than keyed loads of Object.keys entries on the many header shapes seen here.
    for (const k in ext) {
      const v = ext[k];
      if (v === undefined || v === null) continue;
      extLen += 6 + strByteLength(k) + strByteLength(v);
    }
  }
  const remark = cmd.remark;
  scratchRemarkLen = remark ? strByteLength(remark) : 0;
  scratchExtLen = extLen;
  return 21 + scratchRemarkLen + extLen;
}

/** Lays out prefix and header at `p`: the hot path of every request and response. */
function writeFrameHead(frame: Buffer, p: number, cmd: RemotingCommand, headerLen: number, bodyLen: number): void {
  put32(frame, p, 4 + headerLen + bodyLen);
  if (cmd.serializeType !== SerializeType.ROCKETMQ) {
    put32(frame, p + 4, headerLen & 0xffffff);
    frame.write(scratchJson, p + 8, headerLen, 'utf8');
    return;
  }
  put32(frame, p + 4, (SerializeType.ROCKETMQ << 24) | (headerLen & 0xffffff));
  p += 8;
  put16(frame, p, cmd.code); p += 2;
  frame[p++] = LanguageCode[cmd.language as keyof typeof LanguageCode] ?? LanguageCode.OTHER;
  put16(frame, p, cmd.version); p += 2;
  put32(frame, p, cmd.opaque); p += 4;
  put32(frame, p, cmd.flag); p += 4;
  put32(frame, p, scratchRemarkLen); p += 4;
  if (cmd.remark) p += writeStr(frame, cmd.remark, p);
  put32(frame, p, scratchExtLen); p += 4;
  const ext = cmd.extFields;
  if (cmd.binaryExt) {
    cmd.binaryExt.write(frame, p);
  } else if (ext) {
    for (const k in ext) {
      const v = ext[k];
      if (v === undefined || v === null) continue;
      const kl = writeStr(frame, k, p + 2);
      put16(frame, p, kl);
      p += 2 + kl;
      const vl = writeStr(frame, v, p + 4);
      put32(frame, p, vl);
      p += 4 + vl;
    }
  }
}

/**
 * Strings up to this length are measured and copied by a JavaScript loop; longer ones (the
 * properties of a send, long ids) by one native call, whose fixed cost is that of a loop this long.
 */
const SHORT_STR = 24;

/** UTF-8 length; header keys and most values are short ASCII, measured without a native call. */
export function strByteLength(s: string): number {
  if (s.length > SHORT_STR) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

/** Buffer's own UTF-8 writer, without `Buffer#write`'s argument parsing (it is on every Buffer in Node ≥ 0.x). */
type Utf8Writer = { utf8Write(s: string, offset: number): number };

/** Writes `s` as UTF-8 at `p` and returns the byte count. */
export function writeStr(buf: Buffer, s: string, p: number): number {
  if (s.length <= SHORT_STR) {
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      buf[p + i] = c;
    }
    if (i === s.length) return i;
  }
  return (buf as unknown as Utf8Writer).utf8Write(s, p);
}

/** Reads UTF-8; short ASCII runs (header keys and numbers) are decoded without a native call. */
function readStr(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n <= 16) {
    let out = '';
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c > 0x7f) return buf.toString('utf8', start, end);
      out += String.fromCharCode(c);
    }
    return out;
  }
  return buf.toString('utf8', start, end);
}

function jsonHeaderText(cmd: RemotingCommand): string {
  // Keys in alphabetical order and nulls omitted, like fastjson.
  const obj: Record<string, unknown> = { code: cmd.code };
  const fields = extFieldsOf(cmd);
  if (fields) obj.extFields = fields;
  obj.flag = cmd.flag;
  obj.language = cmd.language;
  obj.opaque = cmd.opaque;
  if (cmd.remark !== undefined && cmd.remark !== null) obj.remark = cmd.remark;
  obj.serializeTypeCurrentRPC = SERIALIZE_NAMES[cmd.serializeType] ?? 'JSON';
  obj.version = cmd.version;
  return JSON.stringify(obj);
}

/**
 * Decodes one frame without its 4-byte length prefix (`frame` = type/headerLen word, header,
 * body). The body is a view into `frame`, not a copy.
 */
export function decodeCommand(frame: Buffer): RemotingCommand {
  if (frame.length < 4) throw new CodecError('frame shorter than its header length word');
  const word = int32At(frame, 0);
  const type = (word >>> 24) & 0xff;
  const headerLen = word & 0xffffff;
  if (headerLen > frame.length - 4) {
    throw new CodecError(`bad header length ${headerLen}: the frame has only ${frame.length - 4} bytes after the length word`);
  }
  const headerBuf = frame.subarray(4, 4 + headerLen);
  let cmd: RemotingCommand;
  if (type === SerializeType.JSON) cmd = decodeJsonHeader(headerBuf);
  else if (type === SerializeType.ROCKETMQ) cmd = decodeBinaryHeader(headerBuf);
  else throw new CodecError(`unknown serialize type ${type}: expected 0 (JSON) or 1 (ROCKETMQ)`);
  if (frame.length > 4 + headerLen) cmd.body = frame.subarray(4 + headerLen);
  return cmd;
}

function asInt(v: unknown, name: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw new CodecError(`header field "${name}" is not an integer`);
  return n;
}

function decodeJsonHeader(buf: Buffer): RemotingCommand {
  let obj: unknown;
  try {
    obj = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new CodecError(`invalid JSON header: ${(e as Error).message}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new CodecError('JSON header is not an object');
  const o = obj as Record<string, unknown>;
  const cmd: RemotingCommand = {
    code: asInt(o.code, 'code'),
    language: typeof o.language === 'string' ? o.language : typeof o.language === 'number' ? (LanguageByCode[o.language] ?? 'OTHER') : 'OTHER',
    version: o.version === undefined || o.version === null ? 0 : asInt(o.version, 'version'),
    opaque: o.opaque === undefined ? 0 : asInt(o.opaque, 'opaque'),
    flag: o.flag === undefined ? 0 : asInt(o.flag, 'flag'),
    serializeType: SerializeType.JSON,
  };
  if (typeof o.remark === 'string') cmd.remark = o.remark;
  const ext = o.extFields;
  if (ext && typeof ext === 'object' && !Array.isArray(ext)) {
    // ali-ons sends numbers and booleans here; fastjson coerces them to strings, and so do we.
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(ext as Record<string, unknown>)) {
      if (v === null || v === undefined) continue;
      fields[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
    cmd.extFields = fields;
  }
  return cmd;
}

/**
 * A command decoded from a ROCKETMQ binary header. Its extFields are checked for structure at
 * once (a malformed frame still closes the connection) but turned into an object only when
 * read: the hot requests (SEND_MESSAGE_V2) decode their header straight from `rawExt` instead,
 * without a string per field.
 */
class BinaryCommand implements RemotingCommand {
  remark?: string;
  body?: Buffer;
  bodyParts?: Buffer[];
  readonly serializeType = SerializeType.ROCKETMQ;
  private ext: Record<string, string> | undefined;
  private extDecoded: boolean;

  constructor(
    public code: number,
    public language: string,
    public version: number,
    public opaque: number,
    public flag: number,
    /** The extFields section (`short keyLen, key, int valueLen, value` repeated), already validated; undefined once replaced. */
    public rawExt: Buffer | undefined,
  ) {
    this.extDecoded = rawExt === undefined;
  }

  get extFields(): Record<string, string> | undefined {
    if (!this.extDecoded) {
      this.extDecoded = true;
      this.ext = decodeExtFields(this.rawExt!);
    }
    return this.ext;
  }

  set extFields(v: Record<string, string> | undefined) {
    this.ext = v;
    this.extDecoded = true;
    this.rawExt = undefined;
  }

  /** Own enumerable view, for logs and JSON. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code, language: this.language, version: this.version, opaque: this.opaque, flag: this.flag,
      remark: this.remark, extFields: this.extFields, serializeType: this.serializeType,
    };
  }
}

function decodeBinaryHeader(buf: Buffer): RemotingCommand {
  if (buf.length < 21) throw new CodecError(`binary header of ${buf.length} bytes is shorter than the fixed 21`);
  let p = 0;
  const code = int16At(buf, p); p += 2;
  const lang = buf[p]!; p += 1;
  const version = int16At(buf, p); p += 2;
  const opaque = int32At(buf, p); p += 4;
  const flag = int32At(buf, p); p += 4;
  const remarkLen = int32At(buf, p); p += 4;
  if (remarkLen < 0 || p + remarkLen + 4 > buf.length) throw new CodecError(`binary header remark length ${remarkLen} overruns the header`);
  const remark = remarkLen > 0 ? buf.toString('utf8', p, p + remarkLen) : undefined;
  p += remarkLen;
  const extLen = int32At(buf, p); p += 4;
  if (extLen < 0 || p + extLen > buf.length) throw new CodecError(`binary header extFields length ${extLen} overruns the header`);
  let rawExt: Buffer | undefined;
  if (extLen > 0) {
    rawExt = buf.subarray(p, p + extLen);
    checkExtFields(rawExt);
  }
  const cmd = new BinaryCommand(code, LanguageByCode[lang] ?? 'OTHER', version, opaque, flag, rawExt);
  if (remark !== undefined) cmd.remark = remark;
  return cmd;
}

/** Walks the lengths of an extFields section; throws CodecError where one overruns it. */
function checkExtFields(buf: Buffer): void {
  const end = buf.length;
  let p = 0;
  while (p < end) {
    if (p + 2 > end) throw new CodecError('truncated extFields key length');
    const kl = int16At(buf, p); p += 2;
    if (kl < 0 || p + kl + 4 > end) throw new CodecError('truncated extFields key');
    p += kl;
    const vl = int32At(buf, p); p += 4;
    if (vl < 0 || p + vl > end) throw new CodecError('truncated extFields value');
    p += vl;
  }
}

/** A validated extFields section as an object; empty keys and values are left out. */
function decodeExtFields(buf: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  const end = buf.length;
  let p = 0;
  while (p < end) {
    const kl = int16At(buf, p); p += 2;
    const k = kl === 1 ? ONE_CHAR[buf[p]!]! : internString(buf, p, p + kl); p += kl;
    const vl = int32At(buf, p); p += 4;
    if (kl > 0 && vl > 0) fields[k] = readStr(buf, p, p + vl);
    p += vl;
  }
  return fields;
}

/** The raw extFields section of a command decoded from a binary header, while untouched. */
export function rawExtOf(cmd: RemotingCommand): Buffer | undefined {
  return cmd instanceof BinaryCommand ? cmd.rawExt : undefined;
}

/** Interned strings by a hash of their bytes (each hit is checked byte for byte). */
const INTERNED = new Map<number, string>();
const INTERNED_MAX = 4096;

/**
 * The text of `buf[start, end)`, the same string object each time for the same short ASCII
 * bytes (header keys, and names such as topics and groups that every request repeats): no
 * decoding or allocation, and a Map lookup by the result finds its hash already computed. At
 * most INTERNED_MAX strings are kept; past that, text is decoded as usual.
 */
export function internString(buf: Buffer, start: number, end: number): string {
  if (end - start > 64) return readStr(buf, start, end);
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  h &= 0x3fffffff; // a small integer (Smi): no heap number per lookup
  const hit = INTERNED.get(h);
  if (hit !== undefined && hit.length === end - start) {
    let same = true;
    for (let i = 0; i < hit.length; i++) {
      if (hit.charCodeAt(i) !== buf[start + i]) { same = false; break; }
    }
    if (same) return hit;
  }
  const k = readStr(buf, start, end);
  // Only ASCII keys are cached: their bytes and char codes compare one to one.
  if (INTERNED.size < INTERNED_MAX && k.length === end - start) INTERNED.set(h, k);
  return k;
}

/**
 * The interned string equal to ASCII text `s`, entered when there is none yet: a table keyed by
 * names that requests carry (topics) then holds the very strings internString returns, so that
 * a lookup compares references instead of reading the characters of a key of its own.
 */
export function internText(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  // As many bytes as characters: ASCII, the only text internString keeps.
  return bytes.length === s.length ? internString(bytes, 0, bytes.length) : s;
}

/** One-byte strings, so single-letter keys (the V2 send header) cost no allocation. */
const ONE_CHAR: string[] = Array.from({ length: 256 }, (_, i) => (i < 0x80 ? String.fromCharCode(i) : '\ufffd'));

/**
 * Incremental frame splitter: a small state machine fed with socket chunks. It copies only
 * when a frame straddles chunks that do not lie back to back in memory.
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingLen = 0;

  constructor(private readonly maxFrameSize = DEFAULT_MAX_FRAME_SIZE) {}

  /** Feeds a chunk; calls `onFrame` for each whole frame (without its length prefix). Throws CodecError on an impossible length. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let pos = 0;
    if (this.pendingLen > 0) {
      // Complete the frame that straddles chunks, copying only its own bytes.
      if (this.pendingLen < 4) {
        const take = Math.min(4 - this.pendingLen, chunk.length);
        this.pending.push(chunk.subarray(0, take));
        this.pendingLen += take;
        pos = take;
        if (this.pendingLen < 4) return;
      }
      const need = this.peekTotal() + 4 - this.pendingLen;
      const take = Math.min(need, chunk.length - pos);
      this.pending.push(chunk.subarray(pos, pos + take));
      this.pendingLen += take;
      pos += take;
      if (take < need) return;
      const joined = adjacentJoined(this.pending);
      const frame = joined.length === 1 ? joined[0]! : Buffer.concat(this.pending, this.pendingLen);
      this.pending = [];
      this.pendingLen = 0;
      onFrame(frame.subarray(4));
    }
    while (chunk.length - pos >= 4) {
      const total = int32At(chunk, pos);
      this.checkTotal(total);
      if (chunk.length - pos - 4 < total) break;
      onFrame(chunk.subarray(pos + 4, pos + 4 + total));
      pos += 4 + total;
    }
    if (pos < chunk.length) {
      const rest = chunk.subarray(pos);
      this.pending = [rest];
      this.pendingLen = rest.length;
      if (this.pendingLen >= 4) this.checkTotal(rest.readInt32BE(0));
    }
  }

  /** Bytes of an incomplete frame still held. */
  get buffered(): number {
    return this.pendingLen;
  }

  private peekTotal(): number {
    const first = this.pending[0]!;
    const head = first.length >= 4 ? first : Buffer.concat(this.pending, Math.min(this.pendingLen, 4));
    const total = head.readInt32BE(0);
    this.checkTotal(total);
    return total;
  }

  private checkTotal(total: number): void {
    if (total < 4 || total > this.maxFrameSize) {
      throw new CodecError(`frame length ${total} is outside 4..${this.maxFrameSize} (maximum frame size)`);
    }
  }
}
