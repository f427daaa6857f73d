import type { Command } from 'commander';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

const COLUMNS = ['ref', 'pack', 'description', 'enabled'];
const ATTRIBUTES = [
  'id',
  'ref',
  'pack',
  'name',
  'class_name',
  'description',
  'enabled',
  'language',
  'entry_point',
  'poll_interval',
  'trigger_types',
];
const STATUS = ['state', 'pid', 'spawns', 'restarts_in_a_row', 'last_exit', 'next_restart_at'];
type Common = OutputFlags & { url?: string };

const path = (ref: string) => `/api/v1/sensortypes/${encodeURIComponent(ref)}`;

/** `squall sensor` (st2 sensor): list, get, enable, disable. */
export function registerSensor(program: Command): void {
  const sensor = program
    .command('sensor')
    .description('Sensors: pack code that emits trigger instances (st2 sensor)');

  withOutputOptions(
    withClientOptions(
      sensor.command('list').description('List sensors').option('-p, --pack <pack>', 'only this pack'),
    ),
  ).action(async (opts: Common & { pack?: string }) => {
    const items = await clientFrom(opts).get<Record<string, unknown>[]>('/api/v1/sensortypes', {
      pack: opts.pack,
    });
    print(items, opts, { columns: COLUMNS });
  });

  withOutputOptions(
    withClientOptions(
      sensor
        .command('get <ref>')
        .description(
          'Show a sensor and its process (state, pid, restarts, last exit, recent output with --logs)',
        )
        .option('-l, --logs', 'print the recent output of its process'),
    ),
  ).action(async (ref: string, opts: Common & { logs?: boolean }) => {
    const client = clientFrom(opts);
    const item = await client.get<Record<string, unknown>>(path(ref));
    const status = await client.get<Record<string, unknown>>(`${path(ref)}/status`);
    const proc = Object.fromEntries(STATUS.map((k) => [k, status[k]]));
    if (opts.json || opts.yaml) {
      print({ ...item, process: opts.logs ? status : proc }, opts);
      return;
    }
    print({ ...item, ...Object.fromEntries(STATUS.map((k) => [`process.${k}`, status[k]])) }, opts, {
      attributes: [...ATTRIBUTES.filter((a) => item[a] !== undefined), ...STATUS.map((k) => `process.${k}`)],
    });
    if (opts.logs) printTail((status.tail as string[] | undefined) ?? []);
  });

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    withOutputOptions(
      withClientOptions(
        sensor
          .command(`${verb} <ref>`)
          .description(
            enabled ? 'Enable a sensor (starts its process)' : 'Disable a sensor (stops its process)',
          ),
      ),
    ).action(async (ref: string, opts: Common) => {
      const item = await clientFrom(opts).put<Record<string, unknown>>(path(ref), { enabled });
      print(item, opts, { attributes: ['ref', 'pack', 'enabled'] });
    });
  }
}

function printTail(lines: string[]): void {
  process.stdout.write(lines.length ? `\n${lines.join('\n')}\n` : '\n(no output captured in this process)\n');
}
