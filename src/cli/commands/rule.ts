import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import yaml from 'js-yaml';
import { SquallError } from '../../errors.js';
import { clientFrom, withClientOptions } from '../client.js';
import { enableCommands } from './enable.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

type Common = OutputFlags & { url?: string };
type Obj = Record<string, unknown>;

const COLUMNS = ['ref', 'pack', 'description', 'enabled'];

/** Reads a YAML or JSON file (st2 rule files are YAML; JSON is YAML too). */
export function readDataFile(file: string, what: string): Obj {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SquallError('CLI_FILE_UNREADABLE', `${what} file ${file}: ${(err as Error).message}`, { file });
  }
  let data: unknown;
  try {
    data = yaml.load(text);
  } catch (err) {
    throw new SquallError(
      'CLI_FILE_INVALID',
      `${what} file ${file}: invalid YAML/JSON: ${(err as Error).message}`,
      {
        file,
      },
    );
  }
  if (!data || typeof data !== 'object' || Array.isArray(data))
    throw new SquallError('CLI_FILE_INVALID', `${what} file ${file}: expected a mapping`, { file });
  return data as Obj;
}

const rulePath = (ref: string) => `/api/v1/rules/${encodeURIComponent(ref)}`;

/** `squall rule` (st2 rule): list, get, create, update, delete, enable, disable, test. */
export function registerRule(program: Command): void {
  const rule = program
    .command('rule')
    .description('Rules: when a trigger instance matches, run an action (st2 rule)');

  withOutputOptions(
    withClientOptions(
      rule
        .command('list')
        .description('List rules')
        .option('-p, --pack <pack>', 'only the rules of this pack')
        .option('--action <ref>', 'only rules running this action')
        .option('--trigger <ref>', 'only rules on this trigger type')
        .option('-n, --last <n>', 'how many (default 50, -1 for all)'),
    ),
  ).action(async (opts: Common & { pack?: string; action?: string; trigger?: string; last?: string }) => {
    const rows = await clientFrom(opts).get<Obj[]>('/api/v1/rules', {
      pack: opts.pack,
      action: opts.action,
      trigger: opts.trigger,
      limit: opts.last ?? 50,
    });
    print(rows, opts, { columns: COLUMNS });
  });

  withOutputOptions(withClientOptions(rule.command('get <ref>').description('Show one rule'))).action(
    async (ref: string, opts: Common) => {
      print(await clientFrom(opts).get<Obj>(rulePath(ref)), opts, {
        attributes: [
          'id',
          'ref',
          'pack',
          'name',
          'description',
          'enabled',
          'type',
          'trigger',
          'criteria',
          'action',
          'tags',
        ],
      });
    },
  );

  withOutputOptions(
    withClientOptions(rule.command('create <file>').description('Create a rule from a YAML or JSON file')),
  ).action(async (file: string, opts: Common) => {
    const created = await clientFrom(opts).post<Obj>('/api/v1/rules', readDataFile(file, 'rule'));
    print(created, opts, { attributes: ['id', 'ref', 'pack', 'name', 'enabled', 'trigger', 'action'] });
  });

  withOutputOptions(
    withClientOptions(
      rule.command('update <ref> <file>').description('Replace a rule with the content of a file'),
    ),
  ).action(async (ref: string, file: string, opts: Common) => {
    const updated = await clientFrom(opts).put<Obj>(rulePath(ref), readDataFile(file, 'rule'));
    print(updated, opts, { attributes: ['id', 'ref', 'pack', 'name', 'enabled', 'trigger', 'action'] });
  });

  withClientOptions(rule.command('delete <ref>').description('Delete a rule')).action(
    async (ref: string, opts: Common) => {
      await clientFrom(opts).delete(rulePath(ref));
      process.stdout.write(`Resource with id "${ref}" has been successfully deleted.\n`);
    },
  );

  enableCommands(rule, 'ref', 'a rule', async (ref, enabled, opts) => {
    const client = clientFrom(opts);
    const current = await client.get<Obj>(rulePath(ref));
    const updated = await client.put<Obj>(rulePath(ref), { ...current, enabled });
    print(updated, opts, { attributes: ['ref', 'enabled'] });
  });

  rule
    .command('test')
    .description(
      'Does a rule match a trigger instance? Offline with --rule FILE --trigger-instance FILE, or against the server with --rule-ref REF --trigger-instance-id ID. Exit 0 on match, 1 otherwise.',
    )
    .option('--rule <file>', 'rule file (YAML or JSON)')
    .option('--trigger-instance <file>', 'trigger instance file: {trigger, payload} (YAML or JSON)')
    .option('--rule-ref <ref>', 'a rule on the server')
    .option('--trigger-instance-id <id>', 'a trigger instance on the server')
    .option('--url <url>', 'Squall API base URL (for --rule-ref / --trigger-instance-id)')
    .option('-j, --json', 'print the report as JSON')
    .action(
      async (opts: {
        rule?: string;
        triggerInstance?: string;
        ruleRef?: string;
        triggerInstanceId?: string;
        url?: string;
        json?: boolean;
      }) => {
        if (!opts.rule === !opts.ruleRef)
          throw new SquallError(
            'CLI_ARGUMENT_INVALID',
            'give exactly one of --rule FILE or --rule-ref REF',
            {},
          );
        if (!opts.triggerInstance === !opts.triggerInstanceId)
          throw new SquallError(
            'CLI_ARGUMENT_INVALID',
            'give exactly one of --trigger-instance FILE or --trigger-instance-id ID',
            {},
          );
        const needsServer = Boolean(opts.ruleRef || opts.triggerInstanceId);
        const client = needsServer ? clientFrom(opts) : undefined;
        const ruleData = opts.rule
          ? readDataFile(opts.rule, 'rule')
          : await client!.get<Obj>(rulePath(opts.ruleRef!));
        const instance = opts.triggerInstance
          ? readDataFile(opts.triggerInstance, 'trigger instance')
          : await client!.get<Obj>(`/api/v1/triggerinstances/${encodeURIComponent(opts.triggerInstanceId!)}`);
        const { formatRuleTestReport, testRule } = await import('../../rules/index.js');
        const report = testRule(ruleData, {
          trigger: typeof instance.trigger === 'string' ? instance.trigger : undefined,
          payload: instance.payload ?? {},
        });
        process.stdout.write(
          opts.json ? JSON.stringify(report, null, 2) + '\n' : formatRuleTestReport(report),
        );
        process.exitCode = report.matches ? 0 : 1;
      },
    );
}
