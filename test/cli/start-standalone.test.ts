import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ConfigError, RoleStartError, startStandalone } from '../../src/index.js';
import { decodeClusterInfo } from '../../src/common/route.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { tempDir } from '../helpers/tmp.js';

/** startStandalone as a Node application's own tests use it: in process, ephemeral ports. */

const SMALL = { mappedFileSizeCommitLog: 1024 * 1024, mappedFileSizeConsumeQueue: 6000, maxMessageSize: 65536 };

test('startStandalone on ephemeral ports: the broker registers with the embedded NameServer', async () => {
  const t = tempDir('rmq-sa-api-');
  const mq = await startStandalone({ storeDir: t.dir, ports: { namesrv: 0, broker: 0 }, storeConfig: SMALL });
  const client = new RemotingClient();
  try {
    assert.match(mq.namesrvAddr, /^127\.0\.0\.1:\d+$/);
    assert.equal(mq.namesrvAddr, `127.0.0.1:${mq.namesrv.port}`);
    assert.notEqual(mq.namesrv.port, 0);
    assert.equal(mq.brokerAddr, `127.0.0.1:${mq.broker.port}`);
    assert.equal(mq.storeDir, t.dir);
    assert.ok(existsSync(join(t.dir, 'abort')));

    const res = await client.invoke(mq.namesrvAddr, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    const info = decodeClusterInfo(res.body as Buffer);
    assert.deepEqual(info.clusterAddrTable.DefaultCluster, ['broker-a']);
    assert.equal(info.brokerAddrTable['broker-a']?.brokerAddrs['0'], mq.brokerAddr);
  } finally {
    await client.shutdown();
    await mq.shutdown();
    t.cleanup();
  }
});

test('shutdown is idempotent, leaves a clean store, and the same store starts again', async () => {
  const t = tempDir('rmq-sa-api-');
  try {
    const mq = await startStandalone({ storeDir: t.dir, ports: { namesrv: 0, broker: 0 }, storeConfig: SMALL });
    await Promise.all([mq.shutdown(), mq.shutdown()]);
    await mq.shutdown();
    assert.equal(existsSync(join(t.dir, 'abort')), false);
    assert.equal(existsSync(join(t.dir, 'checkpoint')), true);

    const again = await startStandalone({
      storeDir: t.dir,
      ports: { namesrv: 0, broker: 0 },
      storeConfig: SMALL,
      brokerConfig: { brokerName: 'broker-z', brokerClusterName: 'C9' },
    });
    assert.equal(again.broker.port > 0, true);
    await again.shutdown();
  } finally {
    t.cleanup();
  }
});

test('host: both roles bind to it and advertise it', async () => {
  const t = tempDir('rmq-sa-api-');
  const mq = await startStandalone({ storeDir: t.dir, ports: { namesrv: 0, broker: 0 }, storeConfig: SMALL, host: '127.0.0.1' });
  try {
    assert.equal(mq.namesrvAddr, `127.0.0.1:${mq.namesrv.port}`);
    assert.equal(mq.brokerAddr, `127.0.0.1:${mq.broker.port}`);
    assert.equal(mq.broker.brokerConfig.namesrvAddr, mq.namesrvAddr);
  } finally {
    await mq.shutdown();
    t.cleanup();
  }
});

test('kvConfig lives under <storeDir>/namesrv', async () => {
  const t = tempDir('rmq-sa-api-');
  const mq = await startStandalone({ storeDir: t.dir, ports: { namesrv: 0, broker: 0 }, storeConfig: SMALL });
  try {
    assert.equal(mq.namesrv.config.kvConfigPath, join(t.dir, 'namesrv', 'kvConfig.json'));
  } finally {
    await mq.shutdown();
    t.cleanup();
  }
});

test('invalid options are ConfigErrors naming the key, raised before anything listens', async () => {
  const t = tempDir('rmq-sa-api-');
  try {
    await assert.rejects(startStandalone({ storeDir: t.dir, ports: { namesrv: 70000 } }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, 'ports.namesrv');
      return true;
    });
    await assert.rejects(
      startStandalone({ storeDir: t.dir, ports: { namesrv: 0, broker: 0 }, storeConfig: { mappedFileSizeConsumeQueue: 30 } }),
      (err: unknown) => err instanceof ConfigError && err.key === 'mappedFileSizeConsumeQueue',
    );
    await assert.rejects(
      startStandalone({ storeDir: t.dir, ports: { namesrv: 0, broker: 0 }, brokerConfig: { brokerId: -1 } }),
      (err: unknown) => err instanceof ConfigError && err.key === 'brokerId',
    );
    await assert.rejects(startStandalone({ storeDir: t.dir, host: 'not-an-ip' }), ConfigError);
    assert.equal(existsSync(join(t.dir, 'commitlog')), false);
  } finally {
    t.cleanup();
  }
});

test('a NameServer port in use is a RoleStartError carrying the EADDRINUSE cause; nothing is left open', async () => {
  const t = tempDir('rmq-sa-api-');
  const blocker = createServer();
  await new Promise<void>((res) => blocker.listen(0, '0.0.0.0', res));
  const port = (blocker.address() as AddressInfo).port;
  try {
    await assert.rejects(startStandalone({ storeDir: t.dir, ports: { namesrv: port, broker: 0 } }), (err: unknown) => {
      assert.ok(err instanceof RoleStartError);
      assert.equal(err.role, 'NameServer');
      assert.equal(err.port, port);
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
      return true;
    });
  } finally {
    await new Promise<void>((res) => blocker.close(() => res()));
    t.cleanup();
  }
});

test('a Broker port in use stops the NameServer it had started', async () => {
  const t = tempDir('rmq-sa-api-');
  const blocker = createServer();
  await new Promise<void>((res) => blocker.listen(0, '0.0.0.0', res));
  const port = (blocker.address() as AddressInfo).port;
  try {
    await assert.rejects(
      startStandalone({ storeDir: t.dir, ports: { namesrv: 0, broker: port }, storeConfig: SMALL }),
      (err: unknown) => err instanceof RoleStartError && err.role === 'Broker',
    );
    // The file's node:test run would hang on a leaked listener; the abort file shows the store was closed.
    assert.equal(existsSync(join(t.dir, 'abort')), false);
  } finally {
    await new Promise<void>((res) => blocker.close(() => res()));
    t.cleanup();
  }
});
