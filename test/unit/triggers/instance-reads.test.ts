import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Services } from '../../../src/service/index.js';
import {
  openStore,
  type ExecutionRecord,
  type Store,
  type TriggerInstanceRecord,
} from '../../../src/store/index.js';
import { triggerInstanceReads } from '../../../src/triggers/index.js';
import { tempDir } from '../../support/servers.js';

const t = tempDir('squall-instance-reads-');
let store: Store;
let services: Services;

const EXECUTION = '6b167c63f708245e57d0e3aa';
const WEBHOOK = '6b167c63f708245e57d0e3ab';

beforeAll(async () => {
  store = await openStore({ dataDir: t.dir });
  services = {
    store,
    actionTriggerPayload: (e: ExecutionRecord) => ({ execution_id: e.id, status: e.status }),
  } as unknown as Services;
  await store.executions.insert({
    id: EXECUTION,
    action: { ref: 'core.noop' },
    status: 'succeeded',
  } as unknown as ExecutionRecord);
  // An action trigger's instance as dispatch stores it: no payload, no source.
  await store.triggerInstances.insert({
    id: EXECUTION,
    trigger: 'core.st2.generic.actiontrigger',
    trigger_type: 'core.st2.generic.actiontrigger',
    occurrence_time: '2026-12-07T10:00:00.000Z',
    status: 'processed',
  } as unknown as TriggerInstanceRecord);
  await store.triggerInstances.insert({
    id: WEBHOOK,
    trigger: 'core.st2.webhook',
    trigger_type: 'core.st2.webhook',
    payload: { body: { n: 1 } },
    occurrence_time: '2026-12-07T10:00:01.000Z',
    status: 'processed',
    source: 'webhook:x',
  } as TriggerInstanceRecord);
});
afterAll(async () => {
  await store?.close();
  t.cleanup();
});

describe('triggerInstanceReads', () => {
  it("gives an action trigger's instance its payload and source, by get, findOne and find", async () => {
    const reads = triggerInstanceReads(services);
    const built = { execution_id: EXECUTION, status: 'succeeded' };
    expect(await reads.get(EXECUTION)).toMatchObject({ payload: built, source: 'actiontrigger' });
    expect(await reads.findOne({ id: EXECUTION })).toMatchObject({ payload: built });
    const found = await reads.find({}, { sort: { occurrence_time: 1 } });
    expect(found.map((i) => i.payload)).toEqual([built, { body: { n: 1 } }]);
    expect(await reads.count({})).toBe(2);
    expect(await reads.get('6b167c63f708245e57d0e3ff')).toBeNull();
  });

  it('reads no execution for a find whose projection leaves the payload out, nor for other instances', async () => {
    const reads = triggerInstanceReads(services);
    const executions = vi.spyOn(store.executions, 'find');
    try {
      const listed = await reads.find({}, { projection: { payload: 0 } });
      expect(listed).toHaveLength(2);
      expect(listed.find((i) => i.id === EXECUTION)).not.toHaveProperty('payload');
      await reads.find({}, { projection: { id: 1, trace_context: 1 } });
      expect(await reads.get(WEBHOOK)).toMatchObject({ payload: { body: { n: 1 } } });
      expect(executions).not.toHaveBeenCalled();
      await reads.find({}, { projection: { id: 1, trigger: 1, payload: 1 } });
      expect(executions).toHaveBeenCalledTimes(1);
    } finally {
      executions.mockRestore();
    }
  });
});
