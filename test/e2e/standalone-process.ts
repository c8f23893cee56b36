import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MQClientAPI } from '../../src/client/index.js';
import { CliProcess, portsIn } from '../cli/spawn.js';

/**
 * A `rocketmq-standalone` child process over a store directory that outlives it, so that a test
 * can SIGKILL the process and start another over the same files.
 */
export interface StandaloneProcess {
  proc: CliProcess;
  namesrvAddr: string;
  brokerAddr: string;
}

/** Writes broker.conf (RocketMQ key names) into `dir` and returns its path. */
export function writeBrokerConf(dir: string, props: Record<string, string | number>): string {
  const path = join(dir, 'broker.conf');
  writeFileSync(path, Object.entries(props).map(([k, v]) => `${k}=${v}\n`).join(''));
  return path;
}

/**
 * Starts the standalone CLI on free ports and resolves once it logged its addresses. The caller
 * owns the process: it must stop or kill it (also when the test fails).
 */
export async function startStandaloneProcess(conf: string, store: string, timeoutMs = 15_000): Promise<StandaloneProcess> {
  const proc = new CliProcess('standalone', ['-c', conf, '--store', store, '--namesrv-port', '0', '--broker-port', '0']);
  try {
    const ready = await proc.waitForLine(/RocketMQ standalone started/, timeoutMs);
    const [nsPort, brokerPort] = portsIn(ready.msg);
    if (!nsPort || !brokerPort) throw new Error(`no ports in "${ready.msg}"`);
    return { proc, namesrvAddr: `127.0.0.1:${nsPort}`, brokerAddr: `127.0.0.1:${brokerPort}` };
  } catch (err) {
    proc.kill();
    throw err;
  }
}

/** SIGKILL: no shutdown hook runs, nothing is flushed or checkpointed, the abort file stays. */
export async function killHard(p: StandaloneProcess): Promise<void> {
  p.proc.child.kill('SIGKILL');
  const exit = await p.proc.exited;
  if (exit.signal !== 'SIGKILL') throw new Error(`expected the standalone to die of SIGKILL, it exited with ${JSON.stringify(exit)}\n${p.proc.stderr}`);
}

/** SIGTERM and a clean exit (flush, checkpoint, abort file removed). */
export async function stopClean(p: StandaloneProcess): Promise<void> {
  const exit = await p.proc.stop('SIGTERM');
  if (exit.code !== 0) throw new Error(`the standalone exited with ${JSON.stringify(exit)} on SIGTERM\nstderr: ${p.proc.stderr}`);
}

/**
 * Creates `topic` with `queues` read/write queues on the broker and waits until the NameServer
 * serves its route (the broker re-registers in the background after a topic change).
 */
export async function createTopic(p: StandaloneProcess, topic: string, queues: number, timeoutMs = 10_000): Promise<void> {
  const api = new MQClientAPI();
  try {
    await api.createTopic(p.brokerAddr, 'TBW102', {
      topicName: topic, readQueueNums: queues, writeQueueNums: queues, perm: 6,
      topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
    });
    await waitForRoute(api, p.namesrvAddr, topic, queues, timeoutMs);
  } finally {
    await api.shutdown();
  }
}

async function waitForRoute(api: MQClientAPI, namesrvAddr: string, topic: string, queues: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const route = await api.getTopicRouteInfoFromNameServer(namesrvAddr, topic);
      if (route.queueDatas.some((q) => q.writeQueueNums === queues)) return;
    } catch {
      // TOPIC_NOT_EXIST until the broker's registration lands.
    }
    if (Date.now() > deadline) throw new Error(`the NameServer at ${namesrvAddr} has no route of ${topic} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
