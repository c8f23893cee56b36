export * from './send-message-header.js';
export * from './pull-message-header.js';
export * from './consumer-offset-header.js';
export * from './reply-message-header.js';
export * from './pop-message-header.js';
export * from './notification-header.js';
export * from './auth-header.js';
