import type { Command } from 'commander';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

type Common = OutputFlags & { url?: string };

/** `squall trigger` (st2 trigger): trigger types and the parameterised triggers rules bind. */
export function registerTrigger(program: Command): void {
  const trigger = program
    .command('trigger')
    .description('Trigger types and parameterised triggers (st2 trigger)');
  withOutputOptions(
    withClientOptions(
      trigger
        .command('list')
        .description('List trigger types (with --bound: the parameterised triggers rules bind)')
        .option('-p, --pack <pack>', 'only this pack')
        .option('--bound', 'list parameterised triggers (webhook urls, timer schedules) instead'),
    ),
  ).action(async (opts: Common & { pack?: string; bound?: boolean }) => {
    const client = clientFrom(opts);
    if (opts.bound) {
      print(await client.getAll('/api/v1/triggers', { pack: opts.pack }), opts, {
        columns: ['ref', 'type', 'parameters', 'ref_count'],
      });
      return;
    }
    print(await client.getAll('/api/v1/triggertypes', { pack: opts.pack }), opts, {
      columns: ['ref', 'pack', 'description'],
    });
  });
  withOutputOptions(
    withClientOptions(trigger.command('get <ref>').description('Show a trigger type or trigger')),
  ).action(async (ref: string, opts: Common) => {
    const client = clientFrom(opts);
    const path = `/api/v1/${/^[a-z0-9_-]+\.[0-9a-f]{8}-/.test(ref) ? 'triggers' : 'triggertypes'}/${encodeURIComponent(ref)}`;
    print(await client.get(path), opts);
  });
}
