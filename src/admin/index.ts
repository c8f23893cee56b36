export { Admin, TrackType, messageTrackString } from './admin.js';
export type {
  AdminOptions, AdminTarget, TopicSpec, RollbackStats, ResetOffsetResult, ConsumerConnectionInfo, GroupConsumeInfo, MessageTrack, TrackTypeValue,
} from './admin.js';
