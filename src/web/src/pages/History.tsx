import { useCallback, useEffect, useRef, useState } from 'react';
import { get, qs, request, STATUSES, type Execution } from '../api';
import { VirtualList } from '../components/index';
import { subscribe, useStreamOpened, useStreamState } from '../live';
import { href, navigate, useRoute } from '../router';
import { countOf, ErrorBox, formatDuration, formatTime, StatusBadge, useAsync } from '../ui';

const PAGE = 100;
const ROW = 36;
const FIELDS =
  'id,action.ref,status,start_timestamp,end_timestamp,elapsed_seconds,context.user,rule.ref,parent,runner.name';

/** `after` and `before` are ISO-8601 times (as the API's timestamp_gt / timestamp_lt take them). */
interface Filters {
  action: string;
  status: string;
  user: string;
  rule: string;
  after: string;
  before: string;
}
const EMPTY: Filters = { action: '', status: '', user: '', rule: '', after: '', before: '' };

function toIso(local: string): string {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** An ISO time as a datetime-local value, in the browser's zone, to the second. */
function toLocal(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
}

/** The filters a link gives in the URL (#/history?status=failed&timestamp_gt=…), as the API names them. */
function fromUrl(q: URLSearchParams): Filters {
  return {
    action: q.get('action') ?? '',
    status: q.get('status') ?? '',
    user: q.get('user') ?? '',
    rule: q.get('rule') ?? '',
    after: toIso(q.get('timestamp_gt') ?? ''),
    before: toIso(q.get('timestamp_lt') ?? ''),
  };
}

/** Whether a live execution belongs in the list under these filters (top-level only, as st2web). */
function matches(e: Execution, f: Filters): boolean {
  if (e.parent) return false;
  if (f.action && e.action?.ref !== f.action) return false;
  if (f.status && !f.status.split(',').includes(e.status)) return false;
  if (f.user && e.context?.user !== f.user) return false;
  if (f.rule && e.rule?.ref !== f.rule) return false;
  if (f.after && !(e.start_timestamp > f.after)) return false;
  if (f.before && !(e.start_timestamp < f.before)) return false;
  return true;
}

/**
 * Executions, newest first, windowed: pages of 100 are fetched as they scroll into view, and
 * live events prepend new executions and update the ones already shown.
 */
export function History() {
  const route = useRoute();
  const initial = fromUrl(route.query);
  const [filters, setFilters] = useState<Filters>(initial);
  const [draft, setDraft] = useState<Filters>(initial);
  const [total, setTotal] = useState<number | undefined>();
  const [error, setError] = useState<unknown>();
  const [, setVersion] = useState(0);
  const ids = useRef<(string | undefined)[]>([]);
  const rows = useRef(new Map<string, Execution>());
  const loading = useRef(new Set<number>());
  // Updates of executions not listed yet, kept while a page read is in flight: that read may have
  // been answered before them, and its rows must not undo them (a run that ended then stayed
  // "running").
  const reads = useRef(0);
  const early = useRef(new Map<string, Execution>());
  // Executions the stream put on top while a page read is in flight: the read's rows go below
  // them (they took the first row of a list read answered before they existed).
  const created = useRef<string[]>([]);
  const generation = useRef(0);
  const bump = useCallback(() => setVersion((v) => v + 1), []);
  const options = useAsync(() => get<Record<string, string[]>>('/api/v1/executions/views/filters'), []);

  const query = useCallback(
    (offset: number) =>
      `/api/v1/executions${qs({
        parent: 'null',
        limit: PAGE,
        offset,
        include_attributes: FIELDS,
        action: filters.action,
        status: filters.status,
        user: filters.user,
        rule: filters.rule,
        timestamp_gt: filters.after,
        timestamp_lt: filters.before,
      })}`,
    [filters],
  );

  const loadPage = useCallback(
    async (page: number) => {
      if (loading.current.has(page)) return;
      loading.current.add(page);
      const gen = generation.current;
      reads.current += 1;
      const since = created.current.length;
      try {
        const r = await request<Execution[]>('GET', query(page * PAGE));
        if (gen !== generation.current) return;
        // Those the read has as well are listed already; the others are above its rows.
        const fresh = new Set(created.current.slice(since));
        const answered = new Set(r.data.map((e) => e.id));
        const above = [...fresh].filter((id) => !answered.has(id)).length;
        const count = Number(r.headers.get('X-Total-Count') ?? r.data.length) + above;
        if (ids.current.length < count) ids.current.length = count;
        r.data.forEach((e, i) => {
          const known = rows.current.get(e.id) ?? early.current.get(e.id);
          rows.current.set(e.id, known ? { ...e, ...known } : e);
          if (!fresh.has(e.id)) ids.current[page * PAGE + i + above] = e.id;
        });
        setTotal(ids.current.length);
        setError(undefined);
        bump();
      } catch (err) {
        if (gen === generation.current) setError(err);
        loading.current.delete(page);
      } finally {
        reads.current -= 1;
        if (reads.current === 0) {
          early.current.clear();
          created.current = [];
        }
      }
    },
    [query, bump],
  );

  const restart = useCallback(() => {
    generation.current += 1;
    ids.current = [];
    rows.current = new Map();
    loading.current = new Set();
    setTotal(undefined);
    void loadPage(0);
  }, [loadPage]);

  /**
   * The pages read so far, read again in place (the stream was down: what it published then never
   * arrives): executions new since go on top, the others are updated where they are, so the user's
   * scroll position and pages stay. More new ones than a page: the list is read afresh.
   */
  const refresh = useCallback(async () => {
    const gen = generation.current;
    const pages = [...loading.current].sort((a, b) => a - b);
    reads.current += 1;
    const since = created.current.length;
    try {
      for (const page of pages) {
        const r = await request<Execution[]>('GET', query(page * PAGE));
        if (gen !== generation.current) return;
        // The read's answer, unless the stream updated the row since it was asked.
        const merge = (e: Execution) => ({ ...rows.current.get(e.id), ...e, ...early.current.get(e.id) });
        if (page === 0) {
          const known = r.data.findIndex((e) => rows.current.has(e.id));
          // Nothing in common (more new ones than a page, or nothing listed before): from the top.
          if (known === -1 && r.data.length > 0) {
            restart();
            return;
          }
          const added = (known === -1 ? r.data : r.data.slice(0, known)).filter(
            (e) => !rows.current.has(e.id),
          );
          for (const e of r.data) rows.current.set(e.id, merge(e));
          // Below those the stream put on top during this read: they are newer.
          ids.current.splice(created.current.length - since, 0, ...added.map((e) => e.id));
        } else {
          for (const e of r.data) if (rows.current.has(e.id)) rows.current.set(e.id, merge(e));
        }
        setTotal(ids.current.length);
        bump();
      }
      setError(undefined);
    } catch (err) {
      if (gen === generation.current) setError(err);
    } finally {
      reads.current -= 1;
      if (reads.current === 0) {
        early.current.clear();
        created.current = [];
      }
    }
  }, [query, bump, restart]);

  // What was published before the stream opened (a run that ended just after the list was read),
  // or while it was down, never arrives. So the list's first read waits for the stream to open
  // (one read, not one before the opening and one after), and each later opening reads again the
  // pages read so far. A stream that does not open within a moment does not hold the list back.
  const stream = useStreamState();
  // Whether the first read was let go: the stream is open (or down), or it did not open in time.
  const [ready, setReady] = useState(false);
  const settled = stream === 'open' || stream === 'down';
  useEffect(() => {
    if (ready) return;
    if (settled) return setReady(true);
    const timer = window.setTimeout(() => setReady(true), 1500);
    return () => window.clearTimeout(timer);
  }, [ready, settled]);
  // The first read, and a new one from the top when the filters change.
  useEffect(() => {
    if (ready) restart();
  }, [ready, restart]);
  // An opening after the first read (the stream was late, or down): `ready` is still false in the
  // render of an opening that lets the first read go, which needs no second read.
  useStreamOpened(() => {
    if (ready) void refresh();
  });

  useEffect(() => {
    const offCreate = subscribe('st2.execution__create', (data) => {
      const e = data as Execution;
      if (!matches(e, filters) || rows.current.has(e.id)) return;
      rows.current.set(e.id, e);
      ids.current.unshift(e.id);
      if (reads.current > 0) created.current.push(e.id);
      // Pages already fetched moved down by one: refetching them would duplicate rows.
      setTotal(ids.current.length);
      bump();
    });
    const offUpdate = subscribe('st2.execution__update', (data) => {
      const e = data as Execution;
      const known = rows.current.get(e.id);
      // Kept for the reads in flight: their answers may be older than this update.
      if (reads.current > 0) early.current.set(e.id, { ...early.current.get(e.id), ...e });
      if (!known) return;
      rows.current.set(e.id, { ...known, ...e });
      bump();
    });
    return () => {
      offCreate();
      offUpdate();
    };
  }, [filters, bump]);

  const onRange = useCallback(
    (start: number, end: number) => {
      for (let p = Math.floor(start / PAGE); p <= Math.floor(Math.max(start, end - 1) / PAGE); p++) {
        const i = p * PAGE;
        if (i < ids.current.length && ids.current[i] === undefined) void loadPage(p);
      }
    },
    [loadPage],
  );

  const set = (k: keyof Filters, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const apply = (next: Filters) => {
    setDraft(next);
    setFilters(next);
  };

  return (
    <section className="page history">
      <h1>History</h1>
      <form
        className="filters"
        aria-label="Filter executions"
        onSubmit={(e) => {
          e.preventDefault();
          apply(draft);
        }}
      >
        <label>
          Action
          <input
            list="f-actions"
            value={draft.action}
            onChange={(e) => set('action', e.target.value)}
            placeholder="pack.action"
          />
          <datalist id="f-actions">
            {options.data?.action?.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </label>
        <label>
          Status
          <select value={draft.status} onChange={(e) => apply({ ...draft, status: e.target.value })}>
            <option value="">any</option>
            {draft.status && !STATUSES.includes(draft.status) && (
              <option value={draft.status}>{draft.status.replace(/,/g, ', ')}</option>
            )}
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          User
          <input list="f-users" value={draft.user} onChange={(e) => set('user', e.target.value)} />
          <datalist id="f-users">
            {options.data?.user?.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </label>
        <label>
          Rule
          <input value={draft.rule} onChange={(e) => set('rule', e.target.value)} placeholder="pack.rule" />
        </label>
        <label>
          Started in
          <select
            value=""
            onChange={(e) => {
              const hours = Number(e.target.value);
              if (hours)
                apply({
                  ...draft,
                  after: new Date(Date.now() - hours * 3_600_000).toISOString(),
                  before: '',
                });
            }}
          >
            <option value="">pick a range…</option>
            <option value="1">last hour</option>
            <option value="24">last 24 hours</option>
            <option value="168">last 7 days</option>
            <option value="720">last 30 days</option>
          </select>
        </label>
        <label>
          After
          <input
            type="datetime-local"
            step="1"
            value={toLocal(draft.after)}
            onChange={(e) => set('after', toIso(e.target.value))}
          />
        </label>
        <label>
          Before
          <input
            type="datetime-local"
            step="1"
            value={toLocal(draft.before)}
            onChange={(e) => set('before', toIso(e.target.value))}
          />
        </label>
        <button type="submit">Apply</button>
        <button type="button" onClick={() => apply(EMPTY)}>
          Clear
        </button>
      </form>
      <ErrorBox error={error} onRetry={() => void loadPage(0)} />
      <div className="muted small" aria-live="polite">
        {total === undefined
          ? 'Loading…'
          : total === 0
            ? 'No executions match these filters.'
            : countOf(total, 'execution')}
      </div>
      <div className="vhead" aria-hidden="true">
        <span className="c-status">Status</span>
        <span className="c-action">Action</span>
        <span className="c-user">User</span>
        <span className="c-time">Started</span>
        <span className="c-dur">Duration</span>
      </div>
      <VirtualList
        label="Executions"
        count={total ?? 0}
        rowHeight={ROW}
        onRange={onRange}
        onOpen={(i) => {
          const id = ids.current[i];
          if (id) navigate(href('history', id));
        }}
        renderRow={(i) => {
          const id = ids.current[i];
          const e = id ? rows.current.get(id) : undefined;
          if (!e) return <span className="muted">…</span>;
          return (
            <a className="exec-row" href={href('history', e.id)} tabIndex={-1} data-execution-id={e.id}>
              <span className="c-status">
                <StatusBadge status={e.status} />
              </span>
              <span className="c-action">{e.action?.ref}</span>
              <span className="c-user">
                {e.context?.user ?? ''}
                {e.rule?.ref ? ` · rule ${e.rule.ref}` : ''}
              </span>
              <span className="c-time">{formatTime(e.start_timestamp)}</span>
              <span className="c-dur">{formatDuration(e.elapsed_seconds)}</span>
            </a>
          );
        }}
      />
    </section>
  );
}
