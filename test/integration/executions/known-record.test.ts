import { expect, it } from 'vitest';
import type { ExecutionRecord } from '../../../src/store/index.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { useExecutionsService } from '../../support/test-service.js';
import { waitFor } from '../../support/wait.js';

/**
 * setStatus(…, known): the record a caller just read or wrote spares a read, but it is never
 * trusted over the store. A record that moved on since is read afresh before anything is decided.
 */
for (const target of STORE_TARGETS) {
  describeWithServer(
    `a status move from a known record (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      const suite = useExecutionsService(target.kind, { 'executions.check_every_ms': 600_000 });
      const service = () => suite.executions.service();
      const later = () =>
        service().request({ action: 'core.local', parameters: { cmd: 'true' }, user: 't', delay: 600_000 });

      it('a stale record that allows the move does not win over a completed execution', async () => {
        const stale = await service().request({
          action: 'core.local',
          parameters: { cmd: 'true' },
          user: 't',
        });
        await waitFor(
          async () =>
            (await suite.svc.services.store.executions.get(stale.id))?.status === 'succeeded' ? true : null,
          'the execution to succeed',
        );
        // The record as requested says `requested`: scheduling it looks legal, the store says otherwise.
        await expect(service().setStatus(stale.id, 'scheduled', {}, stale)).rejects.toMatchObject({
          code: 'ILLEGAL_TRANSITION',
        });
        const stored = (await suite.svc.services.store.executions.get(stale.id)) as ExecutionRecord;
        expect(stored.status).toBe('succeeded');
        expect(stored.log.map((l) => l.status)).toEqual(['requested', 'scheduled', 'running', 'succeeded']);
      });

      it('a stale record that refuses the move is read again, and the move is made', async () => {
        const waiting = await later();
        expect(waiting.status).toBe('delayed');
        const behind = { ...waiting, status: 'succeeded' } as ExecutionRecord;
        const canceled = await service().setStatus(waiting.id, 'canceled', { reason: 'test' }, behind);
        expect(canceled.status).toBe('canceled');
        expect(canceled.log.map((l) => l.status)).toEqual(['requested', 'delayed', 'canceled']);
      });

      it('a record of another execution is not used', async () => {
        const a = await later();
        const b = await later();
        const moved = await service().setStatus(a.id, 'canceled', {}, b);
        expect(moved.id).toBe(a.id);
        expect((await suite.svc.services.store.executions.get(b.id))?.status).toBe('delayed');
      });
    },
  );
}
