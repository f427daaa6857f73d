import type { SquallConfig } from '../config/index.js';
import type { ChatAdapter } from './adapter.js';

/**
 * Chat transports register a factory here by name; the entry points (bin/squall.js,
 * src/cli/run.ts) import `adapters/` so they do, and nothing else in src/ imports adapters.
 * A factory returns undefined when its transport is not configured.
 */
export type ChatAdapterFactory = (config: SquallConfig) => ChatAdapter | ChatAdapter[] | undefined;

const factories = new Map<string, ChatAdapterFactory>();

export function registerChatAdapter(name: string, factory: ChatAdapterFactory): void {
  factories.set(name, factory);
}

/** Every configured adapter, from every registered transport. */
export function configuredChatAdapters(config: SquallConfig): ChatAdapter[] {
  return [...factories.values()].flatMap((f) => {
    const made = f(config);
    return made === undefined ? [] : Array.isArray(made) ? made : [made];
  });
}

export function registeredChatTransports(): string[] {
  return [...factories.keys()];
}
