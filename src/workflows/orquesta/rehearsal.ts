/**
 * Workflow rehearsal: runs a workflow through the conductor with mocked action executions and
 * compares what happened with what the spec expects, in orquesta-rehearse's format
 * (st2-reference.md §6.1 "Orquesta tooling"), so conductor behaviour is tested without actions.
 *
 * Standard keys (orquesta-rehearse): workflow, inputs, mock_action_executions
 * [{task_id, route?, status, result, num_iter, item_id?, seq_id?}], expected_task_sequence,
 * expected_routes, expected_workflow_status, expected_output, expected_errors,
 * expected_term_tasks.
 *
 * Squall extensions (orquesta-rehearse rejects them):
 * - `operations: [{after_task: t, occurrence?: n, op: pause|resume|cancel}]`: an operation with
 *   `after_task` is applied right after the n-th (default first) completion of that task is
 *   recorded; one without it is applied, in order, when nothing else is left to run.
 * - `rerun: {tasks: [name | {task_id, route}], no_reset: [name]}`: once the first run is
 *   complete, the workflow is re-run from those tasks (st2 `execution re-run --tasks
 *   --no-reset`) reusing its state; mocks not consumed by the first run serve the re-run.
 *   `expected_status_before_rerun` optionally checks the status the first run ended with.
 * - `context`: extra initial context (like `st2` from the action execution).
 * - `reruns: [{rerun_tasks?, mock_action_executions?, expected_task_sequence, expected_routes?,
 *   expected_workflow_status?, expected_output?, expected_errors?, expected_term_tasks?}]`:
 *   orquesta's re-run sessions (a WorkflowRerunTestCase after the run, each on the state the
 *   previous one left): `rerun_tasks: [{task_id, route?, reset_items?}]` (none: the failed
 *   terminal tasks), its own mocks, and expectations that cover the whole history (the task
 *   sequence keeps growing). The top-level expectations are the first run's.
 * - `expected_actions: [{task_id, route, item_id?, action, input}]`: the action executions the
 *   conductor requests, in order, with their rendered input.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { SquallError } from '../../errors.js';
import { loadYaml } from '../../yaml.js';
import { OrquestaConductor, type ConductorOptions, type TaskRequest } from './conductor.js';
import { parseWorkflowSpec } from './spec.js';
import { stateId } from './graph.js';
import { inspect, type InspectionResult } from './inspect.js';

export interface MockActionExecution {
  task_id: string;
  route?: number;
  status?: string;
  result?: unknown;
  num_iter?: number;
  item_id?: number;
  seq_id?: number;
}

/** What orquesta-rehearse checks of one session (the first run, or a re-run). */
export interface SessionExpectations {
  mock_action_executions?: MockActionExecution[];
  expected_task_sequence: string[];
  expected_routes?: string[][];
  expected_workflow_status?: string;
  expected_output?: Record<string, unknown> | null;
  expected_errors?: unknown[];
  expected_term_tasks?: string[];
}

export interface RehearsalSpec extends SessionExpectations {
  workflow: string | Record<string, unknown>;
  inputs?: Record<string, unknown>;
  context?: Record<string, unknown>;
  expected_inspection_errors?: Partial<InspectionResult>;
  operations?: Array<{ after_task?: string; occurrence?: number; op: 'pause' | 'resume' | 'cancel' }>;
  rerun?: { tasks?: Array<string | { task_id: string; route?: number }>; no_reset?: string[] };
  expected_status_before_rerun?: string;
  reruns?: RerunStage[];
  expected_actions?: RequestedAction[];
}

/** One of orquesta's re-run sessions (see `reruns` above). */
export interface RerunStage extends SessionExpectations {
  rerun_tasks?: Array<{ task_id: string; route?: number; reset_items?: boolean }>;
}

export interface RequestedAction {
  task_id: string;
  route: number;
  item_id?: number;
  action: string | null;
  input: Record<string, unknown>;
}

export interface RehearsalActual {
  task_sequence: string[];
  routes: string[][];
  status: string;
  output: Record<string, unknown> | null;
  errors: unknown[];
  term_tasks: string[];
  status_before_rerun?: string;
  /** With `reruns`: what each re-run session ended with. */
  reruns?: RehearsalActual[];
  /** With `expected_actions`: the action executions requested. */
  actions?: RequestedAction[];
}

export interface RehearsalReport {
  name: string;
  passed: boolean;
  /** One readable diff per mismatch ("expected … / actual …"). */
  mismatches: string[];
  actual: RehearsalActual;
}

const STANDARD_KEYS = new Set([
  'workflow',
  'inputs',
  'mock_action_executions',
  'expected_task_sequence',
  'expected_routes',
  'expected_workflow_status',
  'expected_output',
  'expected_errors',
  'expected_term_tasks',
  'expected_inspection_errors',
]);

/** True when the spec only uses orquesta-rehearse's own keys (so the real tool can run it too). */
export function isStandardRehearsal(spec: Record<string, unknown>): boolean {
  return Object.keys(spec).every((k) => STANDARD_KEYS.has(k));
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

function diff(label: string, expected: unknown, actual: unknown): string | null {
  if (stable(expected) === stable(actual)) return null;
  return `${label} differs\n  expected: ${JSON.stringify(expected)}\n  actual:   ${JSON.stringify(actual)}`;
}

export function loadRehearsalSpec(
  pathOrSpec: string | RehearsalSpec,
  basePath?: string,
): { spec: RehearsalSpec; base: string; name: string } {
  if (typeof pathOrSpec !== 'string')
    return { spec: pathOrSpec, base: basePath ?? process.cwd(), name: 'rehearsal' };
  let text: string;
  try {
    text = readFileSync(pathOrSpec, 'utf8');
  } catch (err) {
    throw new SquallError(
      'REHEARSAL_UNREADABLE',
      `Cannot read rehearsal spec "${pathOrSpec}": ${(err as Error).message}`,
      { path: pathOrSpec },
    );
  }
  const spec = loadYaml(text, { filename: pathOrSpec }) as RehearsalSpec;
  if (!spec || typeof spec !== 'object' || !spec.workflow) {
    throw new SquallError(
      'REHEARSAL_INVALID',
      `Rehearsal spec "${pathOrSpec}" must be a mapping with a "workflow" field`,
      { path: pathOrSpec },
    );
  }
  if (!Array.isArray(spec.expected_task_sequence)) {
    throw new SquallError(
      'REHEARSAL_INVALID',
      `Rehearsal spec "${pathOrSpec}" needs "expected_task_sequence" (a list)`,
      { path: pathOrSpec },
    );
  }
  return { spec, base: basePath ?? dirname(resolve(pathOrSpec)), name: pathOrSpec };
}

/** Runs one rehearsal spec (a file path or an object) and reports every mismatch. */
export function rehearse(
  pathOrSpec: string | RehearsalSpec,
  options: { basePath?: string; conductor?: ConductorOptions } = {},
): RehearsalReport {
  const { spec, base, name } = loadRehearsalSpec(pathOrSpec, options.basePath);
  let workflowSource: string | Record<string, unknown> = spec.workflow;
  if (typeof workflowSource === 'string') {
    const wfPath = isAbsolute(workflowSource) ? workflowSource : resolve(base, workflowSource);
    try {
      workflowSource = readFileSync(wfPath, 'utf8');
    } catch (err) {
      throw new SquallError(
        'REHEARSAL_WORKFLOW_UNREADABLE',
        `Unable to open workflow definition at "${wfPath}": ${(err as Error).message}`,
        {
          path: wfPath,
          rehearsal: name,
        },
      );
    }
  }
  const mismatches: string[] = [];
  const inspection = inspect(workflowSource);
  const expectedInspection = spec.expected_inspection_errors ?? {};
  const flat = (r: Partial<InspectionResult>): Record<string, unknown[]> =>
    Object.fromEntries(Object.entries(r).filter(([, v]) => Array.isArray(v) && v.length > 0));
  const d0 = diff('inspection errors', flat(expectedInspection), flat(inspection));
  if (d0) mismatches.push(d0);
  if (Object.keys(flat(inspection)).length > 0 || Object.keys(flat(expectedInspection)).length > 0) {
    const actual: RehearsalActual = {
      task_sequence: [],
      routes: [],
      status: 'null',
      output: null,
      errors: [],
      term_tasks: [],
    };
    return { name, passed: mismatches.length === 0, mismatches, actual };
  }

  const wf = parseWorkflowSpec(workflowSource);
  const withLeft = (list: MockActionExecution[] | undefined) =>
    (list ?? []).map((m) => ({ ...m, left: m.num_iter ?? 1 }));
  let mocks = withLeft(spec.mock_action_executions);
  for (const m of [...mocks, ...(spec.reruns ?? []).flatMap((r) => withLeft(r.mock_action_executions))]) {
    if (!wf.tasks[m.task_id])
      throw new SquallError('REHEARSAL_INVALID', `Mock action execution names unknown task "${m.task_id}"`, {
        rehearsal: name,
      });
    if (wf.tasks[m.task_id].with && m.item_id === undefined) {
      throw new SquallError(
        'REHEARSAL_INVALID',
        `Mock action execution for with items task "${m.task_id}" is missing "item_id".`,
        { rehearsal: name },
      );
    }
  }
  const takeMock = (taskId: string, route: number, seq: number): (typeof mocks)[number] | undefined => {
    const open = mocks.filter(
      (m) => m.task_id === taskId && m.left > 0 && (m.route === undefined || m.route === route),
    );
    const bySeq = open.find((m) => m.seq_id === seq);
    const chosen = bySeq ?? open.find((m) => m.seq_id === undefined);
    if (chosen) chosen.left -= 1;
    return chosen;
  };

  let conductor = OrquestaConductor.create(wf, spec.inputs ?? {}, spec.context ?? {}, options.conductor);
  const ops = [...(spec.operations ?? [])];
  const completions = new Map<string, number>();
  let pending: TaskRequest[] = conductor.start();
  let rerunDone = !spec.rerun;
  let statusBeforeRerun: string | undefined;
  let guard = 0;
  const accumulated = new Map<string, unknown[]>();
  const requested: RequestedAction[] = [];
  const note = (reqs: TaskRequest[]): TaskRequest[] => {
    for (const r of reqs)
      requested.push({
        task_id: r.task_id,
        route: r.route,
        ...(r.item_id !== undefined ? { item_id: r.item_id } : {}),
        action: r.action,
        input: r.input,
      });
    return reqs;
  };
  note(pending);

  const drive = (): void => {
    for (;;) {
      if (++guard > 10000) {
        mismatches.push('rehearsal did not finish within 10000 steps (a cycle that never exits?)');
        break;
      }
      if (pending.length === 0) {
        const idleOp = ops.findIndex((o) => o.after_task === undefined);
        if (idleOp >= 0) {
          const [op] = ops.splice(idleOp, 1);
          pending = note(applyOp(conductor, op.op));
          continue;
        }
        if (!rerunDone && spec.rerun) {
          rerunDone = true;
          statusBeforeRerun = conductor.status;
          try {
            pending = note(
              conductor.rerun({ tasks: spec.rerun.tasks ?? [], noReset: spec.rerun.no_reset ?? [] }),
            );
          } catch (err) {
            mismatches.push(`rerun failed: ${(err as Error).message}`);
          }
          continue;
        }
        break;
      }
      // Serialise and restore between batches, as an engine persisting its state would.
      conductor = OrquestaConductor.fromState(JSON.parse(JSON.stringify(conductor.state)), options.conductor);
      // One request per plain task, and one item per with-items task per batch (like orquesta-rehearse).
      const batch: TaskRequest[] = [];
      const rest: TaskRequest[] = [];
      const itemsSeen = new Set<string>();
      // As orquesta-rehearse: once a with-items task has completed (an item failed), its items
      // not yet run are dropped rather than completed.
      const done = (r: TaskRequest): boolean => {
        const e = conductor.state.sequence[conductor.state.tasks[stateId(r.task_id, r.route)]];
        return r.item_id !== undefined && e !== undefined && e.status !== 'running';
      };
      pending = pending.filter((r) => !done(r));
      for (const r of pending) {
        if (r.item_id === undefined) batch.push(r);
        else {
          const key = `${r.task_id}__r${r.route}`;
          if (itemsSeen.has(key)) rest.push(r);
          else {
            itemsSeen.add(key);
            batch.push(r);
          }
        }
      }
      pending = rest;
      for (const r of rest) conductor.deferItems(r.task_id, r.route, [r.item_id as number]);
      for (const req of batch) {
        // orquesta-rehearse's seq_id: where the task's entry sits in the task sequence.
        const seq =
          conductor.state.tasks[stateId(req.task_id, req.route)] ?? conductor.state.sequence.length - 1;
        const mock = takeMock(req.task_id, req.route, seq);
        const status = mock?.status ?? 'succeeded';
        const result = mock?.result ?? null;
        if (req.item_id !== undefined) {
          // The mock says which item completes; it must be one still in flight.
          const wanted = mock?.item_id ?? req.item_id;
          const inPool = [req, ...pending].find(
            (p) => p.task_id === req.task_id && p.route === req.route && p.item_id === wanted,
          );
          const target = inPool ?? req;
          if (target !== req) {
            pending.splice(pending.indexOf(target), 1);
            pending.push(req);
          }
          // Like orquesta-rehearse, the task result is the list of item results seen so far.
          const key = stateId(req.task_id, req.route);
          const acc = accumulated.get(key) ?? [];
          while (acc.length <= (target.item_id as number)) acc.push(null);
          acc[target.item_id as number] = result;
          accumulated.set(key, acc);
          conductor.recordCompletion(
            req.task_id,
            req.route,
            { status, result, accumulated_result: [...acc] },
            target.item_id,
          );
        } else {
          conductor.recordCompletion(req.task_id, req.route, { status, result });
        }
        const n = (completions.get(req.task_id) ?? 0) + 1;
        completions.set(req.task_id, n);
        for (let i = 0; i < ops.length; i++) {
          const o = ops[i];
          if (o.after_task === req.task_id && (o.occurrence ?? 1) === n) {
            ops.splice(i, 1);
            i--;
            pending.push(...note(applyOp(conductor, o.op)));
          }
        }
      }
      const same = (a: TaskRequest, b: TaskRequest): boolean =>
        a.task_id === b.task_id && a.route === b.route && a.item_id === b.item_id;
      const fresh = conductor.takeNextTasks().filter((r) => !pending.some((p) => same(p, r)));
      pending.push(...note(fresh));
    }
  };
  drive();

  const outcome = (): RehearsalActual => ({
    task_sequence: conductor.taskSequence,
    routes: conductor.state.routes,
    status: conductor.status,
    output: conductor.output,
    errors: conductor.errors,
    term_tasks: conductor.state.sequence.filter((e) => e.term).map((e) => stateId(e.id, e.route)),
  });
  const actual = outcome();
  if (statusBeforeRerun !== undefined) actual.status_before_rerun = statusBeforeRerun;
  const checks = expectations('', spec, actual);
  if (spec.expected_actions !== undefined) {
    actual.actions = [...requested];
    checks.push(diff('requested actions', spec.expected_actions, actual.actions));
  }
  if (spec.reruns) actual.reruns = [];
  for (const [i, stage] of (spec.reruns ?? []).entries()) {
    mocks = withLeft(stage.mock_action_executions);
    accumulated.clear();
    const tasks = (stage.rerun_tasks ?? []).map((t) => ({ task_id: t.task_id, route: t.route ?? 0 }));
    const noReset = (stage.rerun_tasks ?? []).filter((t) => !t.reset_items).map((t) => t.task_id);
    try {
      pending = note(conductor.rerun({ tasks, noReset }));
    } catch (err) {
      mismatches.push(`re-run ${i + 1} failed: ${(err as Error).message}`);
      break;
    }
    drive();
    const after = outcome();
    actual.reruns!.push(after);
    checks.push(...expectations(`re-run ${i + 1}: `, stage, after));
  }
  if (spec.expected_status_before_rerun !== undefined)
    checks.push(diff('status before re-run', spec.expected_status_before_rerun, statusBeforeRerun));
  if (ops.length > 0) checks.push(`operations never applied: ${JSON.stringify(ops)}`);
  for (const c of checks) if (c) mismatches.push(c);
  return { name, passed: mismatches.length === 0, mismatches, actual };
}

/** The checks orquesta-rehearse makes of one session (the first run or a re-run). */
function expectations(
  label: string,
  spec: SessionExpectations,
  actual: RehearsalActual,
): Array<string | null> {
  // As orquesta-rehearse: a name without `__rN` means the task on route 0.
  const routed = (t: string): string => (t.includes('__r') ? t : `${t}__r0`);
  const checks: Array<string | null> = [
    diff(`${label}task sequence`, spec.expected_task_sequence.map(routed), actual.task_sequence),
    diff(`${label}routes`, spec.expected_routes ?? [[]], actual.routes),
    diff(`${label}workflow status`, spec.expected_workflow_status ?? 'succeeded', actual.status),
  ];
  if (spec.expected_errors !== undefined)
    checks.push(diff(`${label}errors`, spec.expected_errors, actual.errors));
  if (spec.expected_output !== undefined)
    checks.push(diff(`${label}output`, spec.expected_output, actual.output));
  if (spec.expected_term_tasks !== undefined)
    checks.push(
      diff(
        `${label}terminal tasks`,
        spec.expected_term_tasks.map(routed).sort(),
        [...actual.term_tasks].sort(),
      ),
    );
  return checks;
}

function applyOp(conductor: OrquestaConductor, op: string): TaskRequest[] {
  switch (op) {
    case 'pause':
      conductor.pause();
      return [];
    case 'resume':
      return conductor.resume();
    case 'cancel':
      conductor.cancel();
      return [];
    default:
      throw new SquallError(
        'REHEARSAL_INVALID',
        `Unknown rehearsal operation "${op}" (pause, resume or cancel)`,
        { op },
      );
  }
}
