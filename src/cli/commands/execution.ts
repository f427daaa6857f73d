import { Option, type Command } from 'commander';
import { SquallError } from '../../errors.js';
import { clientFrom, withClientOptions } from '../client.js';
import {
  EXECUTION_COLUMNS,
  describeExecution,
  followExecution,
  isDone,
  type Execution,
} from '../execution-view.js';
import { outputFormat, print, withOutputOptions, type OutputFlags } from '../output.js';
import { parseKeyValues } from '../params.js';
import { actionSpecs } from './run.js';

type Flags = OutputFlags & { url?: string };

/** `squall execution list|get|cancel|rerun|tail` (st2 execution). */
export function registerExecution(program: Command): void {
  const execution = program
    .command('execution')
    .description('Executions: list, inspect, cancel, re-run, follow output');

  withOutputOptions(
    withClientOptions(
      execution
        .command('list')
        .description('Recent executions, newest first')
        .option('-n, --last <n>', 'how many (default 50)', (v) => Number.parseInt(v, 10))
        .option('--action <ref>', 'only this action')
        .option('-s, --status <status>', 'only this status (or a comma list)')
        .option('-u, --user <user>', 'only this user')
        .option('-l, --showall', 'also list the task executions of workflows (st2 --showall)')
        // Top-level only is the default now (as st2); the flag stays accepted for existing scripts.
        .addOption(new Option('--top-level').hideHelp()),
    ),
  ).action(
    async (
      opts: Flags & { last?: number; action?: string; status?: string; user?: string; showall?: boolean },
    ) => {
      const client = clientFrom(opts);
      const res = await client.request<Execution[]>('get', '/api/v1/executions', {
        query: {
          limit: opts.last ?? 50,
          action: opts.action,
          status: opts.status,
          user: opts.user,
          // st2's CLI sends parent=null ("has no parent") unless --showall.
          parent: opts.showall ? undefined : 'null',
          exclude_attributes: 'result',
        },
      });
      print(res.body, opts, { columns: EXECUTION_COLUMNS });
    },
  );

  withOutputOptions(
    withClientOptions(
      execution
        .command('get <id>')
        .description('One execution with its result')
        .option('--show-tasks', 'also list the child executions of a workflow'),
    ),
  ).action(async (id: string, opts: Flags & { showTasks?: boolean }) => {
    const client = clientFrom(opts);
    const e = await client.get<Execution>(`/api/v1/executions/${id}`);
    const children = opts.showTasks
      ? await client.get<Execution[]>(`/api/v1/executions/${id}/children`, { depth: 1 })
      : undefined;
    if (outputFormat(opts) !== 'table') return print(children ? { ...e, tasks: children } : e, opts);
    process.stdout.write(describeExecution(e));
    if (children) {
      process.stdout.write('\ntasks:\n');
      print(
        children.map((c) => ({
          id: c.id,
          task: taskLabel(c),
          route: c.context?.orquesta?.task_route ?? '',
          action: c.action?.ref,
          status: c.status,
          start_timestamp: c.start_timestamp,
        })),
        opts,
      );
    }
  });

  withOutputOptions(
    withClientOptions(execution.command('cancel <ids...>').description('Cancel executions')),
  ).action(async (ids: string[], opts: Flags) => {
    const client = clientFrom(opts);
    for (const id of ids) {
      const e = await client.delete<Execution & { faultstring?: string }>(`/api/v1/executions/${id}`);
      // The API answers a finished execution as st2 does (200, a faultstring); this CLI calls it an error.
      if (e.faultstring) throw new SquallError('NOT_CANCELABLE', `execution ${id}: ${e.faultstring}`, { id });
      if (outputFormat(opts) === 'table')
        process.stdout.write(
          `execution ${id}: ${e.status === 'canceled' ? 'canceled' : `cancel requested (${e.status})`}\n`,
        );
      else print(e, opts);
    }
  });

  withOutputOptions(
    withClientOptions(
      execution
        .command('rerun <id> [parameters...]')
        .alias('re-run')
        .description('Run an execution again, optionally overriding parameters (name=value)')
        .option('--tasks <tasks>', 'workflows: re-run from these tasks (comma list)')
        .option('--no-reset <tasks>', 'with-items tasks whose succeeded items are kept (comma list)')
        .option('-a, --async', 'return at once'),
    ),
  ).action(
    async (
      id: string,
      args: string[],
      opts: Flags & { tasks?: string; reset?: string | boolean; async?: boolean },
    ) => {
      const client = clientFrom(opts);
      const original = await client.get<Execution>(`/api/v1/executions/${id}`);
      const parameters = parseKeyValues(args, await actionSpecs(client, original.action.ref));
      const noReset = typeof opts.reset === 'string' ? opts.reset.split(',') : [];
      const tasks = opts.tasks ? opts.tasks.split(',') : [];
      const created = await client.post<Execution>(`/api/v1/executions/${id}/re_run`, {
        parameters,
        tasks,
        reset: tasks.filter((t) => !noReset.includes(t)),
      });
      if (opts.async)
        return print(
          outputFormat(opts) === 'table' ? { id: created.id, status: created.status } : created,
          opts,
        );
      const done = await followExecution(client, created.id, { showOutput: false });
      if (outputFormat(opts) === 'table') process.stdout.write(describeExecution(done));
      else print(done, opts);
      if (done.status !== 'succeeded') process.exitCode = 1;
    },
  );

  withClientOptions(
    execution.command('tail <id>').description('Follow the output of an execution until it ends'),
  ).action(async (id: string, opts: Flags) => {
    const client = clientFrom(opts);
    const e = await client.get<Execution>(`/api/v1/executions/${id}`);
    if (isDone(e.status)) {
      const out = await client.request<string>('get', `/api/v1/executions/${id}/output`);
      process.stdout.write(typeof out.body === 'string' ? out.body : '');
      process.stderr.write(`execution ${id} ${e.status}\n`);
      return;
    }
    const done = await followExecution(client, id, { showOutput: true });
    process.stderr.write(`execution ${id} ${done.status}\n`);
  });
}

/**
 * A task's name as orquesta names its runs: `task2__r1` when a split sent it down route 1 (the
 * plain name on route 0), and `[item]` for one item of a with-items task.
 */
function taskLabel(c: Execution): string {
  const o = c.context?.orquesta;
  if (!o) return c.context?.chain?.name ?? '';
  const route = Number(o.task_route ?? 0);
  const name = route > 0 ? `${o.task_name}__r${route}` : String(o.task_name);
  return o.item_id !== undefined ? `${name}[${o.item_id}]` : name;
}
