/** Outcome of reading a queue (upstream `GetMessageStatus`). */
export type GetMessageStatus =
  | 'FOUND'
  | 'NO_MATCHED_MESSAGE'
  | 'MESSAGE_WAS_REMOVING'
  | 'OFFSET_FOUND_NULL'
  | 'OFFSET_OVERFLOW_BADLY'
  | 'OFFSET_OVERFLOW_ONE'
  | 'OFFSET_TOO_SMALL'
  | 'NO_MATCHED_LOGIC_QUEUE'
  | 'NO_MESSAGE_IN_QUEUE';

export interface GetMessageResult {
  status: GetMessageStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  /** Whole stored records, in queue order; a pull body is their concatenation. */
  buffers: Buffer[];
  messageCount: number;
  bufferTotalSize: number;
  /** Queue offsets of the returned records. */
  queueOffsets: number[];
  /** True when the consumer reads far behind the head (upstream "suggest slave"). */
  suggestPullingFromSlave: boolean;
  /** How long the read took, ms (the store's getMessageEntireTimeMax, the broker's get latency). */
  tookMs: number;
  /**
   * Set when `buffers` lie (partly) in reused memory (getMessage with `pooled`): call it once,
   * when they are no longer needed, and never hold them after that.
   */
  release?: () => void;
}

/** Filters evaluated while reading a queue: first on the ConsumeQueue tag code, then on the record. */
export interface MessageFilter {
  isMatchedByConsumeQueue(tagsCode: number): boolean;
  isMatchedByCommitLog?(record: Buffer): boolean;
}
