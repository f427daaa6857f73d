import type { RouteModule } from '../api/index.js';
import {
  authorize,
  attributeSelection,
  checkAttributes,
  executionResource,
  listQuerySchema,
  listRecords,
  queryTime,
  requestUser,
  selectAttributes,
  shows,
} from '../api/index.js';
import { NotFoundError, PermissionError, SquallError } from '../errors.js';
import { beforeLeavingProcess, type ExecutionRecord, type Filter } from '../store/index.js';
import { EXECUTION_ATTRIBUTES, MAX_DELAY_MS, presentResult, type ExecutionService } from './service.js';
import { STATUSES } from './status.js';
import { outputPages } from './output-pages.js';
import { sendJsonArray, sendOutputText } from './output-text.js';
import { descendantIds, recordPages } from './children.js';

const executionIdParam = (id: string) => id;

/**
 * Context keys only Squall itself writes, each read as proof of where an execution came from.
 * Taken from a caller, each let one user pose as another path: `re_run` ran another user's
 * workflow from its state; `chat` named the chat user an approval's different_from_requester
 * compares (so the requester approved their own run in chat) and the channel its result and
 * prompts go to; `parent`/`orquesta`/`chain` put a forged task on another user's chat card;
 * `trigger_instance` joined a webhook's `?wait` answer. st2client sends `trace_context` only
 * (`--trace-tag`, `--trace-id`), and `user` is checked below.
 */
const RESERVED_CONTEXT_WHY: Record<string, string> = {
  re_run: 'by POST /api/v1/executions/{id}/re_run: re-run the execution there',
  chat: 'for a run started from chat',
  api_user: 'for a run started from chat',
  action_alias_ref: 'for a run started by an action alias',
  parent: "for a workflow's task",
  workflow: "for a workflow's task",
  workflow_execution: "for a workflow's task",
  orquesta: "for a workflow's task",
  chain: "for a workflow's task",
  rule: 'for a run a rule started',
  trigger_instance: 'for a run a rule started',
};
const RESERVED_CONTEXT_KEYS = Object.keys(RESERVED_CONTEXT_WHY);

/** /api/v1/executions in st2's shapes (st2-reference.md §11.1, §13.1). */
export interface ExecutionRouteHooks {
  /** Re-runs a completed workflow from the given tasks (st2 `re-run --tasks`); provided by the workflow engine. */
  rerunFromTasks?: (id: string, tasks: string[], noReset: string[], user: string) => Promise<ExecutionRecord>;
}

export function executionRoutes(
  executions: () => ExecutionService,
  hooks: () => ExecutionRouteHooks = () => ({}),
): RouteModule {
  return (router, services) => {
    router.add({
      method: 'get',
      path: '/api/v1/executions',
      summary: 'List executions, newest first',
      tag: 'executions',
      query: {
        type: 'object',
        properties: {
          ...listQuerySchema,
          action: { type: 'string', description: 'Action ref.' },
          status: { type: 'string', description: 'One status or a comma list.' },
          parent: {
            type: 'string',
            description: 'Parent execution id; "null" for top-level executions only.',
          },
          user: { type: 'string' },
          rule: { type: 'string', description: 'Rule ref.' },
          trigger_instance: { type: 'string' },
          runner: { type: 'string' },
          timestamp_gt: { type: 'string' },
          timestamp_lt: { type: 'string' },
          show_secrets: { type: 'boolean' },
        },
      },
      handler: async ({ req, res, query }) => {
        authorize(services, req, 'execution_list');
        const filter: Filter = {};
        if (query.action) filter['action.ref'] = query.action;
        if (query.status) {
          const list = String(query.status).split(',');
          filter.status = list.length > 1 ? { $in: list } : list[0];
        }
        if (query.parent === 'null') filter.parent = { $exists: false };
        else if (query.parent) filter.parent = query.parent;
        if (query.user) filter['context.user'] = query.user;
        if (query.rule) filter['rule.ref'] = query.rule;
        if (query.trigger_instance) filter['trigger_instance.id'] = query.trigger_instance;
        if (query.runner) filter['runner.name'] = query.runner;
        const ts: Record<string, string> = {};
        const after = queryTime(query, 'timestamp_gt');
        const before = queryTime(query, 'timestamp_lt');
        if (after) ts.$gt = after;
        if (before) ts.$lt = before;
        if (Object.keys(ts).length) filter.start_timestamp = ts;
        Object.assign(filter, services.rbac?.executionFilter?.(requestUser(req)) ?? {});
        return listRecords<ExecutionRecord>(req, res, {
          collection: services.store.executions,
          filter,
          sort: { start_timestamp: -1 },
          maxPageSize: services.config.api.max_page_size,
          maxAdminPageSize: services.config.api.max_admin_page_size,
          // A page that shows `children` reads them for its workflows at once (withChildren).
          presentPage: async (page, selection) =>
            shows(selection, 'children')
              ? executions().presentPage(page)
              : page.map((e) => executions().present(e)),
          attributes: EXECUTION_ATTRIBUTES,
          // st2: timestamp_lt keeps newest first; timestamp_gt alone answers oldest first.
          ascending: !before && Boolean(after),
        });
      },
    });

    router.add({
      method: 'post',
      path: '/api/v1/executions',
      responses: {
        404: 'The action does not exist.',
        429: 'Too much work is queued (scale.backpressure); retry after Retry-After seconds.',
      },
      summary: 'Run an action',
      tag: 'executions',
      status: 201,
      body: {
        type: 'object',
        required: ['action'],
        properties: {
          action: { type: 'string', description: 'Action ref, e.g. core.local.' },
          parameters: { type: 'object', default: {} },
          context: { type: 'object' },
          notify: { type: 'object' },
          user: { type: ['string', 'null'] },
          delay: {
            type: 'integer',
            minimum: 0,
            maximum: MAX_DELAY_MS,
            description: 'Milliseconds to wait before running.',
          },
          trace_tag: { type: 'string' },
        },
      },
      handler: async ({ req, body }) => {
        const b = body as {
          action: string;
          parameters: Record<string, unknown>;
          context?: Record<string, unknown>;
          notify?: Record<string, unknown>;
          delay?: number;
          trace_tag?: string;
          user?: string | null;
        };
        const user = requestUser(req);
        const reserved = b.context ? RESERVED_CONTEXT_KEYS.find((k) => k in b.context!) : undefined;
        if (reserved)
          throw new SquallError(
            'EXECUTION_CONTEXT_RESERVED',
            `context.${reserved} is set by Squall (${RESERVED_CONTEXT_WHY[reserved]}), not by the caller`,
            { field: `context.${reserved}`, user: user.name },
            400,
          );
        const action = await executions().getAction(b.action);
        authorize(services, req, 'action_execute', { uid: String(action.uid), pack: action.pack });
        // st2 runs the action as `user` (`st2 run -u`) when the caller may act for others. A
        // context.user of the body asks the same, and passes the same check: unchecked, anyone
        // could run as an admin, with an admin's execution token.
        const contextUser = b.context?.user;
        const runAs = b.user || (typeof contextUser === 'string' && contextUser) || user.name;
        if (runAs !== user.name && services.rbac && !services.rbac.actsForOthers?.(user)) {
          throw new PermissionError(
            `"user" attribute can only be provided by admins when RBAC is enabled (user "${user.name}" asked to run as "${runAs}")`,
            { user: user.name, requested: runAs },
          );
        }
        const context = { ...(b.context ?? {}), user: runAs };
        const traceTag = b.trace_tag ?? (req.headers['st2-trace-tag'] as string | undefined);
        const record = await executions().request({
          action: b.action,
          parameters: b.parameters,
          context,
          user: runAs,
          notify: b.notify,
          delay: b.delay,
          traceTag,
        });
        return executions().present(record);
      },
    });

    const load = async (id: string) => {
      const e = await services.store.executions.get(executionIdParam(id));
      if (!e) throw new NotFoundError('Execution', id);
      return e;
    };

    router.add({
      method: 'get',
      path: '/api/v1/executions/views/filters',
      summary: 'Distinct values to filter executions by',
      tag: 'executions',
      handler: async ({ req }) => {
        authorize(services, req, 'execution_views_filters_list');
        const recent = await services.store.executions.find(
          {},
          {
            sort: { start_timestamp: -1 },
            limit: 2000,
            projection: { action: 1, status: 1, context: 1, runner: 1 },
          },
        );
        const uniq = (xs: unknown[]) => [...new Set(xs.filter((x) => x !== undefined && x !== null))].sort();
        return {
          action: uniq(recent.map((e) => e.action?.ref)),
          status: [...STATUSES],
          user: uniq(recent.map((e) => e.context?.user)),
          runner: uniq(recent.map((e) => e.runner?.name)),
        };
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/executions/:id',
      summary: 'One execution',
      tag: 'executions',
      query: {
        type: 'object',
        properties: {
          include_attributes: { type: 'string' },
          exclude_attributes: { type: 'string' },
          max_result_size: { type: 'integer' },
        },
      },
      handler: async ({ req, params, query }) => {
        const selection = attributeSelection(query);
        checkAttributes(EXECUTION_ATTRIBUTES, selection);
        const e = await load(params.id);
        authorize(services, req, 'execution_view', executionResource(e));
        return selectAttributes(await executions().presentOne(e), selection);
      },
    });

    router.add({
      method: 'delete',
      path: '/api/v1/executions/:id',
      summary:
        'Cancel an execution (a finished one: 200 with the execution when canceled, else {faultstring}, as st2)',
      tag: 'executions',
      handler: async ({ req, params }) => {
        const e = await load(params.id);
        authorize(services, req, 'execution_stop', executionResource(e));
        try {
          return await executions().presentOne(await executions().cancel(e.id, requestUser(req).name));
        } catch (err) {
          if (!(err instanceof SquallError && err.code === 'NOT_CANCELABLE')) throw err;
          // st2 answers 200 for a finished execution: the execution when it is already canceled,
          // else a faultstring, which st2client prints before exiting 0.
          const done = await load(e.id);
          if (done.status === 'canceled') return executions().presentOne(done);
          return { faultstring: `Action cannot be canceled. State = ${done.status}.` };
        }
      },
    });

    router.add({
      method: 'post',
      path: '/api/v1/executions/:id/re_run',
      summary: 'Run an execution again, with the same or overridden parameters',
      tag: 'executions',
      status: 201,
      body: {
        type: 'object',
        properties: {
          parameters: { type: 'object', default: {} },
          tasks: { type: 'array', items: { type: 'string' }, default: [] },
          reset: { type: 'array', items: { type: 'string' }, default: [] },
          user: { type: ['string', 'null'] },
          delay: { type: 'integer', minimum: 0, maximum: MAX_DELAY_MS },
        },
      },
      handler: async ({ req, params, body }) => {
        const e = await load(params.id);
        authorize(services, req, 'execution_rerun', executionResource(e));
        const b = body as { parameters: Record<string, unknown>; tasks: string[]; delay?: number };
        if (b.tasks.length > 0) {
          const rerunFromTasks = hooks().rerunFromTasks;
          if (!rerunFromTasks) {
            throw new SquallError(
              'RERUN_TASKS_UNSUPPORTED',
              're-running from tasks needs the workflow engine in this process',
              { id: e.id },
            );
          }
          // st2: a task's with-items items are reset (all run again) only when `reset` names it;
          // st2client sends reset = tasks less --no-reset.
          const reset = (body as { reset: string[] }).reset;
          const noReset = b.tasks.filter((t) => !reset.includes(t));
          return executions().present(await rerunFromTasks(e.id, b.tasks, noReset, requestUser(req).name));
        }
        return executions().present(
          await executions().rerun(e.id, requestUser(req).name, b.parameters, b.delay),
        );
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/executions/:id/output',
      summary: 'The output lines of an execution, as text',
      tag: 'executions',
      query: {
        type: 'object',
        properties: { output_type: { type: 'string', enum: ['stdout', 'stderr', 'output'] } },
      },
      handler: async ({ req, res, params, query }) => {
        const e = await load(params.id);
        authorize(services, req, 'execution_view', executionResource(e));
        const filter: Filter = { execution_id: e.id };
        if (query.output_type) filter.output_type = query.output_type;
        await sendOutputText(
          req,
          res,
          () => outputPages(services.store.executionOutput, filter),
          () => beforeLeavingProcess(services.store),
          (err) => services.logger.warn({ err, execution: e.id }, 'could not send the output'),
        );
        return undefined;
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/executions/:id/result',
      summary: 'The result of an execution',
      tag: 'executions',
      handler: async ({ req, params }) => {
        const e = await load(params.id);
        authorize(services, req, 'execution_view', executionResource(e));
        return presentResult(e) ?? null;
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/executions/:id/attribute/:attribute',
      summary: 'One attribute of an execution',
      tag: 'executions',
      handler: async ({ req, params }) => {
        const e = await load(params.id);
        authorize(services, req, 'execution_view', executionResource(e));
        const presented = await executions().presentOne(e);
        if (!(params.attribute in presented)) throw new NotFoundError('Attribute', params.attribute);
        return presented[params.attribute] ?? null;
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/executions/:id/children',
      summary: 'The child executions of a workflow execution',
      tag: 'executions',
      query: { type: 'object', properties: { depth: { type: 'integer', default: -1 } } },
      handler: async ({ req, res, params, query }) => {
        const e = await load(params.id);
        authorize(services, req, 'execution_view', executionResource(e));
        const ids = await descendantIds(services.store, e.id, Number(query.depth ?? -1));
        async function* presented() {
          for await (const page of recordPages(services.store, ids))
            yield page.map((k) => executions().present(k));
        }
        await sendJsonArray(
          res,
          presented(),
          () => beforeLeavingProcess(services.store),
          (err) => services.logger.warn({ err, execution: e.id }, "could not send a workflow's children"),
        );
        return undefined;
      },
    });
  };
}
