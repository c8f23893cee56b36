export * from './commit-log.js';
export * from './consume-queue.js';
export * from './get-message-result.js';
export * from './mapped-file.js';
export * from './mapped-file-queue.js';
export * from './message-store.js';
export * from './store-checkpoint.js';
