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
  reload: () => void;
  setData: (fn: (d: T | undefined) => T | undefined) => void;
  /**
   * A live update of what is being read arrived: the read in flight, if any, may have been answered
   * before it, and its answer would undo it when it lands (a run that ended during a page's first
   * read stayed "running"). That answer is then dropped and the resource read again, if `affects`
   * says the answer shows what the update changed (no `affects`: always). No read in flight: nothing.
   */
  changed: (affects?: (answer: T) => boolean) => void;
}

/** Runs `load` when deps change; keeps the last data while reloading. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  // The updates that arrived during the read in flight (undefined: no read in flight). A read
  // started after them includes them: each read starts with none.
  const during = useRef<((answer: T) => boolean)[] | undefined>(undefined);
  useEffect(() => {
    const ctrl = new AbortController();
    const seen: ((answer: T) => boolean)[] = [];
    during.current = seen;
    setLoading(true);
    const done = () => {
      if (during.current === seen) during.current = undefined;
    };
    load(ctrl.signal).then(
      (d) => {
        if (ctrl.signal.aborted) return;
        done();
        if (seen.some((affects) => affects(d))) {
          setTick((t) => t + 1);
          return;
        }
        setDataState(d);
        setError(undefined);
        setLoading(false);
      },
      (err) => {
        if (ctrl.signal.aborted || (err as Error).name === 'AbortError') return;
        done();
        setError(err);
        setLoading(false);
      },
    );
    return () => {
      done();
      ctrl.abort();
    };
  }, [...deps, tick]); // eslint-disable-line react-hooks/exhaustive-deps
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((fn: (d: T | undefined) => T | undefined) => setDataState(fn), []);
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
