import type { Command } from 'commander';
import { SquallError } from '../../errors.js';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

type Alias = Record<string, unknown> & { ref: string; formats?: unknown[] };

function displays(alias: Alias): string {
  return (alias.formats ?? [])
    .map((f) => (typeof f === 'string' ? f : String((f as { display?: string }).display ?? '')))
    .filter(Boolean)
    .join(' | ');
}

/** `squall alias list|get|match|parse` (st2 action-alias, §5.1–5.3). */
export function registerAlias(program: Command): void {
  const alias = program.command('alias').description('Action aliases: the chat commands (st2 action-alias)');

  withOutputOptions(withClientOptions(alias.command('list').description('List action aliases')))
    .option('--pack <pack>', 'only this pack')
    .action(async (opts: OutputFlags & { url?: string; pack?: string }) => {
      const rows = await clientFrom(opts).getAll<Alias>('/api/v1/actionalias', { pack: opts.pack });
      if (opts.json || opts.yaml) return print(rows, opts);
      print(
        rows.map((a) => ({
          ref: a.ref,
          action_ref: a.action_ref,
          enabled: a.enabled !== false,
          formats: displays(a),
        })),
        opts,
        { columns: ['ref', 'action_ref', 'enabled', 'formats'] },
      );
    });

  withOutputOptions(
    withClientOptions(alias.command('get <ref>').description('Show one action alias')),
  ).action(async (ref: string, opts: OutputFlags & { url?: string }) => {
    const a = await clientFrom(opts).get<Alias>(`/api/v1/actionalias/${encodeURIComponent(ref)}`);
    print(a, opts, {
      attributes: [
        'ref',
        'pack',
        'name',
        'description',
        'enabled',
        'action_ref',
        'formats',
        'ack',
        'result',
        'immutable_parameters',
        'extra',
      ],
    });
  });

  withOutputOptions(
    withClientOptions(
      alias
        .command('match <text>')
        .description('Which alias the server would run for TEXT, and its parameters'),
    ),
  ).action(async (text: string, opts: OutputFlags & { url?: string }) => {
    const m = await clientFrom(opts).post<{
      actionalias: Alias;
      display: string;
      representation: string;
      parameters: unknown;
    }>('/api/v1/actionalias/match', { command: text });
    if (opts.json || opts.yaml) return print(m, opts);
    process.stdout.write(
      `alias: ${m.actionalias.ref}\naction: ${String(m.actionalias.action_ref)}\nformat: ${m.representation}\nparameters: ${JSON.stringify(m.parameters)}\n`,
    );
  });

  alias
    .command('parse')
    .description(
      'Parse TEXT with an alias format, offline; prints the parameters as JSON (exit 1 when it does not fit)',
    )
    .argument('<args...>', 'TEXT (with --format), or FORMAT TEXT')
    .option('-f, --format <format>', 'the alias format string, e.g. "deploy {{app}} to {{env=staging}}"')
    .action(async (args: string[], opts: { format?: string }) => {
      const format = opts.format ?? (args.length > 1 ? args[0] : undefined);
      const text = opts.format !== undefined ? args.join(' ') : args.slice(1).join(' ');
      if (format === undefined)
        throw new SquallError(
          'ALIAS_FORMAT_MISSING',
          'alias parse: give the format with --format FORMAT (or as the first argument)',
          {
            hint: 'squall alias parse --format "deploy {{app}}" "deploy web"',
          },
        );
      const { extractParameters } = await import('../../../aliases/index.js');
      process.stdout.write(JSON.stringify(extractParameters(format, text)) + '\n');
    });
}
