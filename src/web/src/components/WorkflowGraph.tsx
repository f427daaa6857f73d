import { useMemo } from 'react';
import dagre from '@dagrejs/dagre';
import { navigate, href } from '../router';
import './workflow.css';

/** GET /api/v1/workflows/graph (src/workflows/graph-view.ts, src/workflows/engine/graph-api.ts). */
export interface GraphError {
  type: string;
  message: string;
  spec_path: string | null;
  expression?: string;
}
export interface GraphNode {
  name: string;
  kind: 'task' | 'command';
  action?: string;
  join?: 'all' | number;
  with?: { items: string; concurrency?: unknown };
  retry?: { count: unknown; when?: string };
  publish?: string[];
  errors: GraphError[];
}
export interface GraphEdge {
  src: string;
  dst: string;
  key: number;
  condition: string;
  publish: string[];
}
export interface TaskRun {
  task: string;
  route: number;
  item?: number;
  action: string | null;
  execution_id: string | null;
  status: string;
  start_timestamp: string;
  end_timestamp?: string;
  workflow?: boolean;
}
export interface WorkflowGraphData {
  kind: 'orquesta' | 'action-chain';
  start: string[];
  nodes: GraphNode[];
  edges: GraphEdge[];
  errors: GraphError[];
  execution?: { id: string; status: string; start_timestamp: string; end_timestamp?: string };
  runs?: TaskRun[];
  taken?: { src: string; dst: string; key: number }[];
}

const NODE_W = 190;
/** Wider nodes for long action refs, up to this; past it the ref ends in an ellipsis. */
const NODE_MAX_W = 290;
const NODE_H = 54;
/** A node with a line of marks (with-items, join, retry) under its action. */
const NODE_H_MARKS = 70;
/** Approximate advance per character: 11 px monospace (action), 13 px bold (name), 11 px bold (status). */
const ACTION_CHAR = 6.7;
const NAME_CHAR = 8.2;
const STATUS_CHAR = 7;
const MARK_CHAR = 6.2;
/** Room kept for the run's ", 12 items" in a with-items mark, so a live run does not re-lay out. */
const ITEMS_ROOM = 11;

/** `text` cut to `max` characters, the cut shown by an ellipsis (the node's tooltip has it whole). */
export function fitText(text: string, max: number): string {
  const n = Math.max(1, Math.floor(max));
  return text.length <= n ? text : `${text.slice(0, n - 1)}…`;
}

/**
 * What a with-items task does, in words: "with-items · 4 items, 2 at a time". The count of items
 * is the run's (static graphs have none); the concurrency is the spec's, a number or an expression.
 */
export function withItemsMark(spec: { concurrency?: unknown }, runs: TaskRun[]): string {
  const parts: string[] = [];
  if (runs.length) {
    const latestRoute = Math.max(...runs.map((r) => r.route));
    const items = new Set(
      runs.filter((r) => r.route === latestRoute && r.item !== undefined).map((r) => r.item),
    );
    if (items.size) parts.push(`${items.size} item${items.size === 1 ? '' : 's'}`);
  }
  const c = spec.concurrency;
  if (typeof c === 'number' || (typeof c === 'string' && /^\d+$/.test(c.trim())))
    parts.push(`${String(c).trim()} at a time`);
  else if (c !== undefined && c !== null && c !== '') parts.push(`concurrency ${String(c)}`);
  return `with-items${parts.length ? ` · ${parts.join(', ')}` : ''}`;
}

/** The marks line of a task node, and whether it has one. */
function nodeMarks(n: GraphNode, runs: TaskRun[]): string {
  return [
    n.with ? withItemsMark(n.with, runs) : '',
    n.join !== undefined ? `join ${n.join}` : '',
    n.retry ? `retry ${String(n.retry.count)}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/** The status a task shows: its latest run's, or across items the most telling one. */
export function taskStatus(runs: TaskRun[]): string | undefined {
  if (runs.length === 0) return undefined;
  const latestRoute = Math.max(...runs.map((r) => r.route));
  const current = runs.filter((r) => r.route === latestRoute);
  const byItem = new Map<number, TaskRun>();
  for (const r of current) byItem.set(r.item ?? -1, r); // later runs (retries) win
  const statuses = [...byItem.values()].map((r) => r.status);
  for (const s of [
    'running',
    'requested',
    'scheduled',
    'delayed',
    'pending',
    'paused',
    'failed',
    'timeout',
    'canceled',
    'abandoned',
  ])
    if (statuses.includes(s)) return s;
  return statuses[0];
}

function actionName(action?: string): string {
  return action ? action.split(/\s/)[0] : '';
}

function edgeLabel(e: GraphEdge): string {
  const publish = e.publish.length ? ` · publish ${e.publish.join(', ')}` : '';
  const cond = e.condition.length > 40 ? `${e.condition.slice(0, 39)}…` : e.condition;
  return `${cond}${publish}`;
}

/** Tasks laid out by dagre, drawn as SVG; on an execution, coloured by status and clickable. */
export function WorkflowGraph({ data }: { data: WorkflowGraphData }) {
  const runsByTask = useMemo(() => {
    const m = new Map<string, TaskRun[]>();
    for (const r of data.runs ?? []) m.set(r.task, [...(m.get(r.task) ?? []), r]);
    return m;
  }, [data.runs]);
  const layout = useMemo(() => {
    const g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 56, marginx: 12, marginy: 12 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of data.nodes) {
      const action = actionName(n.action);
      const errorsW = n.errors.length ? 34 : 0;
      const marks = nodeMarks(n, []);
      const marksW = marks ? (marks.length + (n.with ? ITEMS_ROOM : 0)) * MARK_CHAR + 20 : 0;
      // on a run a status word sits right of the name ("succeeded" is the longest common one)
      const nameW = n.name.length * NAME_CHAR + 20 + (n.kind === 'task' && data.execution ? 80 : 0);
      g.setNode(n.name, {
        width:
          n.kind === 'command'
            ? Math.min(NODE_MAX_W, Math.max(110, nameW))
            : Math.min(
                NODE_MAX_W,
                Math.max(NODE_W, nameW, action.length * ACTION_CHAR + 20 + errorsW, marksW),
              ),
        height: n.kind === 'command' ? 34 : marks ? NODE_H_MARKS : NODE_H,
      });
    }
    for (const e of data.edges) {
      const label = edgeLabel(e);
      g.setEdge(
        e.src,
        e.dst,
        { label, width: Math.min(320, label.length * 6.6 + 8), height: 18, labelpos: 'c' },
        `${e.key}:${e.condition}`,
      );
    }
    dagre.layout(g);
    const size = g.graph();
    return {
      width: (size.width ?? 0) + 2,
      height: (size.height ?? 0) + 2,
      nodes: data.nodes.map((n) => ({ n, box: g.node(n.name) })),
      edges: data.edges.map((e) => ({
        e,
        pts: g.edge({ v: e.src, w: e.dst, name: `${e.key}:${e.condition}` }),
      })),
    };
  }, [data.nodes, data.edges, data.execution]);
  const taken = new Set((data.taken ?? []).map((t) => `${t.src}>${t.dst}>${t.key}`));
  const onExecution = Boolean(data.execution);

  const open = (name: string) => {
    const runs = runsByTask.get(name) ?? [];
    const last = [...runs].reverse().find((r) => r.execution_id);
    if (last?.execution_id) navigate(href('history', last.execution_id));
  };

  return (
    <div className="wf-graph">
      {data.errors.length > 0 && (
        <ul className="wf-errors" aria-label="Workflow errors">
          {data.errors.map((e, i) => (
            <li key={i}>
              <span className="wf-error-type">{e.type}</span>{' '}
              {e.spec_path ? <code>{e.spec_path}</code> : null} {e.message}
            </li>
          ))}
        </ul>
      )}
      {data.nodes.length > 0 && (
        <svg
          role="img"
          aria-label={`Workflow graph: ${data.nodes.length} task${data.nodes.length === 1 ? '' : 's'}`}
          width={layout.width}
          height={layout.height}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
        >
          <defs>
            <marker
              id="wf-arrow"
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" className="wf-arrowhead" />
            </marker>
          </defs>
          {layout.edges.map(({ e, pts }) => {
            if (!pts?.points) return null;
            const d = pts.points
              .map((p: { x: number; y: number }, i: number) => `${i ? 'L' : 'M'}${p.x},${p.y}`)
              .join(' ');
            const isTaken = taken.has(`${e.src}>${e.dst}>${e.key}`);
            const kind = /fail/.test(e.condition)
              ? 'failed'
              : /succe/.test(e.condition)
                ? 'succeeded'
                : 'other';
            return (
              <g
                key={`${e.src}>${e.dst}>${e.key}>${e.condition}`}
                className={`wf-edge wf-edge-${kind}${isTaken ? ' wf-taken' : ''}`}
                data-edge={`${e.src}->${e.dst}`}
                data-taken={isTaken ? 'true' : undefined}
              >
                <title>{`${e.src} → ${e.dst}: when ${e.condition}${e.publish.length ? `; publish ${e.publish.join(', ')}` : ''}${isTaken ? ' (taken)' : ''}`}</title>
                <path d={d} markerEnd="url(#wf-arrow)" />
                {pts.x !== undefined && (
                  <text x={pts.x} y={pts.y + 4} textAnchor="middle" className="wf-edge-label">
                    {edgeLabel(e)}
                  </text>
                )}
              </g>
            );
          })}
          {layout.nodes.map(({ n, box }) => {
            const runs = runsByTask.get(n.name) ?? [];
            const status = onExecution ? taskStatus(runs) : undefined;
            const clickable = runs.some((r) => r.execution_id);
            const x = box.x - box.width / 2;
            const y = box.y - box.height / 2;
            const marks = n.kind === 'task' ? nodeMarks(n, runs) : '';
            const errorsW = n.errors.length ? 34 : 0;
            const statusW = status ? status.length * STATUS_CHAR + 12 : 0;
            const tooltip = [
              n.name,
              n.action ? `action: ${n.action}` : '',
              n.with ? `with: ${n.with.items}` : '',
              marks,
              n.publish?.length ? `publish: ${n.publish.join(', ')}` : '',
              status ? `status: ${status}${runs.length > 1 ? ` (${runs.length} runs)` : ''}` : '',
              ...n.errors.map((e) => `${e.type} error: ${e.message}`),
            ]
              .filter(Boolean)
              .join('\n');
            return (
              <g
                key={n.name}
                className={`wf-node wf-${n.kind}${status ? ` wf-status-${status}` : ''}${n.errors.length ? ' wf-has-errors' : ''}${clickable ? ' wf-clickable' : ''}`}
                data-task={n.name}
                data-status={status}
                transform={`translate(${x},${y})`}
                tabIndex={clickable ? 0 : undefined}
                role={clickable ? 'link' : undefined}
                aria-label={clickable ? `Task ${n.name}${status ? `, ${status}` : ''}` : undefined}
                onClick={clickable ? () => open(n.name) : undefined}
                onKeyDown={
                  clickable
                    ? (ev) => {
                        if (ev.key === 'Enter') open(n.name);
                      }
                    : undefined
                }
              >
                <title>{tooltip}</title>
                {n.with && (
                  <rect className="wf-stack" x={5} y={-5} width={box.width} height={box.height} rx={8} />
                )}
                <rect width={box.width} height={box.height} rx={n.kind === 'command' ? 17 : 8} />
                <text x={10} y={n.kind === 'command' ? 21 : 20} className="wf-node-name">
                  {fitText(n.name, (box.width - 20 - statusW) / NAME_CHAR)}
                </text>
                {n.kind === 'task' && (
                  <text x={10} y={38} className="wf-node-action">
                    {fitText(actionName(n.action), (box.width - 20 - errorsW) / ACTION_CHAR)}
                  </text>
                )}
                {marks && (
                  <text x={10} y={56} className="wf-node-marks">
                    {fitText(marks, (box.width - 20) / MARK_CHAR)}
                  </text>
                )}
                {status && (
                  <text x={box.width - 8} y={20} textAnchor="end" className="wf-node-status">
                    {status}
                  </text>
                )}
                {n.errors.length > 0 && (
                  <text
                    x={box.width - 8}
                    y={38}
                    textAnchor="end"
                    className="wf-node-error"
                    data-errors={n.errors.length}
                  >
                    ⚠ {n.errors.length}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      )}
      {data.nodes.some((n) => n.errors.length > 0) && (
        <ul className="wf-errors" aria-label="Task errors">
          {data.nodes.flatMap((n) =>
            n.errors.map((e, i) => (
              <li key={`${n.name}-${i}`}>
                <strong>{n.name}</strong>: <span className="wf-error-type">{e.type}</span> {e.message}
              </li>
            )),
          )}
        </ul>
      )}
    </div>
  );
}
