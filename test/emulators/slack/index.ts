export {
  SlackEmulator,
  RESPONSE_URL_TTL_MS,
  RESPONSE_URL_USES,
  type SlackEmulatorOptions,
} from './emulator.js';
export type * from './types.js';
export type { SlackView } from './views.js';
