import { CURRENT_VERSION, ResponseCode, SerializeType, type SerializeTypeValue } from './codes.js';

/** RemotingCommand flag bits. */
export const RPC_TYPE_RESPONSE = 1;
export const RPC_ONEWAY = 2;

/** One Remoting request or response, as upstream's `RemotingCommand`. */
export interface RemotingCommand {
  code: number;
  /** Language name (`JAVA`, `NODE_JS`, …). */
  language: string;
  version: number;
  opaque: number;
  flag: number;
  remark?: string;
  /** The custom header: always string values once decoded. */
  extFields?: Record<string, string>;
  body?: Buffer;
  /** Alternative to `body` for responses: parts written one after another, never concatenated. */
  bodyParts?: Buffer[];
  /** Responses: called once the connection no longer needs the body (copied, written, or dropped), e.g. to reuse its memory. */
  onWritten?: () => void;
  /** Serialization of the header this command arrived in, or is to be sent in. */
  serializeType: SerializeTypeValue;
  /**
   * Instead of `extFields`, a header that lays out its own ROCKETMQ binary extFields section
   * (the send hot path, both ways); JSON serialization uses its `toFields()`, and so should
   * in-process readers of a command (see `extFieldsOf`).
   */
  binaryExt?: BinaryExt;
}

/** A header that writes its extFields section itself, without a field object. */
export interface BinaryExt {
  /** Bytes of the section: `short keyLen, key, int valueLen, value` per field. */
  readonly byteLength: number;
  /** Writes the section at `pos`. */
  write(buf: Buffer, pos: number): void;
  /** The same fields as an object (JSON serialization, logs). */
  toFields(): Record<string, string>;
}

/** The custom header of `cmd` as fields, whichever way it carries it (`extFields` or `binaryExt`). */
export function extFieldsOf(cmd: RemotingCommand): Record<string, string> | undefined {
  return cmd.extFields ?? cmd.binaryExt?.toFields();
}

export function isResponse(cmd: RemotingCommand): boolean {
  return (cmd.flag & RPC_TYPE_RESPONSE) !== 0;
}

export function isOneway(cmd: RemotingCommand): boolean {
  return (cmd.flag & RPC_ONEWAY) !== 0;
}

export interface CommandOptions {
  extFields?: Record<string, string | number | boolean | undefined>;
  body?: Buffer;
  remark?: string;
  serializeType?: SerializeTypeValue;
  language?: string;
}

/** Turns a header object into string extFields, dropping undefined values (Java omits null fields). */
export function toExtFields(fields: Record<string, string | number | boolean | undefined> | undefined): Record<string, string> | undefined {
  if (!fields) return undefined;
  const out: Record<string, string> = {};
  for (const k of Object.keys(fields)) {
    const v = fields[k];
    if (v !== undefined) out[k] = String(v);
  }
  return out;
}

export function createRequest(code: number, opts: CommandOptions = {}): RemotingCommand {
  return {
    code,
    language: opts.language ?? 'NODE_JS',
    version: CURRENT_VERSION,
    opaque: 0,
    flag: 0,
    remark: opts.remark,
    extFields: toExtFields(opts.extFields),
    body: opts.body,
    serializeType: opts.serializeType ?? SerializeType.ROCKETMQ,
  };
}

/** A response to `request`: same opaque and the serialization the request used (ali-ons reads JSON only). */
export function createResponse(request: RemotingCommand, code: number = ResponseCode.SUCCESS, remark?: string, opts: CommandOptions = {}): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: CURRENT_VERSION,
    opaque: request.opaque,
    flag: RPC_TYPE_RESPONSE,
    remark,
    extFields: toExtFields(opts.extFields),
    body: opts.body,
    serializeType: request.serializeType,
  };
}
