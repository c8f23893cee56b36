import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { useStandalone, type Standalone, type StandaloneSettings } from './standalone-fixture.js';
import { createRequest } from '../../src/remoting/command.js';
import { RequestCode, SerializeType } from '../../src/remoting/codes.js';

/** What a PushConsumer test file works with; set once the standalone has started. */
export interface PushFixture {
  readonly mq: Standalone;
  /** Started, shut down after the file's tests. */
  readonly producer: Producer;
  /** BROADCASTING consumers keep their offsets files under here. */
  readonly offsetDir: string;
  /** A consumer of this standalone, shut down after the file's tests. */
  consumer(opts: ConstructorParameters<typeof PushConsumer>[0]): PushConsumer;
}

/** A standalone with a started producer of `producerGroup` for the tests of one PushConsumer file. */
export function usePushFixture(tmpPrefix: string, producerGroup: string, settings: StandaloneSettings = {}): PushFixture {
  let mq: Standalone | undefined;
  let producer: Producer | undefined;
  let offsetDir: string | undefined;
  const consumers: PushConsumer[] = [];
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the standalone has not started');
    return v;
  };
  useStandalone(tmpPrefix, {
    async started(s) {
      mq = s;
      offsetDir = mkdtempSync(join(tmpdir(), `${tmpPrefix}offsets-`));
      producer = new Producer({ group: producerGroup, namesrvAddr: s.namesrvAddr });
      await producer.start();
    },
    async stopping() {
      for (const c of consumers) await c.shutdown();
      await producer?.shutdown();
      if (offsetDir) rmSync(offsetDir, { recursive: true, force: true });
    },
  }, settings);
  return {
    get mq() { return ready(mq); },
    get producer() { return ready(producer); },
    get offsetDir() { return ready(offsetDir); },
    consumer(opts) {
      const c = new PushConsumer({ namesrvAddr: ready(mq).namesrvAddr, localOffsetStoreDir: ready(offsetDir), ...opts });
      consumers.push(c);
      return c;
    },
  };
}

/**
 * The broker side of `mqadmin resetOffsetByTime`: RESET_CONSUMER_CLIENT_OFFSET with `offset` for
 * queue `queueId` of `topic`, pushed to every client of `group` on the broker of `mq`.
 */
export function pushResetOffset(mq: Standalone, group: string, topic: string, brokerName: string, queueId: number, offset: number): void {
  // The fixture's Standalone type names only addresses; the real one carries its broker.
  const { broker } = mq as unknown as { broker: { consumerManager: { get(g: string): { channels: Map<{ invokeOneway(cmd: unknown): void }, unknown> } | undefined } } };
  const clients = broker.consumerManager.get(group);
  if (!clients) throw new Error(`group ${group} has no consumer on the broker`);
  for (const conn of clients.channels.keys()) {
    conn.invokeOneway(createRequest(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, {
      extFields: { topic, group, timestamp: 0 },
      body: Buffer.from(`{"offsetTable":{${JSON.stringify({ brokerName, queueId, topic })}:${offset}}}`),
      serializeType: SerializeType.JSON,
    }));
  }
}
