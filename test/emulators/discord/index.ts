export { DiscordEmulator, type DiscordEmulatorOptions } from './emulator.js';
export type * from './types.js';
export type { DiscordModal, DiscordTextInput } from './modals.js';
