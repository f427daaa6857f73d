import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../../src/ids.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { describeWithServer } from '../../support/servers.js';

/**
 * The embedded store acknowledges a write once its group commit is fsync'd, but a read on the same
 * connection sees it as soon as it is committed. An API answer that showed such a record before its
 * fsync, followed by a kill, told the client of a state the restart then did not have (a workflow
 * task shown succeeded ran again: test/integration/workflows/crash.test.ts, now and then). An
 * answer leaves only once what it may show is on disk.
 */
describeWithServer(
  'API answers show only what is on disk (embedded store)',
  'the embedded store',
  true,
  () => {
    let api: TestApi;
    beforeAll(async () => {
      api = await startTestApi();
    }, 60_000);
    afterAll(() => api?.stop());

    it("a record written but not yet fsync'd is answered only after its fsync", async () => {
      const embedded = api.services.store.embedded!;
      const realFsync = embedded.fsync;
      const events: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      // The disk is slow: this fsync finishes only when the test says so.
      embedded.fsync = (fd, done) => {
        void held.then(() => {
          events.push('fsync done');
          realFsync(fd, done);
        });
      };
      try {
        const name = `durable_${newId()}`;
        // Written straight to the store (as an engine step would), its acknowledgement not awaited.
        const now = new Date().toISOString();
        const written = api.services.store.kvPairs.insert({
          id: newId(),
          uid: `st2kv.system:${name}`,
          name,
          scope: 'system',
          value: 'v',
          secret: false,
          encrypted: false,
          created_at: now,
          updated_at: now,
        } as never);
        const answer = api.request('GET', `/api/v1/keys/${name}`).then((res) => {
          events.push('answered');
          return res;
        });
        await new Promise((r) => setTimeout(r, 300));
        expect(events).toEqual([]);
        release();
        const res = await answer;
        await written;
        expect(res.status).toBe(200);
        expect(res.body.value).toBe('v');
        // Other writes may share or follow the fsync; the answer comes after the one it waited for.
        expect(events[0]).toBe('fsync done');
        expect(events).toContain('answered');
      } finally {
        embedded.fsync = realFsync;
        release();
      }
    });
  },
);
