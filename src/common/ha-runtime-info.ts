/**
 * GET_BROKER_HA_STATUS's body (upstream `HARuntimeInfo`), written by the broker and read by the
 * admin client: a master's slaves, or a slave's master.
 */

/** One slave as its master sees it (upstream `HARuntimeInfo.HAConnectionRuntimeInfo`). */
export interface HAConnectionRuntimeInfo {
  addr: string;
  slaveAckOffset: number;
  diff: number;
  inSync: boolean;
  transferredByteInSecond: number;
  transferFromWhere: number;
}

export interface HARuntimeInfo {
  master: boolean;
  masterCommitLogMaxOffset: number;
  inSyncSlaveNums: number;
  haConnectionInfo: HAConnectionRuntimeInfo[];
  /** A slave's link to its master (upstream `HAClientRuntimeInfo`; `isActivated` travels as `activated`). */
  haClientRuntimeInfo: {
    masterAddr: string;
    transferredByteInSecond: number;
    maxOffset: number;
    lastReadTimestamp: number;
    lastWriteTimestamp: number;
    masterFlushOffset: number;
    activated: boolean;
  };
}
