import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Services } from '../../../src/service/index.js';
import type { TriggerInstanceRecord } from '../../../src/store/index.js';
import { forgetStored, rememberStored, takeStored } from '../../../src/triggers/index.js';

const services = (kind: 'mongo' | 'embedded') =>
  ({
    store: { kind },
    config: { executions: { dead_after_ms: 15_000 }, scheduler: { lock_lifetime_ms: 30_000 } },
  }) as unknown as Services;

const instance = (id: string): TriggerInstanceRecord =>
  ({
    id,
    trigger: 'core.st2.webhook',
    trigger_type: 'core.st2.webhook',
    payload: { body: { n: 1 } },
    occurrence_time: new Date().toISOString(),
    status: 'pending',
  }) as TriggerInstanceRecord;

/**
 * The rules engine of the process that stored a trigger instance under a new id uses that record
 * instead of reading it back, only while no other process can have taken the instance over.
 */
describe('a trigger instance handed from its dispatch to its processing', () => {
  afterEach(() => vi.useRealTimers());

  it('is handed over once, as stored, even if the caller changes its object afterwards', () => {
    const s = services('mongo');
    const record = instance('a1');
    rememberStored(s, record);
    (record.payload as { body: { n: number } }).body.n = 2;
    expect(takeStored(s, 'a1')).toMatchObject({ id: 'a1', status: 'pending', payload: { body: { n: 1 } } });
    // A second run of the same job reads the store.
    expect(takeStored(s, 'a1')).toBeUndefined();
  });

  it('is read from the store once half the shorter of the takeover delays has passed', () => {
    vi.useFakeTimers();
    const s = services('mongo');
    rememberStored(s, instance('b1'));
    rememberStored(s, instance('b2'));
    vi.advanceTimersByTime(7_000);
    expect(takeStored(s, 'b1')?.id).toBe('b1');
    vi.advanceTimersByTime(1_000); // 8 s: past 15 s / 2, when the pending sweep may requeue it elsewhere
    expect(takeStored(s, 'b2')).toBeUndefined();
  });

  it('is not held when its job could not be queued', () => {
    const mongo = services('mongo');
    rememberStored(mongo, instance('c1'));
    forgetStored(mongo, 'c1');
    expect(takeStored(mongo, 'c1')).toBeUndefined();
  });

  it('is handed over on the embedded store too', () => {
    const embedded = services('embedded');
    rememberStored(embedded, instance('c2'));
    expect(takeStored(embedded, 'c2')?.id).toBe('c2');
  });
});
