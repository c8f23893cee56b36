export { Admin } from './admin.js';
export type {
  AdminOptions, AdminTarget, TopicSpec, RollbackStats, ResetOffsetResult, ConsumerConnectionInfo, GroupConsumeInfo,
} from './admin.js';
