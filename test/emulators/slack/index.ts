export { SlackEmulator, type SlackEmulatorOptions } from './emulator.js';
export type * from './types.js';
export type { SlackView } from './views.js';
