import type { Command } from 'commander';
import { clientFrom, withClientOptions } from '../client.js';
import { describeExecution, followExecution, type Execution } from '../execution-view.js';
import { outputFormat, print, withOutputOptions, type OutputFlags } from '../output.js';
import { parseKeyValues } from '../params.js';

type RunFlags = OutputFlags & {
  url?: string;
  async?: boolean;
  traceTag?: string;
  delay?: number;
  tail?: boolean;
};

/** Fetches the action's parameter specs (its own and its runner's) to cast k=v arguments. */
export async function actionSpecs(
  client: ReturnType<typeof clientFrom>,
  ref: string,
): Promise<Record<string, { type?: string }>> {
  const action = await client.get<{ parameters?: Record<string, { type?: string }> }>(
    `/api/v1/actions/views/overview/${encodeURIComponent(ref)}`,
  );
  return action.parameters ?? {};
}

/** `squall run REF k=v…` (st2 run): waits and prints the result unless --async. */
export function registerRun(program: Command): void {
  withOutputOptions(
    withClientOptions(
      program
        .command('run <action> [parameters...]')
        .description(
          'Run an action and wait for its result (st2 run). Parameters are name=value; arrays take a,b,c; objects take JSON',
        )
        .option('-a, --async', 'return at once with the execution id')
        .option('--trace-tag <tag>', 'trace tag to attach (st2 --trace-tag)')
        .option('--delay <ms>', 'milliseconds to wait before running', (v) => Number.parseInt(v, 10))
        .option('--tail', 'stream the output while it runs'),
    ),
  ).action(async (ref: string, args: string[], opts: RunFlags) => {
    const client = clientFrom(opts);
    const parameters = parseKeyValues(args, await actionSpecs(client, ref));
    const created = await client.post<Execution>('/api/v1/executions', {
      action: ref,
      parameters,
      ...(opts.traceTag ? { trace_tag: opts.traceTag } : {}),
      ...(opts.delay ? { delay: opts.delay } : {}),
    });
    if (opts.async) {
      if (outputFormat(opts) === 'table') {
        process.stdout.write(
          `To get the results, execute:\n squall execution get ${created.id}\n\nTo view output in real-time, execute:\n squall execution tail ${created.id}\n`,
        );
      } else print({ id: created.id, status: created.status }, opts);
      return;
    }
    const done = await followExecution(client, created.id, { showOutput: Boolean(opts.tail) });
    if (outputFormat(opts) === 'table') process.stdout.write(describeExecution(done));
    else print(done, opts);
    if (done.status !== 'succeeded') process.exitCode = 1;
  });
}
