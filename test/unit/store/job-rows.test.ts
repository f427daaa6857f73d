import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { jobModel } from '../../../src/store/index.js';

const nedb = createRequire(import.meta.url)('@seald-io/nedb/lib/model.js') as {
  serialize(doc: unknown): string;
  deserialize(text: string): Record<string, unknown>;
};

const job = {
  _id: 'j1',
  name: 'execution.run',
  data: { id: 'e1', at: new Date('2026-12-05T01:00:00.000Z'), list: [new Date(5), { n: 1 }, null] },
  priority: 0,
  nextRunAt: new Date('2026-12-05T01:00:01.000Z'),
  lockedAt: null,
  lastRunAt: new Date(0),
  disabled: false,
  skipped: undefined,
};

describe('Agenda job rows on the embedded store', () => {
  it('are written as nedb wrote them (Dates as {$$date}), so rows from before still read', () => {
    expect(jobModel.serialize(job)).toBe(nedb.serialize(job));
  });

  it('are written unchanged, and as nedb wrote them when data holds more than plain values', () => {
    const text = jobModel.serialize(job);
    expect(job.nextRunAt).toBeInstanceOf(Date);
    expect(job.data.list[0]).toBeInstanceOf(Date);
    expect(jobModel.serialize(job)).toBe(text);
    class Stamp {
      at = new Date(7);
      toJSON() {
        return { stamp: this.at.getTime() };
      }
    }
    const odd = { ...job, data: { stamp: new Stamp(), bytes: Buffer.from('ab'), at: new Date(9) } };
    expect(jobModel.serialize(odd)).toBe(nedb.serialize(odd));
  });

  it('read back with every Date restored, whether written now or by nedb', () => {
    for (const text of [jobModel.serialize(job), nedb.serialize(job)]) {
      const doc = jobModel.deserialize(text);
      expect(doc).toEqual(nedb.deserialize(text));
      expect(doc.nextRunAt).toBeInstanceOf(Date);
      expect((doc.nextRunAt as Date).toISOString()).toBe('2026-12-05T01:00:01.000Z');
      expect((doc.lastRunAt as Date).getTime()).toBe(0);
      const data = doc.data as { at: Date; list: unknown[] };
      expect(data.at).toBeInstanceOf(Date);
      expect(data.list[0]).toEqual(new Date(5));
      expect(doc.lockedAt).toBeNull();
      expect('skipped' in doc).toBe(false);
    }
  });
});
