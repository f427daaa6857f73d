import type { Command } from 'commander';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

type Common = OutputFlags & { url?: string };

/** `squall rule-enforcement` (st2 rule-enforcement): list, get. */
export function registerRuleEnforcement(program: Command): void {
  const re = program.command('rule-enforcement').description('Rule enforcements (st2 rule-enforcement)');
  withOutputOptions(
    withClientOptions(
      re
        .command('list')
        .description('List rule enforcements, newest first')
        .option('--rule <ref>', 'only enforcements of this rule')
        .option('--execution <id>', 'the enforcement that requested this execution')
        .option('--trigger-instance <id>', 'enforcements of this trigger instance')
        .option('-n, --last <n>', 'how many (default 50)'),
    ),
  ).action(
    async (opts: Common & { rule?: string; execution?: string; triggerInstance?: string; last?: string }) => {
      const rows = await clientFrom(opts).get('/api/v1/ruleenforcements', {
        rule_ref: opts.rule,
        execution: opts.execution,
        trigger_instance: opts.triggerInstance,
        limit: opts.last ?? 50,
      });
      print(rows, opts, {
        columns: [
          'id',
          'rule.ref',
          'trigger_instance_id',
          'execution_id',
          'enforced_at',
          'status',
          'failure_reason',
        ],
      });
    },
  );
  withOutputOptions(
    withClientOptions(re.command('get <id>').description('Show one rule enforcement')),
  ).action(async (id: string, opts: Common) => {
    print(await clientFrom(opts).get(`/api/v1/ruleenforcements/${encodeURIComponent(id)}`), opts);
  });
}
