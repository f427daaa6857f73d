import type { SquallConfig } from '../config/index.js';
import type { ChatAdapter } from './adapter.js';

/**
 * Chat transports register a factory here by name; the entry points (bin/squall.js,
 * src/cli/run.ts) import `adapters/` so they do, and nothing else in src/ imports adapters.
 * A factory returns undefined when its transport is not configured. It may resolve later: a
 * transport loads its SDK only when it is configured (Slack's and Discord's cost tens of MB).
 */
type Made = ChatAdapter | ChatAdapter[] | undefined;
export type ChatAdapterFactory = (config: SquallConfig) => Made | Promise<Made>;

const factories = new Map<string, ChatAdapterFactory>();

export function registerChatAdapter(name: string, factory: ChatAdapterFactory): void {
  factories.set(name, factory);
}

/** Every configured adapter, from every registered transport. */
export async function configuredChatAdapters(config: SquallConfig): Promise<ChatAdapter[]> {
  const out: ChatAdapter[] = [];
  for (const f of factories.values()) {
    const made = await f(config);
    if (made !== undefined) out.push(...(Array.isArray(made) ? made : [made]));
  }
  return out;
}

export function registeredChatTransports(): string[] {
  return [...factories.keys()];
}
