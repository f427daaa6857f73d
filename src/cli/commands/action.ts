import type { Command } from 'commander';
import { clientFrom, withClientOptions } from '../client.js';
import { enableCommands } from './enable.js';
import { outputFormat, print, withOutputOptions, type OutputFlags } from '../output.js';

type Flags = OutputFlags & { url?: string };

/** `squall action list|get|enable|disable` (st2 action). */
export function registerAction(program: Command): void {
  const action = program.command('action').description('Actions: list, inspect, enable, disable');
  withOutputOptions(
    withClientOptions(
      action.command('list').description('List actions').option('-p, --pack <pack>', 'only this pack'),
    ),
  ).action(async (opts: Flags & { pack?: string }) => {
    const client = clientFrom(opts);
    const rows = await client.getAll<Record<string, unknown>>('/api/v1/actions', { pack: opts.pack });
    print(rows, opts, { columns: ['ref', 'pack', 'description'] });
  });
  withOutputOptions(
    withClientOptions(action.command('get <ref>').description('One action and its parameters')),
  ).action(async (ref: string, opts: Flags) => {
    const client = clientFrom(opts);
    const a = await client.get<Record<string, any>>(
      `/api/v1/actions/views/overview/${encodeURIComponent(ref)}`,
    );
    if (outputFormat(opts) !== 'table') return print(a, opts);
    print(
      {
        ref: a.ref,
        description: a.description,
        runner_type: a.runner_type,
        enabled: a.enabled,
        entry_point: a.entry_point,
      },
      opts,
    );
    process.stdout.write('\nparameters:\n');
    const rows = Object.entries((a.parameters ?? {}) as Record<string, Record<string, unknown>>).map(
      ([name, spec]) => ({
        name,
        type: spec.type,
        required: spec.required ? 'yes' : '',
        default: spec.secret ? '********' : spec.default,
        description: spec.description,
      }),
    );
    print(rows, opts, { columns: ['name', 'type', 'required', 'default', 'description'] });
  });
  enableCommands(action, 'ref', 'an action', async (ref, enabled, opts) => {
    const a = await clientFrom(opts).put<Record<string, unknown>>(
      `/api/v1/actions/${encodeURIComponent(ref)}`,
      { enabled },
    );
    if (outputFormat(opts) === 'table')
      process.stdout.write(`action ${a.ref}: ${enabled ? 'enabled' : 'disabled'}\n`);
    else print(a, opts);
  });
}
