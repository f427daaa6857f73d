import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError, type CurrentUser } from './api';

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  const e = error as ApiError;
  const missingRoute =
    e instanceof ApiError && e.status === 404 && e.code === 'NOT_FOUND' && /^no route/.test(e.message);
  return (
    <div className="error" role="alert">
      <strong>
        {e instanceof ApiError && e.status ? `${e.status} ` : ''}
        {missingRoute ? 'This server does not offer this feature yet' : 'Error'}
      </strong>
      <span className="error-message">{e.message ?? String(error)}</span>
      {e instanceof ApiError && e.hint && <span className="error-hint">{e.hint}</span>}
      {e instanceof ApiError && (
        <span className="muted small">
          {e.method} {e.path}
          {e.requestId ? ` · request ${e.requestId}` : ''}
        </span>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /**
   * Reads again. A read in flight is not aborted (a page updated many times a second would never
   * get an answer): one more read follows it when it lands, however many reloads came meanwhile.
   * Reads start at least REREAD_GAP_MS apart.
   */
  reload: () => void;
  /** Changes what is shown (a live update applied in place): an older answer then never undoes it. */
  setData: (fn: (d: T | undefined) => T | undefined) => void;
  /**
   * A live update of what is being read arrived: the read in flight, if any, may have been answered
   * before it, and its answer would undo it when it lands (a run that ended during a page's first
   * read stayed "running"). If `affects` says the answer shows what the update changed (no
   * `affects`: always), the resource is read again; the answer itself is dropped only when the page
   * applied an update with setData since the read started (it would then go back to a state older
   * than one shown), else it is shown meanwhile (it is newer than what is shown, and a page kept
   * busy by updates must not stay "Loading" for good). No read in flight: nothing.
   */
  changed: (affects?: (answer: T) => boolean) => void;
}

/**
 * The least time between the starts of two reads of one resource. A live page under a stream of
 * updates (a with-items run's hundreds a second) reads at most about three times a second: each
 * read sees the updates before it, a person sees a change within a third of a second plus the
 * read, and the server answers a few reads a second per open page, not one per update.
 */
export const REREAD_GAP_MS = 300;

/** Runs `load` when deps change (aborting the read of the old ones); keeps the last data while reloading. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const loadNow = useRef(load);
  loadNow.current = load;
  // The updates that arrived during the read in flight (undefined: no read in flight). A read
  // started after them includes them: each read starts with none.
  const during = useRef<((answer: T) => boolean)[] | undefined>(undefined);
  // Counts the page's own changes of what is shown (setData), to tell whether an answer is older.
  const edits = useRef(0);
  // Asks the reader of the current deps for one more read.
  const request = useRef<() => void>(() => undefined);
  useEffect(() => {
    const ctrl = new AbortController();
    let inFlight = false;
    let again = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastStart = Number.NEGATIVE_INFINITY;
    const landed = (seen: ((answer: T) => boolean)[]) => {
      inFlight = false;
      if (during.current === seen) during.current = undefined;
    };
    const read = () => {
      timer = undefined;
      again = false;
      inFlight = true;
      lastStart = performance.now();
      const seen: ((answer: T) => boolean)[] = [];
      during.current = seen;
      const editsAtStart = edits.current;
      setLoading(true);
      loadNow.current(ctrl.signal).then(
        (d) => {
          if (ctrl.signal.aborted) return;
          landed(seen);
          const stale = seen.some((affects) => affects(d));
          if (!stale || edits.current === editsAtStart) {
            setDataState(d);
            setError(undefined);
            setLoading(false);
          }
          if (stale || again) next();
        },
        (err) => {
          if (ctrl.signal.aborted || (err as Error).name === 'AbortError') return;
          landed(seen);
          setError(err);
          setLoading(false);
          if (again) next();
        },
      );
    };
    const next = () => {
      if (ctrl.signal.aborted) return;
      if (inFlight) {
        again = true;
        return;
      }
      if (timer !== undefined) return;
      const wait = lastStart + REREAD_GAP_MS - performance.now();
      if (wait <= 0) read();
      else timer = setTimeout(read, wait);
    };
    request.current = next;
    read();
    return () => {
      ctrl.abort();
      clearTimeout(timer);
      during.current = undefined;
    };
  }, deps); // eslint-disable-line react-hooks/exhaustive-deps
  const reload = useCallback(() => request.current(), []);
  const setData = useCallback((fn: (d: T | undefined) => T | undefined) => {
    edits.current += 1;
    setDataState(fn);
  }, []);
  const changed = useCallback((affects: (answer: T) => boolean = () => true) => {
    during.current?.push(affects);
  }, []);
  return { data, error, loading, reload, setData, changed };
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <div className="muted loading" role="status">
      {what}…
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`status status-${status}`}>{status}</span>;
}

/** "1 execution", "3 executions": every count the UI shows reads as a sentence would. */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? singular : plural}`;
}

export function formatTime(iso?: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { hour12: false });
}

export function formatDuration(seconds?: number): string {
  if (seconds === undefined || seconds === null) return '';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds % 60)} s`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A short-lived message after an action (saved, deleted, failed). */
export function useNotice(): [ReactNode, (kind: 'ok' | 'error', text: ReactNode) => void] {
  const [notice, setNotice] = useState<{ kind: string; text: ReactNode } | undefined>();
  const timer = useRef<number | undefined>(undefined);
  const show = useCallback((kind: 'ok' | 'error', text: ReactNode) => {
    setNotice({ kind, text });
    window.clearTimeout(timer.current);
    if (kind === 'ok') timer.current = window.setTimeout(() => setNotice(undefined), 4000);
  }, []);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const node = notice ? (
    <div
      className={notice.kind === 'ok' ? 'notice' : 'error'}
      role={notice.kind === 'ok' ? 'status' : 'alert'}
    >
      {notice.text}
    </div>
  ) : null;
  return [node, show];
}

// ---- permissions ---------------------------------------------------------------------------------

export interface Grant {
  resource_uid?: string;
  permission_types: string[];
}

export interface Session {
  user: CurrentUser;
  /** undefined = unknown (role definitions not readable): show the control, the server decides. */
  can: (permission: string, resource?: { uid: string; pack?: string }) => boolean;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('no session');
  return s;
}

export function makeCan(user: CurrentUser, grants: Grant[] | undefined): Session['can'] {
  return (permission, resource) => {
    if (!user.rbac.enabled || user.rbac.is_admin) return true;
    if (!grants) return true;
    const type = permission.replace(
      /_(list|view|create|modify|delete|execute|stop|rerun|respond|all|send|views_filters_list)$/,
      '',
    );
    return grants.some(
      (g) =>
        (g.permission_types.includes(permission) || g.permission_types.includes(`${type}_all`)) &&
        (!g.resource_uid ||
          g.resource_uid === resource?.uid ||
          (resource?.pack !== undefined && g.resource_uid === `pack:${resource.pack}`)),
    );
  };
}
