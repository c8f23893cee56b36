export * from './broker-controller.js';
export * from './topic-config-manager.js';
export * from './consumer-offset-manager.js';
export * from './subscription-group-manager.js';
export * from './client/consumer-manager.js';
export * from './client/heartbeat.js';
export * from './filter.js';
