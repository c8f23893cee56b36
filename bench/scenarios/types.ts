import type { BrokerConf } from '../standalone-child.js';
import type { SystemOptions } from '../load.js';

/** Every knob a scenario may read, resolved (flag › --all quick value › scenario default › global default). */
export interface ScenarioOptions {
  producers: number;
  /** Outstanding sends in total, across all producers. */
  inflight: number;
  size: number;
  /** Seconds of each timed send phase. */
  duration: number;
  /** Seconds of the same load, untimed, before a timed send phase (JIT, connections, new files). */
  warmup: number;
  queues: number;
  pullBatch: number;
  /** drain: pulls outstanding per queue. */
  pullInflight: number;
  serialize: 'ROCKETMQ' | 'JSON';
  flush: 'ASYNC_FLUSH' | 'SYNC_FLUSH';
  /** drain: messages in the backlog. */
  backlog: number;
  /** backlog: messages to hold. */
  messages: number;
  /** backlog: seconds of the TPS windows at the start and the end. */
  window: number;
  /** backlog: pulls at random old offsets. */
  pulls: number;
  /** topics: how many. */
  topics: number;
  /** restart: CommitLog bytes to fill. */
  bytes: number;
  /** Messages per send when filling untimed backlogs (drain, restart). */
  fillBatch: number;
  /** restart: seconds a fresh standalone idles before its RSS is read. */
  idleSettle: number;
  brokerConf: Record<string, string>;
  /** Producers batch single sends (upstream autoBatch) with this batchMaxDelayMs; undefined: off. */
  autoBatch?: number;
  /** autoBatch: batchMaxBytes; undefined: the producer's default (32 KiB, as upstream). */
  autoBatchBytes?: number;
  tmp?: string;
  keepStore: boolean;
}

export type OptionKey = keyof ScenarioOptions;

export interface Scenario {
  name: string;
  summary: string;
  /** Defaults of this scenario that differ from the global ones. */
  defaults?: Partial<ScenarioOptions>;
  /** What --all uses instead of the defaults (a ~10 minute session for everything). */
  quick?: Partial<ScenarioOptions>;
  run(o: ScenarioOptions): Promise<void>;
}

/** The child's options: the scenario's broker.conf entries, then --broker-conf over them. */
export function systemOptions(o: ScenarioOptions, conf: BrokerConf): SystemOptions {
  return { conf: { ...conf, ...o.brokerConf }, serialize: o.serialize, parentDir: o.tmp, keepDir: o.keepStore, autoBatchDelayMs: o.autoBatch, autoBatchBytes: o.autoBatchBytes };
}

/** Common JSON fields of a load. */
export function loadShape(o: ScenarioOptions, flushDiskType: string): Record<string, unknown> {
  const shape: Record<string, unknown> = { flushDiskType, producers: o.producers, inflight: o.inflight, size: o.size, queues: o.queues, serialize: o.serialize };
  if (o.autoBatch !== undefined) {
    shape.autoBatchDelayMs = o.autoBatch;
    shape.autoBatchBytes = o.autoBatchBytes ?? 32 * 1024;
  }
  return shape;
}
