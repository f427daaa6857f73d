import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamRoutes } from '../../../src/stream/index.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { waitFor } from '../../support/wait.js';

/** Reads SSE frames from a fetch body until `done` says so or the stream ends. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  done: (names: string[]) => boolean,
): Promise<string[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const names: string[] = [];
  let text = '';
  while (!done(names)) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const frame = text.slice(0, end);
      text = text.slice(end + 2);
      const name = /^event: (.*)$/m.exec(frame)?.[1];
      if (name) names.push(name);
    }
  }
  await reader.cancel();
  return names;
}

describe('event stream', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ subsystems: [{ name: 'stream', routes: streamRoutes() }] });
  }, 60_000);
  afterAll(async () => api?.stop(), 60_000);

  it('never sends chat calls forwarded between processes, even to events=*', async () => {
    const res = await fetch(`${api.url}/stream/v1/stream?events=*`, {
      headers: { 'X-Auth-Token': api.adminToken },
    });
    expect(res.status).toBe(200);
    const reading = readEvents(res.body!, (names) => names.includes('st2.announcement__marker'));
    // Give the stream a moment to subscribe: publish until the marker is seen.
    const publisher = setInterval(() => {
      api.services.bus.publish('squall.chatops.forward', { method: 'post', args: [{ text: 'whisper' }] });
      api.services.bus.publish('squall.chatops.forward.result', { id: 'x' });
      api.services.bus.publish('st2.announcement__marker', {});
    }, 50);
    const names = await reading.finally(() => clearInterval(publisher));
    expect(names).toContain('st2.announcement__marker');
    expect(names.filter((n) => n.startsWith('squall.chatops.forward'))).toEqual([]);
  });

  it('sends an event only after a sync begun after it, not with the batch whose sync was in flight', async () => {
    const store = api.services.store;
    const realSync = store.sync;
    // The disk is held: each sync waits until the test lets the ones begun so far finish.
    let held: Array<() => void> = [];
    const releaseBegun = () => {
      const begun = held;
      held = [];
      for (const release of begun) release();
    };
    (store as { sync: () => Promise<void> }).sync = () =>
      new Promise<void>((resolve) => held.push(resolve)).then(() => realSync.call(store));
    try {
      const res = await fetch(`${api.url}/stream/v1/stream?events=st2.announcement__held_*`, {
        headers: { 'X-Auth-Token': api.adminToken },
      });
      expect(res.status).toBe(200);
      api.services.bus.publish('st2.announcement__held_first', {});
      await waitFor(() => held.length > 0, 'the first event to wait for a sync');
      // Its commit comes after that sync began: the sync in flight does not cover it.
      api.services.bus.publish('st2.announcement__held_second', {});
      releaseBegun();
      let secondSyncReleased = false;
      const seen: Array<{ name: string; secondSyncReleased: boolean }> = [];
      const reading = readEvents(res.body!, (names) => {
        for (const name of names.slice(seen.length)) seen.push({ name, secondSyncReleased });
        if (names.includes('st2.announcement__held_first') && !secondSyncReleased) {
          secondSyncReleased = true;
          // Lets the sync the stream began after writing the first event (if any) finish.
          setImmediate(releaseBegun);
        }
        return names.includes('st2.announcement__held_second');
      });
      await reading;
      expect(seen).toEqual([
        { name: 'st2.announcement__held_first', secondSyncReleased: false },
        { name: 'st2.announcement__held_second', secondSyncReleased: true },
      ]);
    } finally {
      (store as { sync: () => Promise<void> }).sync = realSync;
      releaseBegun();
    }
  });
});
