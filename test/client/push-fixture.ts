import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { useStandalone, type Standalone, type StandaloneSettings } from './standalone-fixture.js';

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
