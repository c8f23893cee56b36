import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { Connection } from '../../src/remoting/connection.js';
import { RemotingServer } from '../../src/remoting/server.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { createRequest, createResponse } from '../../src/remoting/command.js';
import { RemotingTimeoutError } from '../../src/remoting/errors.js';
import { memoryLogger } from '../broker/helpers.js';

// Output batching over real sockets: frames of a tick share a slab that is reused once its
// writes completed, large bodies leave as their own buffers, and the order and bytes of every
// frame survive any mix of the two. Request timeouts come from the per-connection scan.

const ECHO = 2000;
const ECHO_PARTS = 2001;
const NEVER = 2002;
const ECHO_RELEASE = 2003;
let released = 0;

const { logger } = memoryLogger();
let server: RemotingServer;
let addr: string;
let client: RemotingClient;

before(async () => {
  server = new RemotingServer({ port: 0, host: '127.0.0.1', logger, idleTimeoutMs: 0 });
  server.registerProcessor(ECHO, (req) => createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { n: String(req.body?.length ?? 0) }, body: req.body }));
  server.registerProcessor(ECHO_PARTS, (req) => {
    // The body back as three views, as pull responses carry CommitLog pages.
    const b = req.body ?? Buffer.alloc(0);
    const res = createResponse(req);
    const a = Math.floor(b.length / 3);
    res.bodyParts = [b.subarray(0, a), b.subarray(a, 2 * a), b.subarray(2 * a)];
    return res;
  });
  server.registerProcessor(NEVER, () => new Promise(() => undefined));
  server.registerProcessor(ECHO_RELEASE, (req) => {
    // A copy the connection is told it may reuse once written: it is wiped then, as a pool would reuse it.
    const copy = Buffer.from(req.body ?? Buffer.alloc(0));
    const res = createResponse(req);
    res.bodyParts = [copy.subarray(0, copy.length >> 1), copy.subarray(copy.length >> 1)];
    res.onWritten = () => {
      released++;
      copy.fill(0);
    };
    return res;
  });
  await server.start();
  addr = `127.0.0.1:${server.port}`;
  client = new RemotingClient();
});

after(async () => {
  await client.shutdown();
  await server.shutdown();
});

function sizeOf(i: number): number {
  // Mostly small frames (slab), every seventh over the copy limit (own buffer), some empty.
  if (i % 7 === 3) return 16 * 1024 + (i % 5) * 7000;
  if (i % 11 === 0) return 0;
  return (i * 131) % 3000;
}

test('a response body handed back with onWritten is released once, after the socket has it', async () => {
  released = 0;
  const bodies = Array.from({ length: 300 }, (_, i) => randomBytes(i % 3 === 0 ? 40_000 + i : 1 + ((i * 97) % 9000)));
  const res = await Promise.all(bodies.map((b) => client.invoke(addr, createRequest(ECHO_RELEASE, { body: b }))));
  for (let i = 0; i < bodies.length; i++) assert.ok(res[i]!.body!.equals(bodies[i]!), `response ${i} was changed by the release`);
  // Releases of large bodies come with their write callbacks, which may trail the responses.
  for (let t = 0; t < 100 && released < bodies.length; t++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(released, bodies.length);
});

test('thousands of concurrent requests with mixed body sizes come back whole and in their own responses', async () => {
  for (const code of [ECHO, ECHO_PARTS]) {
    for (let wave = 0; wave < 6; wave++) {
      const bodies = Array.from({ length: 400 }, (_, i) => randomBytes(sizeOf(wave * 400 + i)));
      const res = await Promise.all(bodies.map((b) => client.invoke(addr, createRequest(code, { body: b.length ? b : undefined }))));
      for (let i = 0; i < bodies.length; i++) {
        assert.equal(res[i]!.code, ResponseCode.SUCCESS);
        const got = res[i]!.body ?? Buffer.alloc(0);
        assert.equal(got.length, bodies[i]!.length, `wave ${wave} request ${i}`);
        assert.ok(got.equals(bodies[i]!), `wave ${wave} request ${i}: body bytes differ`);
      }
    }
  }
});

test('a request nobody answers fails with RemotingTimeoutError after its timeout, and the connection keeps serving', async () => {
  const t0 = Date.now();
  await assert.rejects(client.invoke(addr, createRequest(NEVER), 120), (err: unknown) => err instanceof RemotingTimeoutError);
  const took = Date.now() - t0;
  assert.ok(took >= 115 && took < 1000, `timed out after ${took} ms`);
  const res = await client.invoke(addr, createRequest(ECHO, { body: Buffer.from('still here') }));
  assert.equal(res.body?.toString(), 'still here');
});

test('a timeout is kept on the clock when the event loop lags: the late scans do not stretch it', async () => {
  // The loop is held 200 ms at a time (asleep, so the other tests keep both cores), and the
  // 50 ms scan fires every 200 ms or more. Counted in scans, a 500 ms timeout took 1.8-2.3 s;
  // on the clock it ends between 500 ms and 500 ms plus two periods (about 600 ms here).
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const hog = setInterval(() => Atomics.wait(cell, 0, 0, 200), 200);
  try {
    const t0 = Date.now();
    await assert.rejects(client.invoke(addr, createRequest(NEVER), 500), (err: unknown) => err instanceof RemotingTimeoutError);
    const took = Date.now() - t0;
    assert.ok(took >= 500 && took < 1200, `timed out after ${took} ms`);
  } finally {
    clearInterval(hog);
  }
});

test('a tick that writes more than 16 KiB sends its first part at once and the rest at its end', async () => {
  // A raw peer that only counts bytes: what matters is when the client's socket is handed them.
  const peer = createServer((s) => s.resume());
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
  const socket = connect((peer.address() as AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  const conn = new Connection(socket, () => null, () => undefined);
  try {
    const body = Buffer.alloc(1024, 7);
    for (let round = 0; round < 2; round++) {
      const before = socket.bytesWritten;
      const sizes: number[] = [];
      for (let i = 0; i < 100; i++) {
        conn.invokeOneway(createRequest(ECHO, { body }));
        sizes.push(socket.bytesWritten - before);
      }
      // Nothing leaves before 16 KiB are waiting; then one part; the rest only at the tick's end.
      const first = sizes.findIndex((n) => n > 0);
      assert.ok(first >= 14 && first <= 16, `first bytes handed over after ${first + 1} frames`);
      assert.ok(sizes[first]! >= 16 * 1024, `the early part holds the frames before it (${sizes[first]} bytes)`);
      assert.equal(sizes[99], sizes[first], 'only one early part per tick');
      await new Promise((r) => setImmediate(r));
      assert.ok(socket.bytesWritten - before > 100 * 1024, 'the rest left at the end of the tick');
    }
  } finally {
    conn.close();
    await new Promise<void>((r) => peer.close(() => r()));
  }
});
