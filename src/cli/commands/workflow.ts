import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import yaml from 'js-yaml';
import { SquallError, errorMessage } from '../../errors.js';
import { clientFrom, withClientOptions } from '../client.js';

function readDefinition(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SquallError(
      'CLI_FILE_UNREADABLE',
      `Cannot read workflow file "${file}": ${errorMessage(err)}`,
      {
        path: file,
      },
    );
  }
}

type Grouped = Record<string, Array<{ message: string; spec_path?: string | null }>>;

function printInspection(file: string, grouped: Grouped, json: boolean): boolean {
  const categories = Object.entries(grouped).filter(([, errs]) => errs.length > 0);
  if (json) process.stdout.write(`${JSON.stringify(Object.fromEntries(categories), null, 2)}\n`);
  else if (categories.length === 0) process.stdout.write(`${file}: no errors\n`);
  else {
    for (const [category, errs] of categories) {
      for (const e of errs) {
        process.stdout.write(
          `${file}: ${category}: ${e.message}${e.spec_path ? ` (at ${e.spec_path})` : ''}\n`,
        );
      }
    }
  }
  return categories.length === 0;
}

/** `squall workflow` (st2 workflow inspect, plus orquesta-rehearse). */
export function registerWorkflow(program: Command): void {
  const workflow = program
    .command('workflow')
    .description('Orquesta workflows: inspect and rehearse (st2 workflow)');

  withClientOptions(
    workflow
      .command('inspect <file>')
      .description(
        'Inspect an orquesta workflow file; errors grouped as syntax, semantics, expressions, context. Exit 1 when there are errors',
      )
      .option('--remote', 'ask the server (also checks that the actions exist)')
      .option('-j, --json', 'print the grouped errors as JSON'),
  ).action(async (file: string, opts: { remote?: boolean; json?: boolean; url?: string }) => {
    const text = readDefinition(file);
    let grouped: Grouped;
    if (opts.remote) {
      let definition: unknown;
      try {
        definition = yaml.load(text);
      } catch (err) {
        throw new SquallError(
          'CLI_FILE_INVALID',
          `Workflow file "${file}" is not valid YAML: ${errorMessage(err)}`,
          {
            path: file,
          },
        );
      }
      const res = await clientFrom(opts).request<Grouped>('post', '/api/v1/workflows/inspect', {
        body: definition,
      });
      grouped = res.body ?? {};
    } else {
      const { inspect } = await import('../../workflows/index.js');
      grouped = inspect(text) as unknown as Grouped;
    }
    if (!printInspection(file, grouped, Boolean(opts.json))) process.exitCode = 1;
  });

  workflow
    .command('rehearse <specs...>')
    .description(
      'Run orquesta rehearsal specs (orquesta-rehearse format) against the conductor; exit 1 when any expectation does not hold',
    )
    .action(async (specs: string[]) => {
      const { rehearse } = await import('../../workflows/index.js');
      let failed = 0;
      for (const spec of specs) {
        const report = rehearse(spec);
        if (report.passed) process.stdout.write(`PASS ${spec}\n`);
        else {
          failed += 1;
          process.stdout.write(`FAIL ${spec}\n`);
          for (const m of report.mismatches) process.stdout.write(`${m.replace(/^/gm, '  ')}\n`);
        }
      }
      if (specs.length > 1) process.stdout.write(`${specs.length - failed} passed, ${failed} failed\n`);
      if (failed > 0) process.exitCode = 1;
    });
}
