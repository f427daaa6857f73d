import type { Command } from 'commander';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

type Common = OutputFlags & { url?: string };

/** `squall trigger-instance` (st2 trigger-instance): list, get, re-emit. */
export function registerTriggerInstance(program: Command): void {
  const ti = program.command('trigger-instance').description('Trigger instances (st2 trigger-instance)');
  withOutputOptions(
    withClientOptions(
      ti
        .command('list')
        .description('List trigger instances, newest first')
        .option('--trigger <ref>', 'only instances of this trigger')
        .option('--status <status>', 'pending, processing, processed or processing_failed')
        .option('--timestamp-gt <time>', 'occurred after this time (ISO 8601)')
        .option('--timestamp-lt <time>', 'occurred before this time (ISO 8601)')
        .option('-n, --last <n>', 'how many (default 50)'),
    ),
  ).action(
    async (
      opts: Common & {
        trigger?: string;
        status?: string;
        timestampGt?: string;
        timestampLt?: string;
        last?: string;
      },
    ) => {
      const rows = await clientFrom(opts).get('/api/v1/triggerinstances', {
        trigger: opts.trigger,
        status: opts.status,
        timestamp_gt: opts.timestampGt,
        timestamp_lt: opts.timestampLt,
        limit: opts.last ?? 50,
      });
      print(rows, opts, { columns: ['id', 'trigger', 'occurrence_time', 'status'] });
    },
  );
  withOutputOptions(
    withClientOptions(ti.command('get <id>').description('Show one trigger instance')),
  ).action(async (id: string, opts: Common) => {
    print(await clientFrom(opts).get(`/api/v1/triggerinstances/${encodeURIComponent(id)}`), opts);
  });
  withOutputOptions(
    withClientOptions(ti.command('re-emit <id>').description('Dispatch a trigger instance again')),
  ).action(async (id: string, opts: Common) => {
    const res = await clientFrom(opts).post<{ message: string }>(
      `/api/v1/triggerinstances/${encodeURIComponent(id)}/re_emit`,
    );
    if (opts.json || opts.yaml) print(res, opts);
    else process.stdout.write(`${res.message}\n`);
  });
}
