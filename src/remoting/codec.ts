import { LanguageByCode, LanguageCode, SerializeType, type SerializeTypeValue } from './codes.js';
import type { RemotingCommand } from './command.js';

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
  const frame = encodeFrame(cmd, body ? body.length : 0, body ? body.length : 0);
  if (body) body.copy(frame, frame.length - body.length);
  return frame;
}

/** Encodes only the frame prefix and header, so a large body can be written without a copy. */
export function encodeCommandHead(cmd: RemotingCommand, bodyLen: number): Buffer {
  return encodeFrame(cmd, bodyLen, 0);
}

/**
 * Lays out prefix and header in one allocation (plus `room` bytes for the body): the hot path
 * of every request and response, so nothing is built twice.
 */
function encodeFrame(cmd: RemotingCommand, bodyLen: number, room: number): Buffer {
  if (cmd.serializeType !== SerializeType.ROCKETMQ) {
    const json = jsonHeaderText(cmd);
    const headerLen = Buffer.byteLength(json, 'utf8');
    const frame = Buffer.allocUnsafe(8 + headerLen + room);
    frame.writeInt32BE(4 + headerLen + bodyLen, 0);
    frame.writeUInt32BE(headerLen & 0xffffff, 4);
    frame.write(json, 8, headerLen, 'utf8');
    return frame;
  }
  const ext = cmd.extFields;
  let keys: string[] | undefined;
  let extLen = 0;
  if (ext) {
    keys = Object.keys(ext);
    for (const k of keys) {
      const v = ext[k];
      if (v === undefined || v === null) continue;
      extLen += 6 + strByteLength(k) + strByteLength(v);
    }
  }
  const remark = cmd.remark;
  const remarkLen = remark ? strByteLength(remark) : 0;
  const headerLen = 21 + remarkLen + extLen;
  const frame = Buffer.allocUnsafe(8 + headerLen + room);
  frame.writeInt32BE(4 + headerLen + bodyLen, 0);
  frame.writeUInt32BE(((SerializeType.ROCKETMQ << 24) | (headerLen & 0xffffff)) >>> 0, 4);
  let p = 8;
  frame.writeInt16BE(cmd.code, p); p += 2;
  frame[p++] = LanguageCode[cmd.language as keyof typeof LanguageCode] ?? LanguageCode.OTHER;
  frame.writeInt16BE(cmd.version, p); p += 2;
  frame.writeInt32BE(cmd.opaque, p); p += 4;
  frame.writeInt32BE(cmd.flag, p); p += 4;
  frame.writeInt32BE(remarkLen, p); p += 4;
  if (remark) p += writeStr(frame, remark, p);
  frame.writeInt32BE(extLen, p); p += 4;
  if (ext && keys) {
    for (const k of keys) {
      const v = ext[k];
      if (v === undefined || v === null) continue;
      const kl = writeStr(frame, k, p + 2);
      frame.writeInt16BE(kl, p);
      p += 2 + kl;
      const vl = writeStr(frame, v, p + 4);
      frame.writeInt32BE(vl, p);
      p += 4 + vl;
    }
  }
  return frame;
}

/** UTF-8 length; header keys and most values are short ASCII, measured without a native call. */
function strByteLength(s: string): number {
  if (s.length > 128) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

/** Writes `s` as UTF-8 at `p` and returns the byte count. */
function writeStr(buf: Buffer, s: string, p: number): number {
  if (s.length <= 128) {
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      buf[p + i] = c;
    }
    if (i === s.length) return i;
  }
  return buf.write(s, p, 'utf8');
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
  if (cmd.extFields) obj.extFields = cmd.extFields;
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
  const word = frame.readUInt32BE(0);
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

function decodeBinaryHeader(buf: Buffer): RemotingCommand {
  if (buf.length < 21) throw new CodecError(`binary header of ${buf.length} bytes is shorter than the fixed 21`);
  let p = 0;
  const code = buf.readInt16BE(p); p += 2;
  const lang = buf.readUInt8(p); p += 1;
  const version = buf.readInt16BE(p); p += 2;
  const opaque = buf.readInt32BE(p); p += 4;
  const flag = buf.readInt32BE(p); p += 4;
  const remarkLen = buf.readInt32BE(p); p += 4;
  if (remarkLen < 0 || p + remarkLen + 4 > buf.length) throw new CodecError(`binary header remark length ${remarkLen} overruns the header`);
  const cmd: RemotingCommand = {
    code, language: LanguageByCode[lang] ?? 'OTHER', version, opaque, flag, serializeType: SerializeType.ROCKETMQ,
  };
  if (remarkLen > 0) cmd.remark = buf.toString('utf8', p, p + remarkLen);
  p += remarkLen;
  const extLen = buf.readInt32BE(p); p += 4;
  if (extLen < 0 || p + extLen > buf.length) throw new CodecError(`binary header extFields length ${extLen} overruns the header`);
  if (extLen > 0) {
    const fields: Record<string, string> = {};
    const end = p + extLen;
    while (p < end) {
      if (p + 2 > end) throw new CodecError('truncated extFields key length');
      const kl = buf.readInt16BE(p); p += 2;
      if (kl < 0 || p + kl + 4 > end) throw new CodecError('truncated extFields key');
      const k = readStr(buf, p, p + kl); p += kl;
      const vl = buf.readInt32BE(p); p += 4;
      if (vl < 0 || p + vl > end) throw new CodecError('truncated extFields value');
      if (kl > 0 && vl > 0) fields[k] = readStr(buf, p, p + vl);
      p += vl;
    }
    cmd.extFields = fields;
  }
  return cmd;
}

/**
 * Incremental frame splitter: a small state machine fed with socket chunks. It copies only
 * when a frame straddles chunks.
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
      const frame = Buffer.concat(this.pending, this.pendingLen);
      this.pending = [];
      this.pendingLen = 0;
      onFrame(frame.subarray(4));
    }
    while (chunk.length - pos >= 4) {
      const total = chunk.readInt32BE(pos);
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

export function serializeTypeName(t: SerializeTypeValue): string {
  return SERIALIZE_NAMES[t] ?? String(t);
}
