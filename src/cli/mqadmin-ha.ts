import { InvalidArgumentError } from 'commander';
import { timeMillisToHumanString2 } from '../common/java.js';
import type { HARuntimeInfo } from '../client/admin-bodies.js';
import { parseNonEmptyFlag } from './common.js';
import type { CommonFlags, Ctx, Sub } from './mqadmin.js';

/**
 * `mqadmin haStatus` (upstream tools `HAStatusSubCommand`): the replication state of a broker
 * (-b) or of every master of a cluster (-c), with upstream's columns; -i repeats it every so
 * many seconds.
 */
export function registerHaCommands(sub: Sub): void {
  sub<CommonFlags & { brokerAddr?: string; clusterName?: string; interval?: number }>('haStatus', 'Fetch ha runtime status data.', (c) => c
    .option('-c, --clusterName <name>', 'which cluster', parseNonEmptyFlag)
    .option('-b, --brokerAddr <addr>', 'which broker to fetch', parseNonEmptyFlag)
    .option('-i, --interval <seconds>', 'the interval(second) of get info', parseSeconds),
  async (ctx, f) => {
    if (f.brokerAddr === undefined && f.clusterName === undefined) throw new Error('say which broker: -b <brokerAddr> or -c <clusterName>');
    if (f.clusterName !== undefined) ctx.needNamesrv();
    for (let round = 0; ; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, (f.interval ?? 3) * 1000));
      const addrs = f.brokerAddr !== undefined ? [f.brokerAddr.trim()] : await ctx.admin.masterAddrsOfCluster(f.clusterName!);
      const all: Record<string, HARuntimeInfo> = {};
      for (const addr of addrs) all[addr] = await ctx.admin.getBrokerHAStatus(addr);
      if (!ctx.asJson(all)) for (const addr of addrs) printStatus(ctx, addr, all[addr]!);
      if (f.interval === undefined) break;
    }
  });
}

function printStatus(ctx: Ctx, addr: string, info: HARuntimeInfo): void {
  if (info.master) {
    ctx.p('\n#MasterAddr\t%s\n#MasterCommitLogMaxOffset\t%d\n#SlaveNum\t%d\n#InSyncSlaveNum\t%d\n', addr, info.masterCommitLogMaxOffset, info.haConnectionInfo.length, info.inSyncSlaveNums);
    ctx.p('%-32s  %-16s %16s %16s %16s %16s\n', '#SlaveAddr', '#SlaveAckOffset', '#Diff', '#TransferSpeed(KB/s)', '#Status', '#TransferFromWhere');
    for (const c of info.haConnectionInfo) {
      ctx.p('%-32s  %-16d %16d %16.2f %16s %16d\n', c.addr, c.slaveAckOffset, c.diff, c.transferredByteInSecond / 1024, c.inSync ? 'OK' : 'Fall Behind', c.transferFromWhere);
    }
    return;
  }
  const c = info.haClientRuntimeInfo;
  ctx.p('\n#MasterAddr\t%s\n', c.masterAddr);
  ctx.p('#CommitLogMaxOffset\t%d\n', c.maxOffset);
  ctx.p('#TransferSpeed(KB/s)\t%.2f\n', c.transferredByteInSecond / 1024);
  ctx.p('#LastReadTime\t%s\n', timeMillisToHumanString2(c.lastReadTimestamp));
  ctx.p('#LastWriteTime\t%s\n', timeMillisToHumanString2(c.lastWriteTimestamp));
  ctx.p('#MasterFlushOffset\t%s\n', c.masterFlushOffset);
}

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a whole number of seconds above 0');
  return n;
}
