import type { SquallConfig } from '../config/index.js';
import type { ChatAdapter } from './adapter.js';

/**
 * Chat transports register a factory here by name; the entry points (bin/squall.js,
 * src/cli/run.ts) import `adapters/` so they do, and nothing else in src/ imports adapters.
 * A factory returns the adapter(s), or `{ off }` saying why its transport is not started (not
 * enabled, or enabled without a setting it needs). It may resolve later: a transport loads its
 * SDK only when it is configured (Slack's and Discord's cost tens of MB).
 */
export type ChatTransportOffReason = {
  /** Why, naming the settings (never their values): shown in the log and GET /api/v1/chatops/adapters. */
  off: string;
  /** Enabled, but a setting it needs is missing: a failure to report, not a choice. */
  misconfigured?: boolean;
};
type Made = ChatAdapter | ChatAdapter[] | undefined | ChatTransportOffReason;
export type ChatAdapterFactory = (config: SquallConfig) => Made | Promise<Made>;

/** A registered transport that is not started, and why. */
export interface ChatTransportOff {
  adapter: string;
  reason: string;
  misconfigured: boolean;
}

export interface ChatTransports {
  adapters: ChatAdapter[];
  off: ChatTransportOff[];
}

const factories = new Map<string, ChatAdapterFactory>();

export function registerChatAdapter(name: string, factory: ChatAdapterFactory): void {
  factories.set(name, factory);
}

/** Every configured adapter from every registered transport, and the transports left off. */
export async function chatTransports(config: SquallConfig): Promise<ChatTransports> {
  const out: ChatTransports = { adapters: [], off: [] };
  for (const [name, f] of factories) {
    const made = await f(config);
    if (made === undefined) continue;
    if (Array.isArray(made)) out.adapters.push(...made);
    else if ('off' in made)
      out.off.push({ adapter: name, reason: made.off, misconfigured: made.misconfigured === true });
    else out.adapters.push(made);
  }
  return out;
}

/** Every configured adapter, from every registered transport. */
export async function configuredChatAdapters(config: SquallConfig): Promise<ChatAdapter[]> {
  return (await chatTransports(config)).adapters;
}

export function registeredChatTransports(): string[] {
  return [...factories.keys()];
}
