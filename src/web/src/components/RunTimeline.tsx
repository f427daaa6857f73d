import { useEffect, useState, type ReactNode } from 'react';
import { get } from '../api';
import { subscribe, useStreamOpened } from '../live';
import { href } from '../router';
import { countOf, formatDuration, formatTime, StatusBadge, useAsync, type Async } from '../ui';
import type { TaskRun, WorkflowGraphData } from './WorkflowGraph';
import './workflow.css';

const ACTIVE = new Set([
  'requested',
  'scheduled',
  'delayed',
  'running',
  'pausing',
  'resuming',
  'canceling',
  'pending',
  'paused',
]);

/**
 * The graph endpoint's data for a workflow execution, read again whenever the execution or one of
 * its children changes on the event stream. useAsync coalesces those re-reads (one read at a time,
 * one follow-up after it, starts REREAD_GAP_MS apart): a busy with-items run's updates every few
 * milliseconds show about three times a second, where a debounce restarted by each update read
 * nothing until the run went quiet.
 */
export function useWorkflowData(executionId: string): Async<WorkflowGraphData> {
  const graph = useAsync(
    (signal) =>
      get<WorkflowGraphData>(`/api/v1/workflows/graph?execution=${encodeURIComponent(executionId)}`, signal),
    [executionId],
  );
  const { reload } = graph;
  useEffect(() => {
    const onEvent = (payload: unknown) => {
      const e = payload as { id?: string; parent?: string };
      if (e.id === executionId || e.parent === executionId) reload();
    };
    const offs = [subscribe('st2.execution__create', onEvent), subscribe('st2.execution__update', onEvent)];
    return () => offs.forEach((off) => off());
  }, [executionId, reload]);
  // What was published before the stream opened (a task that ended just after the read), or while
  // it was down, never arrives: read again then.
  useStreamOpened(reload);
  return graph;
}

const ms = (iso?: string) => (iso ? Date.parse(iso) : NaN);

/** Tick spacing of about `target` ticks across `span` ms: 1, 2 or 5 × a power of ten. */
export function tickStep(span: number, target = 6): number {
  const raw = Math.max(span, 1) / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (raw <= m * pow) return m * pow;
  return 10 * pow;
}

function offsetLabel(t: number): string {
  if (t === 0) return '0';
  if (t < 1000) return `+${t}ms`;
  if (t < 60_000) return `+${(t / 1000).toFixed(t % 1000 ? 1 : 0)}s`;
  return `+${Math.floor(t / 60_000)}m${Math.round((t % 60_000) / 1000)}s`;
}

interface Scale {
  t0: number;
  span: number;
  now: number;
}

function Bar({
  run,
  scale,
  attempt,
  attempts,
}: {
  run: TaskRun;
  scale: Scale;
  attempt: number;
  attempts: number;
}) {
  const start = ms(run.start_timestamp);
  const end = run.end_timestamp ? ms(run.end_timestamp) : ACTIVE.has(run.status) ? scale.now : start;
  const left = ((start - scale.t0) / scale.span) * 100;
  const width = Math.max(0.4, ((end - start) / scale.span) * 100);
  const title = [
    `${run.task}${run.item !== undefined ? ` item ${run.item}` : ''}${attempts > 1 ? ` · attempt ${attempt} of ${attempts}` : ''}`,
    `status: ${run.status}`,
    `action: ${run.action ?? '(none)'}`,
    `started ${formatTime(run.start_timestamp)}`,
    run.end_timestamp ? `took ${formatDuration((end - start) / 1000)}` : 'still running',
    run.execution_id ? `execution ${run.execution_id}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  const style = { left: `${Math.max(0, left)}%`, width: `${Math.min(100 - Math.max(0, left), width)}%` };
  const cls = `gantt-bar status-${run.status}${attempt < attempts ? ' gantt-retry' : ''}`;
  return run.execution_id ? (
    <a
      className={cls}
      style={style}
      title={title}
      href={href('history', run.execution_id)}
      data-status={run.status}
      aria-label={title.split('\n')[0]}
    />
  ) : (
    <span className={cls} style={style} title={title} data-status={run.status} />
  );
}

/** Above this many items a with-items task gets one lane per concurrency slot, not per item. */
export const MAX_ITEM_LANES = 24;

/** Packs runs into as few lanes as never overlap (first lane free at each start): the slots. */
export function slotLanes(runs: TaskRun[], now: number): TaskRun[][] {
  const lanes: { end: number; runs: TaskRun[] }[] = [];
  for (const r of [...runs].sort((a, b) => ms(a.start_timestamp) - ms(b.start_timestamp))) {
    const start = ms(r.start_timestamp);
    const end = r.end_timestamp ? ms(r.end_timestamp) : now;
    const lane = lanes.find((l) => l.end <= start);
    if (lane) {
      lane.runs.push(r);
      lane.end = end;
    } else lanes.push({ end, runs: [r] });
  }
  return lanes.map((l) => l.runs);
}

function Lane({
  label,
  runs,
  scale,
  depth,
  testid,
  attempts = true,
}: {
  label: ReactNode;
  runs: TaskRun[];
  scale: Scale;
  depth: number;
  testid?: string;
  attempts?: boolean;
}) {
  return (
    <div className="gantt-row" data-lane={testid}>
      <div className="gantt-label" style={{ paddingLeft: depth * 16 }}>
        {label}
      </div>
      <div className="gantt-track">
        {runs.map((r, i) => (
          <Bar
            key={`${r.execution_id ?? r.start_timestamp}-${i}`}
            run={r}
            scale={scale}
            attempt={attempts ? i + 1 : 1}
            attempts={attempts ? runs.length : 1}
          />
        ))}
      </div>
    </div>
  );
}

/** A sub-workflow's rows, fetched when opened, drawn on the parent's time scale. */
function Nested({ executionId, scale, depth }: { executionId: string; scale: Scale; depth: number }) {
  const { data, error } = useWorkflowData(executionId);
  if (error)
    return (
      <div className="gantt-row">
        <div className="gantt-label field-error" style={{ paddingLeft: depth * 16 }}>
          {(error as Error).message}
        </div>
      </div>
    );
  if (!data)
    return (
      <div className="gantt-row">
        <div className="gantt-label muted" style={{ paddingLeft: depth * 16 }}>
          loading…
        </div>
      </div>
    );
  return <Rows runs={data.runs ?? []} scale={scale} depth={depth} />;
}

function Rows({ runs, scale, depth }: { runs: TaskRun[]; scale: Scale; depth: number }) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  const tasks: string[] = [];
  const byTask = new Map<string, TaskRun[]>();
  for (const r of [...runs].sort((a, b) => ms(a.start_timestamp) - ms(b.start_timestamp))) {
    if (!byTask.has(r.task)) {
      tasks.push(r.task);
      byTask.set(r.task, []);
    }
    byTask.get(r.task)!.push(r);
  }
  const toggle = (id: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  return (
    <>
      {tasks.map((task) => {
        const list = byTask.get(task)!;
        const items = [
          ...new Set(list.filter((r) => r.item !== undefined).map((r) => r.item as number)),
        ].sort((a, b) => a - b);
        const last = list[list.length - 1];
        const sub = list.filter((r) => r.workflow && r.execution_id);
        const subOpen = sub.length > 0 && open.has(task);
        const label = (
          <>
            {sub.length > 0 && (
              <button
                type="button"
                className="link"
                aria-expanded={subOpen}
                aria-label={`${subOpen ? 'Collapse' : 'Expand'} sub-workflow ${task}`}
                onClick={() => toggle(task)}
              >
                {subOpen ? '▾' : '▸'}
              </button>
            )}
            {last.execution_id ? <a href={href('history', last.execution_id)}>{task}</a> : task}{' '}
            <StatusBadge status={last.status} />
            {items.length > 0 && <span className="muted small"> {countOf(items.length, 'item')}</span>}
            {items.length === 0 && list.length > 1 && (
              <span className="muted small"> {countOf(list.length, 'attempt')}</span>
            )}
          </>
        );
        if (items.length === 0) {
          return (
            <div key={task}>
              <Lane label={label} runs={list} scale={scale} depth={depth} testid={task} />
              {subOpen &&
                sub
                  .slice(-1)
                  .map((r) => (
                    <Nested
                      key={r.execution_id}
                      executionId={r.execution_id!}
                      scale={scale}
                      depth={depth + 1}
                    />
                  ))}
            </div>
          );
        }
        if (items.length > MAX_ITEM_LANES) {
          return (
            <div key={task} role="group" aria-label={`${task}: ${countOf(items.length, 'item')}`}>
              <Lane label={label} runs={[]} scale={scale} depth={depth} testid={task} />
              {slotLanes(list, scale.now).map((lane, slot) => (
                <Lane
                  key={slot}
                  label={
                    <span className="gantt-lane-label">
                      slot {slot + 1} · {countOf(lane.length, 'run')}
                    </span>
                  }
                  runs={lane}
                  scale={scale}
                  depth={depth + 1}
                  testid={`${task}/slot${slot + 1}`}
                  attempts={false}
                />
              ))}
            </div>
          );
        }
        return (
          <div key={task} role="group" aria-label={`${task}: ${countOf(items.length, 'item')}`}>
            <Lane label={label} runs={[]} scale={scale} depth={depth} testid={task} />
            {items.map((item) => (
              <Lane
                key={item}
                label={<span className="gantt-lane-label">item {item}</span>}
                runs={list.filter((r) => r.item === item)}
                scale={scale}
                depth={depth + 1}
                testid={`${task}[${item}]`}
              />
            ))}
          </div>
        );
      })}
    </>
  );
}

/**
 * The Gantt of a workflow execution: one row per task, per item for with-items (per concurrency
 * slot past MAX_ITEM_LANES items), a time axis.
 */
export function RunTimeline({ data }: { data: WorkflowGraphData }) {
  const exec = data.execution!;
  const runs = data.runs ?? [];
  const running = ACTIVE.has(exec.status) || runs.some((r) => ACTIVE.has(r.status));
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [running]);
  const t0 = Math.min(ms(exec.start_timestamp), ...runs.map((r) => ms(r.start_timestamp)));
  const ends = [ms(exec.end_timestamp), ...runs.map((r) => ms(r.end_timestamp))].filter(
    (x) => !Number.isNaN(x),
  );
  const t1 = running ? Math.max(now, ...ends) : Math.max(t0 + 1, ...ends);
  const span = Math.max(1, t1 - t0);
  const step = tickStep(span);
  const ticks: number[] = [];
  for (let t = 0; t <= span; t += step) ticks.push(t);
  const scale = { t0, span, now };
  if (runs.length === 0) return <p className="muted">No tasks yet.</p>;
  return (
    <div className="gantt" role="figure" aria-label="Run timeline">
      <div className="gantt-axis" aria-hidden="true">
        <div className="gantt-label">Task · started {formatTime(exec.start_timestamp)}</div>
        <div className="gantt-track">
          {ticks.map((t) => (
            <span key={t} className="gantt-tick" style={{ left: `${(t / span) * 100}%` }}>
              {offsetLabel(t)}
            </span>
          ))}
        </div>
      </div>
      <Rows runs={runs} scale={scale} depth={0} />
    </div>
  );
}
