import type { Command } from 'commander';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

type Common = OutputFlags & { url?: string };

/** `squall trace` (st2 trace): list, get. */
export function registerTrace(program: Command): void {
  const trace = program.command('trace').description('Traces: what one event caused (st2 trace)');
  withOutputOptions(
    withClientOptions(
      trace
        .command('list')
        .description('List traces, newest first')
        .option('--trace-tag <tag>', 'only traces with this tag')
        .option('--execution <id>', 'the trace holding this execution')
        .option('--rule <id>', 'traces holding this rule (id)')
        .option('--trigger-instance <id>', 'the trace holding this trigger instance')
        .option('-n, --last <n>', 'how many (default 50)'),
    ),
  ).action(
    async (
      opts: Common & {
        traceTag?: string;
        execution?: string;
        rule?: string;
        triggerInstance?: string;
        last?: string;
      },
    ) => {
      const rows = await clientFrom(opts).get('/api/v1/traces', {
        trace_tag: opts.traceTag,
        execution: opts.execution,
        rule: opts.rule,
        trigger_instance: opts.triggerInstance,
        limit: opts.last ?? 50,
      });
      print(rows, opts, { columns: ['id', 'trace_tag', 'start_timestamp'] });
    },
  );
  withOutputOptions(withClientOptions(trace.command('get <id>').description('Show one trace'))).action(
    async (id: string, opts: Common) => {
      print(await clientFrom(opts).get(`/api/v1/traces/${encodeURIComponent(id)}`), opts);
    },
  );
}
