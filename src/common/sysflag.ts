/** Message sysFlag bits (upstream `MessageSysFlag`). */
export const MessageSysFlag = {
  COMPRESSED_FLAG: 0x1,
  MULTI_TAGS_FLAG: 0x2,
  TRANSACTION_NOT_TYPE: 0,
  TRANSACTION_PREPARED_TYPE: 0x4,
  TRANSACTION_COMMIT_TYPE: 0x8,
  TRANSACTION_ROLLBACK_TYPE: 0xc,
  BORNHOST_V6_FLAG: 0x10,
  STOREHOSTADDRESS_V6_FLAG: 0x20,
  NEED_UNWRAP_FLAG: 0x40,
  INNER_BATCH_FLAG: 0x80,
  COMPRESSION_TYPE_MASK: 0x700,
  COMPRESSION_ZLIB: 0x300,
} as const;

export function transactionValue(sysFlag: number): number {
  return sysFlag & MessageSysFlag.TRANSACTION_ROLLBACK_TYPE;
}

export function resetTransactionValue(sysFlag: number, type: number): number {
  return (sysFlag & ~MessageSysFlag.TRANSACTION_ROLLBACK_TYPE) | type;
}

/** Topic sysFlag bits (upstream `TopicSysFlag`): a unit topic, and one with unit subscriptions. */
export const TopicSysFlag = {
  FLAG_UNIT: 0x1,
  FLAG_UNIT_SUB: 0x2,
} as const;

/** Pull request sysFlag bits (upstream `PullSysFlag`). */
export const PullSysFlag = {
  FLAG_COMMIT_OFFSET: 0x1,
  FLAG_SUSPEND: 0x2,
  FLAG_SUBSCRIPTION: 0x4,
  FLAG_CLASS_FILTER: 0x8,
  FLAG_LITE_PULL_MESSAGE: 0x10,
} as const;

export function buildPullSysFlag(commitOffset: boolean, suspend: boolean, subscription: boolean, classFilter = false): number {
  let flag = 0;
  if (commitOffset) flag |= PullSysFlag.FLAG_COMMIT_OFFSET;
  if (suspend) flag |= PullSysFlag.FLAG_SUSPEND;
  if (subscription) flag |= PullSysFlag.FLAG_SUBSCRIPTION;
  if (classFilter) flag |= PullSysFlag.FLAG_CLASS_FILTER;
  return flag;
}
