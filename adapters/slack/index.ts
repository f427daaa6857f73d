export { SlackAdapter, type SlackAdapterOptions } from './adapter.js';
export { slackFromConfig } from './config.js';
