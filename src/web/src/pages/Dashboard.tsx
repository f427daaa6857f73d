import { useEffect, useState } from 'react';
import { get } from '../api';
import { StackedBars, type Bar } from '../components/index';
import { subscribe } from '../live';
import { navigate, useRoute } from '../router';
import { ErrorBox, Loading, useAsync } from '../ui';
import './Dashboard.css';

const RANGES = [
  ['24h', '24 h'],
  ['7d', '7 d'],
  ['30d', '30 d'],
] as const;
type Range = (typeof RANGES)[number][0];

/** How often the figures are fetched again while the page is open. */
const REFRESH_MS = 30_000;
/** How soon after an execution event they are fetched again (at most once per this). */
const LIVE_REFRESH_MS = 5_000;
const FAILED = 'failed,timeout,abandoned';
const QUEUED = 'requested,scheduled,delayed';
/** Chart stack order, bottom first: outcomes, then work in flight. */
const SERIES = [
  'succeeded',
  'failed',
  'timeout',
  'abandoned',
  'canceled',
  'canceling',
  'running',
  'pausing',
  'paused',
  'resuming',
  'pending',
  'delayed',
  'scheduled',
  'requested',
];

interface Window {
  range: string;
  since: string;
  until: string;
}
interface ExecutionStats extends Window {
  bucket: 'hour' | 'day';
  total: number;
  by_status: Record<string, number>;
  completed: number;
  failed: number;
  failure_rate: number | null;
  buckets: Bar[];
}
interface ActionFigure {
  action: string;
  count: number;
  failed: number;
  avg_seconds: number | null;
}
interface ActionStats extends Window {
  most_frequent: ActionFigure[];
  slowest: ActionFigure[];
}
interface RuleStats extends Window {
  total: number;
  most_fired: { rule: string; count: number; failed: number }[];
}
interface QueueStats {
  depth: number;
  by_status: Record<string, number>;
  pending_inquiries: number;
}
interface SensorStats {
  total: number;
  enabled: number;
  runs_sensors: boolean;
  states: Record<string, number>;
  failing: { ref: string; state: string; restarts_in_a_row: number }[];
}

/**
 * History filtered as a figure counts: the API's windows start inclusive, History's
 * `timestamp_gt` is exclusive, hence one millisecond earlier.
 */
export function historyHref(filters: {
  since?: string;
  until?: string;
  status?: string;
  action?: string;
  rule?: string;
}) {
  const p = new URLSearchParams();
  if (filters.since) p.set('timestamp_gt', new Date(Date.parse(filters.since) - 1).toISOString());
  if (filters.until) p.set('timestamp_lt', filters.until);
  for (const k of ['status', 'action', 'rule'] as const) if (filters[k]) p.set(k, filters[k]!);
  return `#/history?${p}`;
}

function useFigures<T>(path: string, range: Range | undefined, tick: number) {
  return useAsync(
    (signal) => get<T>(`/api/v1/stats/${path}${range ? `?range=${range}` : ''}`, signal),
    [path, range, tick],
  );
}

function Figure(props: {
  label: string;
  value: string;
  testid: string;
  href?: string;
  note?: string;
  tone?: string;
}) {
  const body = (
    <>
      <span className="figure-label">{props.label}</span>
      <span className={`figure-value ${props.tone ?? ''}`} data-testid={props.testid}>
        {props.value}
      </span>
      {props.note && <span className="muted small">{props.note}</span>}
    </>
  );
  return props.href ? (
    <a className="figure card" href={props.href}>
      {body}
    </a>
  ) : (
    <div className="figure card">{body}</div>
  );
}

/**
 * A number that grows every `ms`, and `liveMs` after an execution starts or changes status (at
 * most once per `liveMs`, so a busy system costs one refresh per interval, not one per event):
 * the figures are fetched again each time it does.
 */
function useTick(ms: number, liveMs: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), ms);
    let pending: number | undefined;
    const soon = () => {
      pending ??= window.setTimeout(() => {
        pending = undefined;
        setTick((n) => n + 1);
      }, liveMs);
    };
    const offs = [subscribe('st2.execution__create', soon), subscribe('st2.execution__update', soon)];
    return () => {
      clearInterval(t);
      window.clearTimeout(pending);
      for (const off of offs) off();
    };
  }, [ms, liveMs]);
  return tick;
}

/** The home page: what ran, how it went, and what waits, over 24 hours, 7 days or 30 days. */
export function Dashboard() {
  const route = useRoute();
  const range = (
    RANGES.some(([r]) => r === route.query.get('range')) ? route.query.get('range') : '24h'
  ) as Range;
  const tick = useTick(REFRESH_MS, LIVE_REFRESH_MS);
  const executions = useFigures<ExecutionStats>('executions', range, tick);
  const actions = useFigures<ActionStats>('actions', range, tick);
  const rules = useFigures<RuleStats>('rules', range, tick);
  const queue = useFigures<QueueStats>('queue', undefined, tick);
  const sensors = useFigures<SensorStats>('sensors', undefined, tick);

  const e = executions.data;
  const win = e ? { since: e.since, until: e.until } : {};
  const pct = (r: number | null | undefined) =>
    r === null || r === undefined ? '–' : `${(r * 100).toFixed(1)} %`;
  const failing = sensors.data?.failing.length ?? 0;

  return (
    <section className="page dashboard">
      <div className="row gap dash-head">
        <h1>Dashboard</h1>
        <div role="radiogroup" aria-label="Range" className="segmented">
          {RANGES.map(([r, text]) => (
            <button
              key={r}
              type="button"
              role="radio"
              aria-checked={r === range}
              onClick={() => navigate(`#/dashboard?range=${r}`)}
            >
              {text}
            </button>
          ))}
        </div>
      </div>
      {[executions, actions, rules, queue, sensors].map((a, i) => (
        <ErrorBox key={i} error={a.error} onRetry={a.reload} />
      ))}
      <div className="figures">
        <Figure
          label="Executions"
          testid="figure-executions"
          value={e ? e.total.toLocaleString() : '…'}
          href={historyHref(win)}
          note="top-level, started in range"
        />
        <Figure
          label="Failure rate"
          testid="figure-failure-rate"
          value={pct(e?.failure_rate)}
          tone={e?.failure_rate ? 'status-failed' : ''}
          href={historyHref({ ...win, status: FAILED })}
          note={e ? `${e.failed.toLocaleString()} of ${e.completed.toLocaleString()} completed` : undefined}
        />
        <Figure
          label="Queue depth"
          testid="figure-queue"
          value={queue.data ? queue.data.depth.toLocaleString() : '…'}
          href={historyHref({ status: QUEUED })}
          note={queue.data ? `${(queue.data.by_status.running ?? 0).toLocaleString()} running` : undefined}
        />
        <Figure
          label="Pending inquiries"
          testid="figure-inquiries"
          value={queue.data ? queue.data.pending_inquiries.toLocaleString() : '…'}
          href="#/inquiries"
        />
        <Figure
          label="Sensors"
          testid="figure-sensors"
          value={sensors.data ? `${sensors.data.enabled} / ${sensors.data.total}` : '…'}
          tone={failing ? 'status-failed' : ''}
          href="#/packs"
          note={
            !sensors.data
              ? undefined
              : failing
                ? `${failing} failing: ${sensors.data.failing.map((f) => f.ref).join(', ')}`
                : sensors.data.runs_sensors
                  ? `enabled; ${sensors.data.states.running ?? 0} running here`
                  : 'enabled (this process runs none)'
          }
        />
      </div>

      <div className="card">
        <h2>Executions per {e?.bucket ?? 'hour'} by status</h2>
        {!e ? (
          <Loading />
        ) : (
          <>
            <StackedBars
              label={`Executions per ${e.bucket}`}
              bars={e.buckets}
              series={SERIES}
              bucketMs={e.bucket === 'day' ? 86_400_000 : 3_600_000}
              hrefOf={(bar, status) =>
                historyHref({
                  since: bar.start,
                  until: new Date(
                    Date.parse(bar.start) + (e.bucket === 'day' ? 86_400_000 : 3_600_000),
                  ).toISOString(),
                  status,
                })
              }
            />
            <ul className="legend" aria-label="Executions by status">
              {SERIES.filter((s) => e.by_status[s]).map((s) => (
                <li key={s}>
                  <a href={historyHref({ ...win, status: s })} data-testid={`status-${s}`}>
                    <span className={`swatch status-${s}`} aria-hidden="true" />
                    {s} <strong>{e.by_status[s].toLocaleString()}</strong>
                  </a>
                </li>
              ))}
            </ul>
          </>
        )}
      </div>

      <div className="dash-tables">
        <div className="card">
          <h2>Most frequent actions</h2>
          <table aria-label="Most frequent actions">
            <thead>
              <tr>
                <th>Action</th>
                <th className="num">Runs</th>
                <th className="num">Failed</th>
              </tr>
            </thead>
            <tbody>
              {actions.data?.most_frequent.map((a) => (
                <tr key={a.action}>
                  <td>
                    <a href={historyHref({ ...win, action: a.action })}>{a.action}</a>
                  </td>
                  <td className="num">{a.count.toLocaleString()}</td>
                  <td className="num">
                    {a.failed ? (
                      <a href={historyHref({ ...win, action: a.action, status: FAILED })}>{a.failed}</a>
                    ) : (
                      0
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {actions.data?.most_frequent.length === 0 && <p className="muted">No executions in this range.</p>}
        </div>
        <div className="card">
          <h2>Slowest actions</h2>
          <table aria-label="Slowest actions">
            <thead>
              <tr>
                <th>Action</th>
                <th className="num">Mean duration</th>
                <th className="num">Runs</th>
              </tr>
            </thead>
            <tbody>
              {actions.data?.slowest.map((a) => (
                <tr key={a.action}>
                  <td>
                    <a href={historyHref({ ...win, action: a.action })}>{a.action}</a>
                  </td>
                  <td className="num">{a.avg_seconds?.toFixed(1)} s</td>
                  <td className="num">{a.count.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {actions.data?.slowest.length === 0 && (
            <p className="muted">No completed executions in this range.</p>
          )}
        </div>
        <div className="card">
          <h2>Rules that fired most</h2>
          <table aria-label="Rules that fired most">
            <thead>
              <tr>
                <th>Rule</th>
                <th className="num">Enforcements</th>
              </tr>
            </thead>
            <tbody>
              {rules.data?.most_fired.map((r) => (
                <tr key={r.rule}>
                  <td>
                    <a href={historyHref({ ...win, rule: r.rule })}>{r.rule}</a>
                  </td>
                  <td className="num">{r.count.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rules.data?.most_fired.length === 0 && <p className="muted">No rule fired in this range.</p>}
        </div>
      </div>
    </section>
  );
}
