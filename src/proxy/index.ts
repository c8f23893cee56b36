export { ProxyController, type ProxyControllerOptions } from './proxy-controller.js';
export { defaultProxyConfig, DEFAULT_PROXY_PORT, type ProxyConfig } from './proxy-config.js';
export { LocalMessagingProcessor } from './local-messaging-processor.js';
export type { MessagingProcessor } from './messaging-processor.js';
export { localProxyAuth, type AuthMetadataProvider, type ProxyAuth } from './authentication.js';
export { clusterProxyAuth } from './cluster-auth-metadata.js';
