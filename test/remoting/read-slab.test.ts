import { test } from 'node:test';
import assert from 'node:assert/strict';
import { READ_SLAB_BYTES, READ_SLAB_MIN_ROOM, ReadSlab } from '../../src/remoting/read-slab.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RemotingServer } from '../../src/remoting/server.js';
import { createRequest, createResponse } from '../../src/remoting/command.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { createLogger } from '../../src/common/logger.js';

test('reads land back to back in one slab; a new slab comes when the room left is small', () => {
  const slab = new ReadSlab();
  const a = slab.next();
  assert.equal(a.length, READ_SLAB_BYTES);
  a.fill(1, 0, 1000);
  const first = slab.take(a, 1000);
  const b = slab.next();
  assert.equal(b.buffer, a.buffer);
  assert.equal(b.byteOffset, a.byteOffset + 1000, 'the next read goes right after the bytes taken');
  // Taken bytes are never handed out again.
  const rest = READ_SLAB_BYTES - 1000 - READ_SLAB_MIN_ROOM + 1;
  slab.take(b, rest);
  const c = slab.next();
  assert.notEqual(c.buffer, a.buffer, 'less than the minimum room left: a fresh slab');
  assert.equal(c.length, READ_SLAB_BYTES);
  c.fill(2);
  assert.ok(first.every((x) => x === 1));
});

test('a client reading into slabs gets large and small responses whole, however the socket splits them', async () => {
  const server = new RemotingServer({ port: 0, host: '127.0.0.1', logger: createLogger('test-read-slab') });
  server.registerProcessor(10, (req) => {
    // Bodies of every size around the slab's edges: responses straddle reads and slabs.
    const size = Number(req.extFields?.size);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: Buffer.alloc(size, size % 251) });
  });
  await server.start();
  const client = new RemotingClient({});
  try {
    const addr = `127.0.0.1:${server.port}`;
    const sizes = Array.from({ length: 300 }, (_, i) => (i * 7919) % (3 * READ_SLAB_MIN_ROOM));
    const replies = await Promise.all(sizes.map((size) => client.invoke(addr, createRequest(10, { extFields: { size } }), 10_000)));
    replies.forEach((r, i) => {
      const size = sizes[i]!;
      assert.equal(r.body?.length ?? 0, size);
      if (size > 0) assert.ok(r.body!.every((x) => x === size % 251), `response ${i} intact`);
    });
  } finally {
    await client.shutdown();
    await server.shutdown();
  }
});
