import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_TARGETS } from '../../support/servers.js';
import { startEvents, type EventsService } from './support.js';

const embedded = STORE_TARGETS.find((t) => t.kind === 'embedded')!;
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('webhook → rule → core.noop on the embedded store', () => {
  let s: EventsService;
  beforeAll(async () => {
    s = await startEvents(embedded);
    await s.createRule({
      name: 'hook_noop',
      pack: 'writes',
      enabled: true,
      trigger: { type: 'core.st2.webhook', parameters: { url: 'writes_noop' } },
      action: { ref: 'core.noop' },
    });
  }, 60_000);
  afterAll(async () => {
    await s?.svc.cleanup();
  });

  const hook = async () => {
    const res = await s.api('POST', '/api/v1/webhooks/writes_noop?wait=30', { n: 1 });
    expect(res.status, res.text).toBe(200);
    expect(res.body.executions).toMatchObject([{ status: 'succeeded' }]);
  };

  it('costs at most 8 commits (each fsync-ed before what it acknowledges), traces and jobs included', async () => {
    const db = s.svc.services.store.embedded!;
    await hook(); // first-use work (compiled validators, the trace queue) out of the count
    await tick(300);
    const before = db.commits;
    const n = 10;
    for (let i = 0; i < n; i++) await hook();
    await tick(300); // the tail after each answer: the action trigger's processing, job removals
    // One at a time, each webhook used to cost ~34 commits (one per awaited write).
    expect((db.commits - before) / n).toBeLessThanOrEqual(8);
  });
});
