export { configSchema } from './schema.js';
export { loadConfig, maskConfig, configLeaves, ConfigError, st2ApiUrl } from './load.js';
export type { SquallConfig, LoadConfigOptions } from './load.js';
