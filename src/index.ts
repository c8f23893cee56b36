export { startStandalone, RoleStartError, STANDALONE_DEFAULTS } from './standalone.js';
export type { Standalone, StandaloneOptions, StandaloneRole } from './standalone.js';
export { defaultBrokerConfig, defaultMessageStoreConfig, defaultNamesrvConfig } from './common/config.js';
export type { BrokerConfig, BrokerRole, FlushDiskType, MessageStoreConfig, NamesrvConfig } from './common/config.js';
export { ConfigError, loadBrokerConfig, loadNamesrvConfig, readConfigFile } from './common/config-loader.js';
export type { ConfigInput, ConfigLayer, ConfigNotice, ConfigProps } from './common/config-loader.js';
export { parseProperties, PropertiesParseError, stringifyProperties } from './common/properties-file.js';
