import type { Command } from 'commander';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

const COLUMNS = ['ref', 'type', 'description', 'next_fire_time', 'rules'];
const ATTRIBUTES = [
  'id',
  'ref',
  'uid',
  'pack',
  'name',
  'type',
  'parameters',
  'description',
  'rules',
  'next_fire_time',
];
type Common = OutputFlags & { url?: string };

/** `squall timer` (st2 timer): list, get. */
export function registerTimer(program: Command): void {
  const timer = program
    .command('timer')
    .description('Timers: IntervalTimer, DateTimer and CronTimer triggers used by enabled rules (st2 timer)');

  withOutputOptions(
    withClientOptions(
      timer
        .command('list')
        .description('List timers')
        .option(
          '-t, --timer-type <type>',
          'only core.st2.IntervalTimer, core.st2.DateTimer or core.st2.CronTimer',
        ),
    ),
  ).action(async (opts: Common & { timerType?: string }) => {
    const items = await clientFrom(opts).get<Record<string, unknown>[]>('/api/v1/timers', {
      timer_type: opts.timerType,
    });
    print(items, opts, { columns: COLUMNS });
  });

  withOutputOptions(withClientOptions(timer.command('get <ref>').description('Show one timer'))).action(
    async (ref: string, opts: Common) => {
      const item = await clientFrom(opts).get<Record<string, unknown>>(
        `/api/v1/timers/${encodeURIComponent(ref)}`,
      );
      print(item, opts, { attributes: ATTRIBUTES });
    },
  );
}
