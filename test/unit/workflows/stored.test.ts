// How a workflow's state is stored apart (src/workflows/engine/stored.ts): a task still under way
// rides in the head only while each step changes it, and gets its own record once a step leaves
// it unchanged or it is settled; a reader without the writer's cache, and a write whose task
// records were lost in a crash, still see every task.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/index.js';
import {
  StateCache,
  TASK_BATCH,
  TASK_RIDE_CHARS,
  readState,
  stateRecordsOf,
  writeState,
  type Hydrated,
} from '../../../src/workflows/engine/stored.js';
import {
  OrquestaConductor,
  parseWorkflowSpec,
  type ConductorState,
  type TaskEntry,
} from '../../../src/workflows/orquesta/index.js';
import { freshMongoUrl, MONGO_URL, tempDir } from '../../support/servers.js';

interface T {
  key: string;
  status: string;
  applied: boolean;
  result?: unknown;
}
type Rec = Hydrated<T>;

const stores: Array<[string, () => { mongoUrl?: string }]> = [['embedded', () => ({})]];
if (MONGO_URL) stores.push(['mongo', () => ({ mongoUrl: freshMongoUrl() })]);

describe.each(stores)('workflow state stored apart (%s)', (_name, options) => {
  let store: Store;
  let cleanup: () => void;
  beforeEach(async () => {
    const t = tempDir('squall-stored-');
    cleanup = t.cleanup;
    store = await openStore({ dataDir: t.dir, ...options() });
  });
  afterEach(async () => {
    await store.close();
    cleanup();
  });

  const settled = (t: T) => t.applied;
  /** The task records (own or batch), as stored: each task of the highest revision. */
  const apart = async () => {
    const docs = (await store.workflows.find({
      ...stateRecordsOf('wf1'),
      kind: 'task',
    })) as unknown as Array<{
      state: { rev: number } & ({ n: number; task: T } | { tasks: Array<{ n: number; task: T }> });
    }>;
    const byKey = new Map<string, { rev: number; task: T }>();
    for (const { state: d } of docs)
      for (const { task } of 'tasks' in d ? d.tasks : [d])
        if ((byKey.get(task.key)?.rev ?? -1) < d.rev) byKey.set(task.key, { rev: d.rev, task });
    return { records: docs.length, task: (key: string) => byKey.get(key)?.task };
  };
  const fresh = async () => ((await readState<T>(store, 'wf1')) as Rec).state.tasks;

  /** The engine's first step (no cache), then `a` applied and `b` requested with the cache. */
  async function twoSteps(cache: StateCache<T>): Promise<Rec> {
    const a: T = { key: 'a', status: 'running', applied: false };
    const first = {
      id: 'wf1',
      execution_id: 'wf1',
      kind: 'action-chain',
      status: 'running',
      state: { tasks: [a], conductor: { n: 1 } },
    } as unknown as Rec;
    await writeState(store, first, [a], { first: true });
    const rec = (await readState<T>(store, 'wf1', cache)) as Rec;
    const [ra] = rec.state.tasks as [T];
    ra.applied = true;
    ra.status = 'succeeded';
    const b: T = { key: 'b', status: 'running', applied: false };
    rec.state.tasks.push(b);
    await writeState(store, rec, [ra, b], { cache, settled });
    return rec;
  }

  /** One step with the cache (or, `cache` undefined, as another process): adds `task`. */
  async function add(task: T, cache?: StateCache<T>): Promise<void> {
    const rec = (await readState<T>(store, 'wf1', cache)) as Rec;
    rec.state.tasks.push(task);
    await writeState(store, rec, [task], { cache, settled });
  }

  it('keeps settled tasks in the head until TASK_BATCH are due, then writes them in one record; one under way rides while each step changes it', async () => {
    const cache = new StateCache<T>();
    await twoSteps(cache);
    // a settled, b under way: both ride in the head (one record written: none).
    expect((await apart()).records).toBe(0);
    expect(await fresh()).toMatchObject([
      { key: 'a', applied: true },
      { key: 'b', applied: false },
    ]);
    // Settled tasks one step each: b is due apart from the first of them (left unchanged).
    for (let i = 0; i < TASK_BATCH - 3; i++)
      await add({ key: `c${i}`, status: 'succeeded', applied: true }, cache);
    expect((await apart()).records).toBe(0);
    expect(await fresh()).toHaveLength(TASK_BATCH - 1);
    await add({ key: 'last', status: 'succeeded', applied: true }, cache);
    const stored = await apart();
    expect(stored.records).toBe(1);
    expect(stored.task('a')).toMatchObject({ applied: true, status: 'succeeded' });
    expect(stored.task('b')).toMatchObject({ applied: false });
    expect(stored.task('last')).toMatchObject({ applied: true });
    expect((await fresh()).map((t) => t.key)).toEqual([
      'a',
      'b',
      ...Array.from({ length: TASK_BATCH - 3 }, (_, i) => `c${i}`),
      'last',
    ]);
    // The next under way rides again; a task of a newer record wins over its older one.
    const rec = (await readState<T>(store, 'wf1', cache)) as Rec;
    const b = rec.state.tasks[1] as T;
    b.applied = true;
    b.status = 'failed';
    await writeState(store, rec, [b], { cache, settled });
    expect((await fresh())[1]).toMatchObject({ key: 'b', status: 'failed' });
    for (let i = 0; i < TASK_BATCH - 1; i++) await add({ key: `d${i}`, status: 'succeeded', applied: true });
    const again = await apart();
    expect(again.records).toBe(2);
    expect(again.task('b')).toMatchObject({ status: 'failed' });
    expect((await fresh())[1]).toMatchObject({ key: 'b', status: 'failed' });
  });

  it('writes the tasks due apart at once when they weigh over TASK_RIDE_CHARS, and a reader without the cache sees them riding', async () => {
    await twoSteps(new StateCache<T>());
    // Another process: a and b still ride (one step, nothing changed).
    const rec = (await readState<T>(store, 'wf1')) as Rec;
    await writeState(store, rec, [], { settled });
    expect((await apart()).records).toBe(0);
    expect(await fresh()).toMatchObject([{ key: 'a' }, { key: 'b' }]);
    // A task with a large result does not ride: it goes with those before it.
    const big = { key: 'big', status: 'succeeded', applied: true, result: 'x'.repeat(TASK_RIDE_CHARS) };
    await add(big);
    const stored = await apart();
    expect(stored.records).toBe(1);
    expect(stored.task('big')).toEqual(big);
    expect(stored.task('a')).toMatchObject({ applied: true });
    expect(await fresh()).toMatchObject([{ key: 'a' }, { key: 'b' }, { key: 'big' }]);
  });

  it('a batch record lost in a crash after its head is read from the head, and written at the next step', async () => {
    await twoSteps(new StateCache<T>());
    await add({ key: 'big', status: 'succeeded', applied: true, result: 'x'.repeat(TASK_RIDE_CHARS) } as T);
    await store.workflows.deleteMany({ ...stateRecordsOf('wf1'), kind: 'task' });
    expect(await fresh()).toMatchObject([
      { key: 'a', applied: true },
      { key: 'b', applied: false },
      { key: 'big' },
    ]);
    const rec = (await readState<T>(store, 'wf1')) as Rec;
    await writeState(store, rec, [], { settled });
    const stored = await apart();
    expect(stored.records).toBe(1);
    expect(stored.task('a')).toMatchObject({ applied: true });
    expect(stored.task('big')).toMatchObject({ key: 'big' });
    expect(await fresh()).toMatchObject([
      { key: 'a', applied: true },
      { key: 'b', applied: false },
      { key: 'big' },
    ]);
  });

  it('reads task records of one task each, as written before batches', async () => {
    await twoSteps(new StateCache<T>());
    const old = (n: number, task: T, rev: number) =>
      store.workflows.replace({
        id: `wf1/t/${task.key}`,
        execution_id: `wf1/t/${task.key}`,
        kind: 'task',
        status: 'task',
        state: { rev, n, task },
      } as never);
    // a's own record from revision 1 (older than the head's a): the head wins; c's alone is read.
    await old(0, { key: 'a', status: 'running', applied: false }, 1);
    await old(2, { key: 'c', status: 'succeeded', applied: true }, 2);
    expect(await fresh()).toMatchObject([
      { key: 'a', applied: true },
      { key: 'b', applied: false },
      { key: 'c', applied: true },
    ]);
  });

  it("stores Orquesta's sequence apart but for its last entries, and counts no chunk a head does not count", async () => {
    const entry = (i: number) => ({ id: `t${i}`, route: 0, status: 'succeeded', result: { big: i } });
    const sequence = Array.from({ length: 40 }, (_, i) => entry(i));
    const record = {
      id: 'wf1',
      execution_id: 'wf1',
      kind: 'orquesta',
      status: 'running',
      state: { tasks: [], conductor: { spec: { tasks: {} }, sequence } },
    } as unknown as Rec;
    const cache = new StateCache<T>();
    await writeState(store, record, [], { first: true, cache });
    const head = (await store.workflows.get('wf1')) as unknown as {
      seq_apart: number;
      state: { conductor: { sequence: unknown[] } };
    };
    expect(head.seq_apart).toBe(32);
    expect(head.state.conductor.sequence).toHaveLength(8);
    const stripped = sequence.map(({ result: _, ...e }) => e);
    const seqOf = (r: Rec | null) => (r?.state.conductor as { sequence: unknown[] }).sequence;
    expect(seqOf(await readState<T>(store, 'wf1'))).toEqual(stripped);
    // Orquesta's index of each task's last entry is not stored: a read rebuilds it.
    expect(head.state.conductor).not.toHaveProperty('tasks');
    const index = ((await readState<T>(store, 'wf1'))?.state.conductor as { tasks: Record<string, number> })
      .tasks;
    expect(index).toEqual(Object.fromEntries(sequence.map((e, i) => [`${e.id}__r0`, i])));

    // A new entry: the cache and a fresh read agree (entries stored apart that the conductor
    // changes are the conductor tests' below).
    const rec = (await readState<T>(store, 'wf1', cache)) as Rec;
    const seq = seqOf(rec) as Array<Record<string, unknown>>;
    seq.push({ id: 't40', route: 0 });
    await writeState(store, rec, [], { cache });
    const expected = [...stripped, { id: 't40', route: 0 }];
    expect(seqOf(await readState<T>(store, 'wf1'))).toEqual(expected);
    const hit = seqOf(await readState<T>(store, 'wf1', cache)) as Array<Record<string, unknown>>;
    expect(hit.map(({ result: _, ...e }) => e)).toEqual(expected);

    // A chunk written by a step that died before its head is not counted.
    await store.workflows.replace({
      id: 'wf1/q/000002',
      execution_id: 'wf1/q/000002',
      kind: 'seq',
      status: 'seq',
      state: { entries: [{ id: 'ghost' }] },
    } as never);
    expect(seqOf(await readState<T>(store, 'wf1'))).toEqual(expected);
  });

  // Orquesta's conductor changes entries stored apart in place (a long task completing after many
  // others, resume, rerun); writeState rewrites those it touched, not every entry. Each step runs as
  // the engine's does (state read with the process's cache, conducted in place, written); after each
  // a read without the cache (another process, or this one restarted) sees what the conductor has.
  describe('entries an Orquesta conductor changes after they are stored apart', () => {
    /** 24 tasks started at once: the first write stores the first 16 entries apart. */
    const spec = parseWorkflowSpec(
      `version: 1.0\ntasks:\n${Array.from({ length: 24 }, (_, i) => `  p${i}:\n    action: core.noop\n`).join('')}`,
    );
    const cache = new StateCache<T>();
    const stored = (seq: TaskEntry[]) =>
      JSON.parse(JSON.stringify(seq.map(({ result: _, ...e }) => e))) as unknown;
    const conductorOf = (r: Rec | null) => r!.state.conductor as ConductorState;

    /** A new workflow's state, after `before` on its conductor, written as the engine's first step. */
    async function begin(before: (c: OrquestaConductor) => void): Promise<void> {
      const c = OrquestaConductor.create(spec);
      expect(c.start()).toHaveLength(24);
      before(c);
      const record = {
        id: 'wf1',
        execution_id: 'wf1',
        kind: 'orquesta',
        status: 'running',
        state: { tasks: [], conductor: c.state },
      } as unknown as Rec;
      await writeState(store, record, [], { first: true, cache });
      expect(((await store.workflows.get('wf1')) as unknown as { seq_apart: number }).seq_apart).toBe(16);
    }

    /** One step: read with the cache, conduct, write; then what a fresh read finds. */
    async function step(conduct: (c: OrquestaConductor) => void): Promise<ConductorState> {
      const rec = (await readState<T>(store, 'wf1', cache)) as Rec;
      const c = OrquestaConductor.fromState(conductorOf(rec), { adopt: true });
      conduct(c);
      rec.status = c.status;
      await writeState(store, rec, [], { cache });
      const fresh = conductorOf(await readState<T>(store, 'wf1'));
      expect(stored(fresh.sequence)).toEqual(stored(c.state.sequence));
      expect(fresh.status).toBe(c.state.status);
      return fresh;
    }

    const complete =
      (from: number, to: number, status = 'succeeded') =>
      (c: OrquestaConductor) => {
        for (let i = from; i < to; i++) c.onTaskCompleted(`p${i}`, 0, { status, result: { i } });
      };

    it('a task stored apart while it ran is stored completed once it completes', async () => {
      await begin(() => {});
      for (let i = 1; i < 24; i++) await step(complete(i, i + 1));
      const done = await step(complete(0, 1));
      expect(done.status).toBe('succeeded');
      expect(done.sequence[0]).toMatchObject({ id: 'p0', status: 'succeeded', term: true });
    });

    it('resume sets a paused task stored apart as paused running again, for a fresh read too', async () => {
      await begin(complete(0, 1, 'paused'));
      const paused = await step(complete(1, 24));
      expect(paused.status).toBe('paused');
      expect(paused.sequence[0]).toMatchObject({ id: 'p0', status: 'paused' });
      const resumed = await step((c) => expect(c.resume()).toEqual([]));
      expect(resumed.status).toBe('running');
      expect(resumed.sequence[0]).toMatchObject({ id: 'p0', status: 'running' });
      expect((await step(complete(0, 1))).status).toBe('succeeded');
    });

    it('rerun takes `term` off a failed task stored apart, for a fresh read too', async () => {
      await begin(complete(0, 1, 'failed'));
      const failed = await step(complete(1, 24));
      expect(failed.status).toBe('failed');
      expect(failed.sequence[0]).toMatchObject({ id: 'p0', status: 'failed', term: true });
      const rerun = await step((c) => expect(c.rerun({ tasks: ['p0'] })).toHaveLength(1));
      expect(rerun.sequence[0]).not.toHaveProperty('term');
      expect(rerun.sequence[24]).toMatchObject({ id: 'p0', status: 'running' });
      expect((await step(complete(0, 1))).status).toBe('succeeded');
    });
  });
});
