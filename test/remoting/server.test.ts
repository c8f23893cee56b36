import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RemotingServer } from '../../src/remoting/server.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { encodeCommand } from '../../src/remoting/codec.js';
import { ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import { createRequest, createResponse, RPC_ONEWAY, type RemotingCommand } from '../../src/remoting/command.js';
import { HeaderError, reqString } from '../../src/remoting/header.js';
import { frame, memoryLogger, RawConn, sleep, warnLinesAbout } from '../broker/helpers.js';

// RemotingServer over real 127.0.0.1 sockets: dispatch, error answers, and bad input that must
// close only the offending connection, log one line, and leave every other client served.

const ECHO = 1000;
const THROWS = 1001;
const BAD_HEADER = 1002;
const SLOW = 1003;
const MAX_FRAME = 4096;

const { logger, lines } = memoryLogger();
let server: RemotingServer;
let addr: string;
let good: RemotingClient;
let onewaySeen = 0;

before(async () => {
  server = new RemotingServer({ port: 0, host: '127.0.0.1', logger, maxFrameSize: MAX_FRAME, idleTimeoutMs: 0 });
  server.registerProcessor(ECHO, (req) => {
    if ((req.flag & RPC_ONEWAY) !== 0) onewaySeen++;
    return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { ...req.extFields, n: req.body?.length ?? 0 }, body: req.body });
  });
  server.registerProcessor(THROWS, () => { throw new Error('boom'); });
  server.registerProcessor(BAD_HEADER, (req) => createResponse(req, ResponseCode.SUCCESS, reqString(req.extFields, 'topic')));
  server.registerProcessor(SLOW, async (req) => { await sleep(50); return createResponse(req); });
  await server.start();
  addr = `127.0.0.1:${server.port}`;
  // The well-behaved client connects before any bad input and must be served throughout.
  good = new RemotingClient();
  await echo();
});

after(async () => {
  await good.shutdown();
  await server.shutdown();
});

async function echo(text = 'ping'): Promise<void> {
  const res = await good.invoke(addr, createRequest(ECHO, { extFields: { text }, body: Buffer.from(text) }));
  assert.equal(res.code, ResponseCode.SUCCESS);
  assert.equal(res.extFields?.text, text);
  assert.equal(res.body?.toString(), text);
}

test('unknown request code: REQUEST_CODE_NOT_SUPPORTED with upstream remark, in the serialization of the request', async () => {
  for (const st of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
    const res = await good.invoke(addr, createRequest(4242, { serializeType: st }));
    assert.equal(res.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    assert.equal(res.remark, ' request type 4242 not supported');
    assert.equal(res.serializeType, st);
  }
  // And over a raw socket, so the response is checked as bytes on the wire: type byte 0 = JSON.
  const raw = await RawConn.open(addr);
  const req = createRequest(4243, { serializeType: SerializeType.JSON });
  req.opaque = 77;
  raw.write(encodeCommand(req));
  const res = await raw.response();
  assert.equal(res.opaque, 77);
  assert.equal(res.flag & 1, 1);
  assert.equal(res.remark, ' request type 4243 not supported');
  assert.equal(res.serializeType, SerializeType.JSON);
  raw.destroy();
});

test('a processor that throws answers SYSTEM_ERROR and logs; a bad header answers with a remark naming the field', async () => {
  const before = lines.length;
  const res = await good.invoke(addr, createRequest(THROWS));
  assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
  assert.match(res.remark ?? '', /boom/);
  assert.equal(lines.slice(before).filter((l) => l.level >= 40).length, 1);

  const bad = await good.invoke(addr, createRequest(BAD_HEADER, { extFields: { other: 'x' } }));
  assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
  assert.match(bad.remark ?? '', /<topic>/);
  assert.ok(new HeaderError('x').responseCode === ResponseCode.SYSTEM_ERROR);
  await echo();
});

test('oneway requests are processed and never answered', async () => {
  const raw = await RawConn.open(addr);
  const req = createRequest(ECHO, { extFields: { text: 'ow' } });
  req.flag |= RPC_ONEWAY;
  const seen = onewaySeen;
  raw.write(encodeCommand(req));
  // A normal request after it: its answer must be the first frame back.
  const req2 = createRequest(ECHO, { extFields: { text: 'after' } });
  req2.opaque = 5;
  raw.write(encodeCommand(req2));
  const res = await raw.response();
  assert.equal(res.opaque, 5);
  assert.equal(res.extFields?.text, 'after');
  assert.equal(onewaySeen, seen + 1);
  await sleep(30);
  assert.equal(raw.frames.length, 0);
  raw.destroy();
});

test('frames split byte by byte and several frames in one chunk are all served, in order', async () => {
  const raw = await RawConn.open(addr);
  const frames = [1, 2, 3].map((i) => {
    const r = createRequest(ECHO, { extFields: { text: `m${i}` }, serializeType: i % 2 ? SerializeType.JSON : SerializeType.ROCKETMQ });
    r.opaque = i;
    return encodeCommand(r);
  });
  const first = frames[0]!;
  for (let i = 0; i < first.length; i++) {
    raw.write(first.subarray(i, i + 1));
    if (i % 16 === 0) await sleep(1);
  }
  raw.write(Buffer.concat([frames[1]!, frames[2]!]));
  const got: RemotingCommand[] = [await raw.response(), await raw.response(), await raw.response()];
  assert.deepEqual(got.map((r) => r.opaque), [1, 2, 3]);
  assert.deepEqual(got.map((r) => r.extFields?.text), ['m1', 'm2', 'm3']);
  raw.destroy();
});

function jsonHeader(obj: unknown): Buffer {
  return Buffer.from(JSON.stringify(obj));
}

const VALID_HEADER = jsonHeader({ code: ECHO, flag: 0, language: 'JAVA', opaque: 1, version: 479, extFields: { text: 'x' } });

/** Each entry: bytes that make the stream unusable. */
const BAD_INPUTS: Array<[string, Buffer]> = [
  ['an oversize length (2 GiB)', Buffer.from('7fffffff00000010', 'hex')],
  ['a negative length', Buffer.from('ffffff0000000010', 'hex')],
  ['a length below the 4-byte minimum', Buffer.from('00000002aabb', 'hex')],
  ['a header length larger than the frame', frame(0, VALID_HEADER, Buffer.alloc(0), 4 + 10).subarray(0, 8 + 10)],
  ['invalid JSON in the header', frame(0, Buffer.from('{"code":1000,"flag":0,'))],
  ['a JSON header that is not an object', frame(0, Buffer.from('[1,2,3]'))],
  ['a JSON header whose code is not a number', frame(0, jsonHeader({ code: 'x', flag: 0 }))],
  ['an unknown serialize type', frame(7, VALID_HEADER)],
  ['a binary header shorter than its fixed part', frame(1, Buffer.alloc(10))],
  ['a binary header whose remark length overruns it', frame(1, Buffer.concat([Buffer.from('03e800000100000001000000007fffffff', 'hex'), Buffer.alloc(8)]))],
  ['random bytes (an HTTP request)', Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')],
  // Fixed "random" bytes (seeded), so the test is deterministic.
  ['random bytes (seeded noise)', seededNoise(512)],
];

function seededNoise(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 0x2545f491;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    b[i] = x & 0xff;
  }
  // The first byte decides the length word; keep it above 0x00 so the length exceeds 16 MiB as noise nearly always does.
  b[0] = b[0]! | 0x10;
  return b;
}

for (const [what, bytes] of BAD_INPUTS) {
  test(`bad input — ${what}: only that connection is closed, one log line, others served`, async () => {
    const raw = await RawConn.open(addr);
    const name = raw.serverSideName;
    raw.write(bytes);
    assert.ok(await raw.waitClosed(), `the server should close the connection after ${what}`);
    assert.equal(raw.frames.length, 0);
    await sleep(20);
    assert.equal(warnLinesAbout(lines, name).length, 1, `exactly one warn line about ${name}: ${JSON.stringify(warnLinesAbout(lines, name))}`);
    await echo(`after ${what}`);
  });
}

test('a frame larger than the configured maximum closes the connection; one just below is served', async () => {
  const ok = createRequest(ECHO, { extFields: { text: 'big' }, body: Buffer.alloc(MAX_FRAME - 200, 7) });
  const okBytes = encodeCommand(ok);
  assert.ok(okBytes.length - 4 <= MAX_FRAME);
  const raw1 = await RawConn.open(addr);
  raw1.write(okBytes);
  const res = await raw1.response();
  assert.equal(res.code, ResponseCode.SUCCESS);
  assert.equal(res.extFields?.n, String(MAX_FRAME - 200));
  raw1.destroy();

  const raw = await RawConn.open(addr);
  const name = raw.serverSideName;
  raw.write(encodeCommand(createRequest(ECHO, { body: Buffer.alloc(MAX_FRAME + 1) })));
  assert.ok(await raw.waitClosed());
  await sleep(20);
  const warned = warnLinesAbout(lines, name);
  assert.equal(warned.length, 1);
  assert.match(String(warned[0]!.msg), new RegExp(`maximum frame size|${MAX_FRAME}`));
  await echo();
});

test('a connection closed mid-frame is dropped with one log line; a pending request on another connection completes', async () => {
  const slow = good.invoke(addr, createRequest(SLOW));
  const raw = await RawConn.open(addr);
  const name = raw.serverSideName;
  await sleep(20);
  const count = server.connectionCount;
  const bytes = encodeCommand(createRequest(ECHO, { extFields: { text: 'cut' }, body: Buffer.alloc(100) }));
  raw.write(bytes.subarray(0, 30));
  await sleep(20);
  raw.socket.end();
  await raw.closed;
  const end = Date.now() + 2000;
  while (server.connectionCount >= count && Date.now() < end) await sleep(10);
  assert.equal(server.connectionCount, count - 1);
  assert.equal(warnLinesAbout(lines, name).length, 1, 'one line says the peer closed in the middle of a frame');
  assert.equal((await slow).code, ResponseCode.SUCCESS);
  await echo();
});

test('a client that connects and leaves without a byte is dropped silently', async () => {
  const raw = await RawConn.open(addr);
  const name = raw.serverSideName;
  raw.socket.end();
  await raw.closed;
  await sleep(20);
  assert.equal(warnLinesAbout(lines, name).length, 0);
  await echo();
});

test('shutdown closes every client connection; a later request fails to connect', async () => {
  const s = new RemotingServer({ port: 0, host: '127.0.0.1', logger, idleTimeoutMs: 0 });
  s.registerProcessor(ECHO, (req) => createResponse(req));
  await s.start();
  const a = `127.0.0.1:${s.port}`;
  const raw = await RawConn.open(a);
  const c = new RemotingClient({ connectTimeoutMs: 500 });
  assert.equal((await c.invoke(a, createRequest(ECHO))).code, 0);
  await s.shutdown();
  assert.ok(await raw.waitClosed());
  await assert.rejects(c.invoke(a, createRequest(ECHO), 500));
  await c.shutdown();
});
