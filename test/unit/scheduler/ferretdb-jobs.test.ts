import { describe, expect, it } from 'vitest';
import { ferretdbJobsDb } from '../../../src/scheduler/ferretdb-jobs.js';

/** A job collection whose writes fail `busy` times with FerretDB's SQLITE_BUSY, then succeed. */
function busyDb(busy: number) {
  const calls: string[] = [];
  let left = busy;
  const answer = (name: string, value: unknown) => async () => {
    calls.push(name);
    if (left-- > 0)
      throw Object.assign(new Error('database is locked (5) (SQLITE_BUSY)'), { name: 'MongoServerError' });
    return value;
  };
  const coll = {
    collectionName: 'agenda_jobs',
    updateOne: answer('updateOne', { acknowledged: true, matchedCount: 1, modifiedCount: 1 }),
    findOneAndUpdate: answer('findOneAndUpdate', { _id: 'j1', name: 'trigger.process' }),
    findOne: answer('findOne', { _id: 'j1', name: 'trigger.process' }),
    insertOne: answer('insertOne', { acknowledged: true, insertedId: 'j1' }),
    deleteMany: answer('deleteMany', { acknowledged: true, deletedCount: 1 }),
  };
  const db = { collection: () => coll };
  return { db: ferretdbJobsDb(db as never), calls };
}

describe("Agenda's job collection on FerretDB", () => {
  it('tries a save again while FerretDB answers SQLITE_BUSY, so no run is left locked by a failed save', async () => {
    const { db, calls } = busyDb(2);
    const jobs = db.collection('agenda_jobs');
    // A job-state save (Agenda filters it by _id and name): written by _id once the store is free.
    const saved = await jobs.updateOne({ _id: 'j1', name: 'trigger.process' } as never, {
      $set: { lockedAt: null },
    });
    expect(saved.modifiedCount).toBe(1);
    expect(calls).toEqual(['updateOne', 'updateOne', 'updateOne']);
  });

  it('tries inserts, removals and locks again too, and gives up on any other error', async () => {
    for (const op of ['insertOne', 'deleteMany', 'findOneAndUpdate'] as const) {
      const { db, calls } = busyDb(3);
      const jobs = db.collection('agenda_jobs') as unknown as Record<
        string,
        (...a: unknown[]) => Promise<unknown>
      >;
      await jobs[op]({ _id: 'j1' }, { $set: {} }, {});
      expect(calls.filter((c) => c === op).length, op).toBeGreaterThanOrEqual(4);
    }
    const coll = {
      collectionName: 'agenda_jobs',
      insertOne: async () => {
        throw new Error('E11000 duplicate key');
      },
    };
    const jobs = ferretdbJobsDb({ collection: () => coll } as never).collection('agenda_jobs');
    await expect(jobs.insertOne({ _id: 'j1' } as never)).rejects.toThrow(/duplicate key/);
  });
});
