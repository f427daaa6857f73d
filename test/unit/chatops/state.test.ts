import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  LeasedAdapter,
  chatStateStore,
  type ChatAdapter,
  type ChatStateStore,
  type FormHandlers,
} from '../../../src/chatops/index.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { tempDir } from '../../support/servers.js';

let store: Store;
let cleanup: () => void;

beforeEach(async () => {
  const t = tempDir('squall-chatstate-');
  cleanup = t.cleanup;
  store = await openStore({ dataDir: t.dir });
});

afterEach(async () => {
  await store.close();
  cleanup();
});

describe('chatStateStore (an adapter’s button and form state, in chat_choices)', () => {
  it('keeps a value per adapter until it expires, replaces it, and gives it to one taker', async () => {
    const discord = chatStateStore(store, 'discord');
    const slack = chatStateStore(store, 'slack');
    await discord.put('modal:k', { context: 'ctx' }, 60_000);
    expect(await discord.get('modal:k')).toEqual({ context: 'ctx' });
    // Another adapter's key space, and the pending choices of ambiguous commands, are apart.
    expect(await slack.get('modal:k')).toBeNull();
    expect((await store.chatChoices.get('state:discord:modal:k'))?.refs).toEqual([]);
    await discord.put('modal:k', { context: 'newer' }, 60_000);
    expect(await discord.get('modal:k')).toEqual({ context: 'newer' });
    // Taken once: two submits at the same time, one of them gets it.
    const takes = await Promise.all([discord.take('modal:k'), discord.take('modal:k')]);
    expect(takes.filter((t) => t !== null)).toEqual([{ context: 'newer' }]);
    expect(await discord.get('modal:k')).toBeNull();
  });

  it('reads an expired value as missing, and a later put sweeps it', async () => {
    const state = chatStateStore(store, 'discord');
    await state.put('button:old', { payload: 'p', value: 'v' }, 1);
    await new Promise((r) => setTimeout(r, 10));
    expect(await state.get('button:old')).toBeNull();
    expect(await state.take('button:old')).toBeNull();
    await chatStateStore(store, 'discord').put('button:new', { payload: 'p', value: 'v' }, 60_000);
    expect(await store.chatChoices.get('state:discord:button:old')).toBeNull();
  });
});

describe('LeasedAdapter (a bot configured by token)', () => {
  it('hands forms, state and reactions to the adapter it wraps', async () => {
    const react = vi.fn(async () => undefined);
    const onForm = vi.fn();
    const useState = vi.fn();
    const inner = {
      name: 'discord',
      capabilities: { threads: true, updates: true, uploads: true, buttons: true, maxMessageLength: 4000 },
      forms: { maxFields: 5 },
      onForm,
      useState,
      react,
    } as unknown as ChatAdapter;
    const leased = new LeasedAdapter(inner, 'discord:abc', async () => undefined);
    leased.connectedHere = true;
    expect(leased.forms).toEqual({ maxFields: 5 });
    const handlers = {} as FormHandlers;
    leased.onForm(handlers);
    expect(onForm).toHaveBeenCalledWith(handlers);
    const state = {} as ChatStateStore;
    leased.useState(state);
    expect(useState).toHaveBeenCalledWith(state);
    await leased.react({ channel: 'C1', messageId: 'm1' }, 'succeeded', 'working');
    expect(react).toHaveBeenCalledWith({ channel: 'C1', messageId: 'm1' }, 'succeeded', 'working');
  });

  it('sends a reaction to the connected process when the bot is connected elsewhere', async () => {
    const forward = vi.fn(async () => undefined);
    const inner = { name: 'slack', capabilities: {} } as unknown as ChatAdapter;
    const leased = new LeasedAdapter(inner, 'slack:abc', forward);
    await leased.react({ channel: 'C1', messageId: 'm1' }, 'working');
    expect(forward).toHaveBeenCalledWith('slack:abc', 'react', {
      target: { channel: 'C1', messageId: 'm1' },
      add: 'working',
    });
    expect(leased.forms).toBeUndefined();
  });
});
