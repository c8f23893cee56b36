import { createHash } from 'node:crypto';
import { messageQueueToString, type MessageQueue } from '../route.js';
import { ClientErrorCode, MQClientError } from '../errors.js';
import { checkAllocateArgs, type AllocateMessageQueueStrategy } from './allocate-message-queue-strategy.js';

/** Maps a key to a point of the ring; upstream's default is the first 4 bytes of MD5 (unsigned). */
export type HashFunction = (key: string) => number;

/** Upstream `ConsistentHashRouter.MD5Hash`: the first 4 bytes of the UTF-8 key's MD5, big-endian, unsigned. */
export const md5Hash: HashFunction = (key) => createHash('md5').update(key, 'utf8').digest().readUInt32BE(0);

/**
 * Consistent hashing (upstream `AllocateMessageQueueConsistentHash`): each consumer puts
 * `virtualNodeCnt` nodes `"<cid>-<k>"` on a ring; a queue belongs to the first node at or after
 * the hash of `MessageQueue [topic=…, brokerName=…, queueId=…]`, wrapping around. A member
 * joining or leaving moves only the queues next to its nodes.
 */
export class AllocateMessageQueueConsistentHash implements AllocateMessageQueueStrategy {
  readonly name = 'CONSISTENT_HASH';

  /**
   * @param virtualNodeCnt nodes per consumer on the ring (default 10)
   * @param hashFunction ring hash (default MD5 as upstream)
   */
  constructor(readonly virtualNodeCnt = 10, readonly hashFunction: HashFunction = md5Hash) {
    if (virtualNodeCnt < 0) throw new MQClientError(`illegal virtualNodeCnt :${virtualNodeCnt}`, ClientErrorCode.ARGUMENT_ILLEGAL);
  }

  allocate(_group: string, currentCID: string, mqAll: readonly MessageQueue[], cidAll: readonly string[]): MessageQueue[] {
    if (!checkAllocateArgs(currentCID, mqAll, cidAll)) return [];
    // As upstream's TreeMap: a later node with the same hash replaces the earlier one.
    const ring = new Map<number, string>();
    for (const cid of cidAll) {
      for (let i = 0; i < this.virtualNodeCnt; i++) ring.set(this.hashFunction(`${cid}-${i}`), cid);
    }
    if (ring.size === 0) return [];
    const points = [...ring.keys()].sort((a, b) => a - b);
    const out: MessageQueue[] = [];
    for (const mq of mqAll) {
      const h = this.hashFunction(messageQueueToString(mq));
      let lo = 0;
      let hi = points.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (points[mid]! < h) lo = mid + 1;
        else hi = mid;
      }
      const owner = ring.get(points[lo === points.length ? 0 : lo]!);
      if (owner === currentCID) out.push(mq);
    }
    return out;
  }
}
