import { type RouteModule, authorize, executionResource } from '../../api/index.js';
import { ValidationError, errorMessage } from '../../errors.js';
import { loadYaml } from '../../yaml.js';
import type { ExecutionService } from '../../executions/index.js';
import { inspect } from '../orquesta/index.js';
import { groupedInspection, type WorkflowEngine } from './engine.js';
import { addGraphRoute } from './graph-api.js';

/**
 * Workflow operations (st2-reference.md §11.1, §13.1): pause and resume through
 * `PUT /api/v1/executions/:id`, and `POST /api/v1/workflows/inspect`.
 */
export function workflowRoutes(
  engine: () => WorkflowEngine,
  executions: () => ExecutionService,
): RouteModule {
  return (router, services) => {
    addGraphRoute(router, services, executions);
    router.add({
      method: 'put',
      path: '/api/v1/executions/:id',
      summary: 'Pause or resume a workflow execution (status "pausing" or "resuming")',
      tag: 'executions',
      body: {
        type: 'object',
        required: ['status'],
        properties: { status: { type: 'string', enum: ['pausing', 'resuming'] } },
      },
      handler: async ({ req, params, body }) => {
        const e = await executions().get(params.id);
        authorize(services, req, 'execution_stop', executionResource(e));
        const status = (body as { status: 'pausing' | 'resuming' }).status;
        const updated = status === 'pausing' ? await engine().pause(e.id) : await engine().resume(e.id);
        return executions().presentOne(updated);
      },
    });

    router.add({
      method: 'post',
      path: '/api/v1/workflows/inspect',
      summary: 'Inspect an orquesta workflow definition (YAML body); answers its errors grouped by kind',
      tag: 'workflows',
      handler: async ({ req, body }) => {
        authorize(services, req, 'action_view');
        // st2client (`st2 workflow inspect`) posts text/plain and reads st2's flat list.
        const st2List = Boolean(req.is('text/plain'));
        const answer = (grouped: Record<string, unknown[]>) => (st2List ? inspectionList(grouped) : grouped);
        let source: string | Record<string, unknown>;
        if (typeof body === 'string') source = body;
        else if (body && typeof body === 'object' && !Array.isArray(body))
          source = body as Record<string, unknown>;
        else {
          throw new ValidationError(
            'POST /api/v1/workflows/inspect expects the workflow definition as a YAML (or JSON) body',
            { field: 'body', contentType: req.headers['content-type'] },
          );
        }
        if (typeof source === 'string') {
          try {
            const parsed = loadYaml(source);
            if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
              return answer({
                syntax: [
                  {
                    message: 'The workflow definition must be a YAML mapping',
                    spec_path: null,
                    schema_path: null,
                  },
                ],
              });
            }
          } catch (err) {
            return answer({
              syntax: [
                {
                  message: `The workflow definition is not valid YAML: ${errorMessage(err)}`,
                  spec_path: null,
                  schema_path: null,
                },
              ],
            });
          }
        }
        const refs = new Set(
          (await services.store.actions.find({}, { projection: { ref: 1 } })).map((a) => a.ref),
        );
        return answer(
          groupedInspection(
            inspect(source, { actionExists: (ref) => refs.has(ref), contextVariables: ['st2', 'parent'] }),
          ) as Record<string, unknown[]>,
        );
      },
    });
  };
}

/** st2's shape of an inspection: one list, each error with its kind as `type`, by type then path. */
function inspectionList(grouped: Record<string, unknown[]>): Record<string, unknown>[] {
  const key = (e: Record<string, unknown>) => `${String(e.type)}\u0000${String(e.schema_path ?? '')}`;
  return Object.entries(grouped)
    .flatMap(([type, errors]) => errors.map((e) => ({ ...(e as Record<string, unknown>), type })))
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
