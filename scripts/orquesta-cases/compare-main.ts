// Development-time check: every field of every rehearsal spec on Squall's conductor against
// orquesta main's own conductor, from a mirror (CI has neither the mirror nor main's orquesta;
// PyPI stops at 1.2.0). The specs: the generated cases of orquesta's own conducting tests
// (test/fixtures/rehearsals/orquesta), our own specs in orquesta-rehearse's standard format
// (test/fixtures/rehearsals) and those written against main (test/fixtures/rehearsals/main). A
// workflow orquesta's inspection rejects is compared on its inspection errors instead.
//
//   node --import tsx scripts/orquesta-cases/compare-main.ts ORQUESTA_MIRROR [PYTHON]
//
// PYTHON needs orquesta's requirements (e.g. a venv with `pip install -e ORQUESTA_MIRROR`).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from '../../src/workflows/orquesta/inspect.js';
import { isStandardRehearsal, loadRehearsalSpec, rehearse } from '../../src/workflows/orquesta/rehearsal.js';

const [mirror, python = 'python3'] = process.argv.slice(2);
if (!mirror) {
  process.stderr.write('usage: compare-main.ts ORQUESTA_MIRROR [PYTHON]\n');
  process.exit(2);
}
const root = path.resolve(import.meta.dirname, '../../test/fixtures/rehearsals');
const specsIn = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => path.join(dir, f));
const files = [
  ...specsIn(path.join(root, 'orquesta')),
  ...specsIn(root).filter((f) =>
    isStandardRehearsal(loadRehearsalSpec(f).spec as unknown as Record<string, unknown>),
  ),
  ...specsIn(path.join(root, 'main')),
];
const theirs = execFileSync(python, [path.join(import.meta.dirname, 'main-conductor.py'), mirror, ...files], {
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
})
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Squall's inspection errors in orquesta's shape: only the categories orquesta reports. */
function ourInspection(file: string): Record<string, unknown> {
  const { spec, base } = loadRehearsalSpec(file);
  const source =
    typeof spec.workflow === 'string'
      ? readFileSync(path.resolve(base, spec.workflow), 'utf8')
      : spec.workflow;
  const { content: _stContent, ...orquesta } = inspect(source);
  return Object.fromEntries(Object.entries(orquesta).filter(([, v]) => v.length > 0));
}

let agree = 0;
files.forEach((file, i) => {
  const name = path.relative(root, file);
  if (theirs[i].exception) {
    process.stdout.write(`${name}: orquesta main raised ${String(theirs[i].exception)}\n`);
    return;
  }
  const ours: Record<string, unknown> = theirs[i].inspection
    ? { inspection: ourInspection(file) }
    : (rehearse(file).actual as unknown as Record<string, unknown>);
  const keys = theirs[i].inspection
    ? ['inspection']
    : ['task_sequence', 'routes', 'status', 'output', 'errors'];
  const differ = keys.filter((k) => JSON.stringify(ours[k]) !== JSON.stringify(theirs[i][k]));
  for (const k of differ)
    process.stdout.write(
      `${name} ${k}: Squall ${JSON.stringify(ours[k])}, main ${JSON.stringify(theirs[i][k])}\n`,
    );
  if (differ.length === 0) agree++;
});
process.stdout.write(`Squall agrees with orquesta main on ${agree} of ${files.length} specs\n`);
process.exit(agree === files.length ? 0 : 1);
