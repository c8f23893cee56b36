import { Command } from 'commander';
import { MQClientAPI } from '../src/client/index.js';
import { encodeProperties } from '../src/common/properties.js';
import { PullSysFlag } from '../src/common/sysflag.js';
import { BrokerChild, disposeAllChildren } from './standalone-child.js';
import { emit, round, type Row } from './common.js';

/**
 * Delay-level accuracy: sends messages with delay levels spread over a window, consumes them
 * with long-polling pulls as they become visible, and reports how late each arrived after
 * send time + its level's delay (p50 / p99 / max lateness).
 */
const program = new Command('delay-accuracy')
  .description('measure how late delay-level messages arrive after their delay')
  .option('--messages <n>', 'messages to send', (v) => Number(v), 2000)
  .option('--levels <list>', 'messageDelayLevel of the child broker', '1s 2s 3s 4s 5s')
  .option('--spread <seconds>', 'send the messages over this long', (v) => Number(v), 10);

async function main(): Promise<void> {
  const o = program.parse().opts<{ messages: number; levels: string; spread: number }>();
  const delays = o.levels.trim().split(/\s+/).map((x) => Number(x.slice(0, -1)) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[x.slice(-1) as 's']!);
  const broker = await BrokerChild.start({ conf: { messageDelayLevel: o.levels } });
  const api = new MQClientAPI();
  const topic = `DelayAccuracy-${Date.now()}`;
  const due = new Map<string, number>();
  const lateness: number[] = [];
  try {
    await api.createTopic(broker.brokerAddr, 'TBW102', { topicName: topic, readQueueNums: 1, writeQueueNums: 1, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false });
    let offset = 0;
    let done = false;
    const consume = (async () => {
      while (!done || lateness.length < o.messages) {
        const r = await api.pullMessage(broker.brokerAddr, {
          consumerGroup: 'DELAY_ACCURACY', topic, queueId: 0, queueOffset: offset, maxMsgNums: 32,
          sysFlag: PullSysFlag.FLAG_SUBSCRIPTION | PullSysFlag.FLAG_SUSPEND, commitOffset: 0, suspendTimeoutMillis: 1000, subscription: '*', subVersion: 0,
        }, 5000);
        const now = Date.now();
        for (const m of r.msgFoundList) {
          const d = due.get(m.body.toString());
          if (d !== undefined) lateness.push(now - d);
        }
        offset = r.nextBeginOffset;
        if (done && lateness.length >= o.messages) break;
      }
    })();
    const gap = (o.spread * 1000) / o.messages;
    const start = Date.now();
    for (let i = 0; i < o.messages; i++) {
      const wait = start + i * gap - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const level = 1 + (i % delays.length);
      const id = `m-${i}`;
      due.set(id, Date.now() + delays[level - 1]!);
      await api.sendMessage(broker.brokerAddr, 'broker-a', {
        producerGroup: 'PG', topic, defaultTopic: 'TBW102', defaultTopicQueueNums: 1, queueId: 0, sysFlag: 0, bornTimestamp: Date.now(), flag: 0,
        properties: encodeProperties({ DELAY: String(level) }),
      }, Buffer.from(id));
    }
    done = true;
    await consume;
    lateness.sort((a, b) => a - b);
    const q = (p: number): number => lateness[Math.min(lateness.length - 1, Math.floor(p * lateness.length))]!;
    const rows: Row[] = [
      ['messages', lateness.length], ['levels', o.levels],
      ['lateness p50 (ms)', round(q(0.5))], ['lateness p99 (ms)', round(q(0.99))], ['lateness max (ms)', round(lateness[lateness.length - 1]!)],
      ['early (ms, min)', round(lateness[0]!)],
    ];
    emit('delay-accuracy', rows, { messages: lateness.length, levels: o.levels, latenessMs: { p50: q(0.5), p99: q(0.99), max: lateness[lateness.length - 1], min: lateness[0] } });
  } finally {
    await api.shutdown();
    await broker.dispose();
    await disposeAllChildren();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
