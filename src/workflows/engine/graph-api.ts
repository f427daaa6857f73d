/**
 * `GET /api/v1/workflows/graph`: the workflow graph of an action (its definition file, with
 * `squall workflow inspect`'s errors on their tasks) or of an execution (the definition it runs,
 * each task's runs with their status and times, and the transitions taken so far).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type ApiRouter, authorize, executionResource } from '../../api/index.js';
import { NotFoundError, ValidationError, errorMessage } from '../../errors.js';
import type { ExecutionService } from '../../executions/index.js';
import type { Services } from '../../service/index.js';
import type { ActionRecord, ExecutionRecord } from '../../store/index.js';
import { parseChainSpec, type ChainSpec, type ChainState } from '../actionchain/index.js';
import { brokenGraphView, chainGraphView, orquestaGraphView, type WorkflowGraphView } from '../graph-view.js';
import { inspect, loadSpecSource, normaliseSpec, type ConductorState } from '../orquesta/index.js';
import { inspectOptions, type EngineState } from './engine.js';
import { readState } from './stored.js';

/** One run of a task: a child execution (or an action-less task completed at once). */
export interface TaskRun {
  task: string;
  route: number;
  item?: number;
  action: string | null;
  execution_id: string | null;
  status: string;
  start_timestamp: string;
  end_timestamp?: string;
  /** The child is a workflow itself: its own runs can be fetched from this endpoint. */
  workflow?: boolean;
}

export interface ExecutionGraph extends WorkflowGraphView {
  execution: { id: string; status: string; start_timestamp: string; end_timestamp?: string };
  runs: TaskRun[];
  /** Transitions taken so far: `src → dst` (and which of several between the same two). */
  taken: Array<{ src: string; dst: string; key: number }>;
}

const WORKFLOW_RUNNERS = new Set(['orquesta', 'action-chain']);

async function definitionOf(action: ActionRecord): Promise<string> {
  const entry = action.entry_point;
  if (typeof entry !== 'string' || !entry)
    throw new ValidationError(`Action "${action.ref}" has no entry_point naming its workflow file`, {
      action: action.ref,
    });
  const file = path.resolve(String(action.pack_dir ?? ''), 'actions', entry);
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new NotFoundError('Workflow definition', `${action.ref} (${file})`, { reason: errorMessage(err) });
  }
}

/** The graph of a definition as written now, inspected like `squall workflow inspect`. */
async function actionGraph(services: Services, action: ActionRecord): Promise<WorkflowGraphView> {
  const text = await definitionOf(action);
  if (action.runner_type === 'action-chain') {
    try {
      return chainGraphView(parseChainSpec(text, String(action.entry_point)));
    } catch (err) {
      return brokenGraphView('action-chain', undefined, errorMessage(err));
    }
  }
  let inspection;
  try {
    inspection = inspect(text, inspectOptions(await services.store.actions.find({})));
  } catch (err) {
    return brokenGraphView('orquesta', undefined, errorMessage(err));
  }
  try {
    return orquestaGraphView(normaliseSpec(loadSpecSource(text)), inspection);
  } catch (err) {
    return brokenGraphView('orquesta', inspection, errorMessage(err));
  }
}

function takenOrquesta(state: ConductorState): ExecutionGraph['taken'] {
  const out: ExecutionGraph['taken'] = [];
  for (const entry of state.sequence ?? []) {
    for (const [id, taken] of Object.entries(entry.next ?? {})) {
      const m = /^(.*)__t(\d+)$/.exec(id);
      if (taken && m) out.push({ src: entry.id, dst: m[1], key: Number(m[2]) });
    }
  }
  return out;
}

function takenChain(state: ChainState): ExecutionGraph['taken'] {
  const out: ExecutionGraph['taken'] = [];
  const tasks = state.tasks ?? [];
  for (let i = 1; i < tasks.length; i++) {
    const prev = tasks[i - 1];
    const spec = state.spec.chain.find((t) => t.name === prev.name);
    const viaFailure = prev.state !== 'succeeded' && spec?.onFailure === tasks[i].name;
    out.push({
      src: prev.name,
      dst: tasks[i].name,
      key: viaFailure && spec?.onSuccess === spec?.onFailure ? 1 : 0,
    });
  }
  return out;
}

async function executionGraph(services: Services, exec: ExecutionRecord): Promise<ExecutionGraph> {
  const record = await readState(services.store, exec.id);
  const state = record?.state as EngineState | undefined;
  let view: WorkflowGraphView;
  let taken: ExecutionGraph['taken'] = [];
  if (state && record?.kind === 'action-chain') {
    const chain = state.conductor as ChainState;
    view = chainGraphView(chain.spec as ChainSpec);
    taken = takenChain(chain);
  } else if (state) {
    const conductor = state.conductor as ConductorState;
    view = orquestaGraphView(conductor.spec);
    taken = takenOrquesta(conductor);
  } else {
    // Not started (or refused before it started): the definition as it is now.
    const action = await services.store.actions.findOne({ ref: exec.action.ref });
    if (!action) throw new NotFoundError('Action', exec.action.ref);
    view = await actionGraph(services, action);
  }
  // Only transitions the picture draws (an implicit `continue` after a publish-only transition is not).
  const drawn = new Set(view.edges.map((e) => `${e.src}>${e.dst}>${e.key}`));
  taken = taken.filter((t) => drawn.has(`${t.src}>${t.dst}>${t.key}`));
  const children = await services.store.executions.find(
    { parent: exec.id },
    { projection: { result: 0, parameters: 0 } },
  );
  const byId = new Map(children.map((c) => [c.id, c]));
  const runs: TaskRun[] = (state?.tasks ?? []).map((t) => {
    const child = t.execution_id ? byId.get(t.execution_id) : undefined;
    const end = child?.end_timestamp ?? t.end_timestamp;
    return {
      task: t.task_id,
      route: t.route,
      ...(t.item_id !== undefined ? { item: t.item_id } : {}),
      action: t.action,
      execution_id: t.execution_id,
      status: child?.status ?? t.status,
      start_timestamp: child?.start_timestamp ?? t.start_timestamp,
      ...(end ? { end_timestamp: end } : {}),
      ...(child && WORKFLOW_RUNNERS.has(String(child.runner?.name)) ? { workflow: true } : {}),
    };
  });
  return {
    ...view,
    execution: {
      id: exec.id,
      status: exec.status,
      start_timestamp: exec.start_timestamp,
      ...(exec.end_timestamp ? { end_timestamp: exec.end_timestamp } : {}),
    },
    runs,
    taken,
  };
}

export function addGraphRoute(
  router: ApiRouter,
  services: Services,
  executions: () => ExecutionService,
): void {
  router.add({
    method: 'get',
    path: '/api/v1/workflows/graph',
    summary:
      "A workflow's graph: tasks, transitions with their conditions, and inspection errors per task; for an execution also each task's runs and the transitions taken",
    tag: 'workflows',
    responses: { 404: 'The action, execution or workflow file named does not exist.' },
    query: {
      type: 'object',
      properties: {
        action: { type: 'string', description: 'An orquesta or action-chain action ref.' },
        execution: { type: 'string', description: 'A workflow execution id.' },
      },
    },
    handler: async ({ req, query }) => {
      if (typeof query.execution === 'string' && query.execution) {
        const exec = await executions().get(query.execution);
        authorize(services, req, 'execution_view', executionResource(exec));
        if (!WORKFLOW_RUNNERS.has(String(exec.runner?.name)))
          throw new ValidationError(`Execution ${exec.id} runs ${exec.action.ref}, which is not a workflow`, {
            field: 'execution',
            runner: exec.runner?.name,
          });
        return executionGraph(services, exec);
      }
      if (typeof query.action === 'string' && query.action) {
        const action = await services.store.actions.findOne({ ref: query.action });
        if (!action) throw new NotFoundError('Action', query.action, { field: 'action' });
        authorize(services, req, 'action_view', { uid: String(action.uid), pack: action.pack });
        if (!WORKFLOW_RUNNERS.has(String(action.runner_type)))
          throw new ValidationError(
            `Action ${action.ref} runs on "${String(action.runner_type)}", not a workflow runner`,
            {
              field: 'action',
            },
          );
        return actionGraph(services, action);
      }
      throw new ValidationError('GET /api/v1/workflows/graph needs ?action=<ref> or ?execution=<id>', {
        field: 'action',
      });
    },
  });
}
