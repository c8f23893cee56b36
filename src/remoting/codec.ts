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
  const header = cmd.serializeType === SerializeType.ROCKETMQ ? encodeBinaryHeader(cmd) : encodeJsonHeader(cmd);
  const bodyLen = cmd.body ? cmd.body.length : 0;
  const frame = Buffer.allocUnsafe(8 + header.length + bodyLen);
  frame.writeInt32BE(4 + header.length + bodyLen, 0);
  frame.writeUInt32BE(((cmd.serializeType & 0xff) << 24 | (header.length & 0xffffff)) >>> 0, 4);
  header.copy(frame, 8);
  if (cmd.body) cmd.body.copy(frame, 8 + header.length);
  return frame;
}

/** Encodes only the frame prefix and header, so a large body can be written without a copy. */
export function encodeCommandHead(cmd: RemotingCommand, bodyLen: number): Buffer {
  const header = cmd.serializeType === SerializeType.ROCKETMQ ? encodeBinaryHeader(cmd) : encodeJsonHeader(cmd);
  const head = Buffer.allocUnsafe(8 + header.length);
  head.writeInt32BE(4 + header.length + bodyLen, 0);
  head.writeUInt32BE(((cmd.serializeType & 0xff) << 24 | (header.length & 0xffffff)) >>> 0, 4);
  header.copy(head, 8);
  return head;
}

function encodeJsonHeader(cmd: RemotingCommand): Buffer {
  // Keys in alphabetical order and nulls omitted, like fastjson.
  const obj: Record<string, unknown> = { code: cmd.code };
  if (cmd.extFields) obj.extFields = cmd.extFields;
  obj.flag = cmd.flag;
  obj.language = cmd.language;
  obj.opaque = cmd.opaque;
  if (cmd.remark !== undefined && cmd.remark !== null) obj.remark = cmd.remark;
  obj.serializeTypeCurrentRPC = SERIALIZE_NAMES[cmd.serializeType] ?? 'JSON';
  obj.version = cmd.version;
  return Buffer.from(JSON.stringify(obj), 'utf8');
}

function encodeBinaryHeader(cmd: RemotingCommand): Buffer {
  const remark = cmd.remark ? Buffer.from(cmd.remark, 'utf8') : undefined;
  const entries: Array<[Buffer, Buffer]> = [];
  let extLen = 0;
  if (cmd.extFields) {
    for (const k of Object.keys(cmd.extFields)) {
      const v = cmd.extFields[k];
      if (v === undefined || v === null) continue;
      const kb = Buffer.from(k, 'utf8');
      const vb = Buffer.from(v, 'utf8');
      entries.push([kb, vb]);
      extLen += 2 + kb.length + 4 + vb.length;
    }
  }
  const buf = Buffer.allocUnsafe(21 + (remark ? remark.length : 0) + extLen);
  let p = 0;
  buf.writeInt16BE(cmd.code, p); p += 2;
  const lang = LanguageCode[cmd.language as keyof typeof LanguageCode];
  buf.writeUInt8(lang ?? LanguageCode.OTHER, p); p += 1;
  buf.writeInt16BE(cmd.version, p); p += 2;
  buf.writeInt32BE(cmd.opaque, p); p += 4;
  buf.writeInt32BE(cmd.flag, p); p += 4;
  if (remark) {
    buf.writeInt32BE(remark.length, p); p += 4;
    remark.copy(buf, p); p += remark.length;
  } else {
    buf.writeInt32BE(0, p); p += 4;
  }
  buf.writeInt32BE(extLen, p); p += 4;
  for (const [kb, vb] of entries) {
    buf.writeInt16BE(kb.length, p); p += 2;
    kb.copy(buf, p); p += kb.length;
    buf.writeInt32BE(vb.length, p); p += 4;
    vb.copy(buf, p); p += vb.length;
  }
  return buf;
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
      const k = buf.toString('utf8', p, p + kl); p += kl;
      const vl = buf.readInt32BE(p); p += 4;
      if (vl < 0 || p + vl > end) throw new CodecError('truncated extFields value');
      if (kl > 0 && vl > 0) fields[k] = buf.toString('utf8', p, p + vl);
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
