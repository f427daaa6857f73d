// Development-time check: every field of every generated case (first session) on Squall's
// conductor against orquesta main's own conductor, from a mirror (CI has neither the mirror nor
// main's orquesta; PyPI stops at 1.2.0).
//
//   node --import tsx scripts/orquesta-cases/compare-main.ts ORQUESTA_MIRROR [PYTHON]
//
// PYTHON needs orquesta's requirements (e.g. a venv with `pip install ORQUESTA_MIRROR`).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { rehearse } from '../../src/workflows/orquesta/rehearsal.js';

const [mirror, python = 'python3'] = process.argv.slice(2);
if (!mirror) {
  process.stderr.write('usage: compare-main.ts ORQUESTA_MIRROR [PYTHON]\n');
  process.exit(2);
}
const dir = path.resolve(import.meta.dirname, '../../test/fixtures/rehearsals/orquesta');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => path.join(dir, f));
const theirs = execFileSync(python, [path.join(import.meta.dirname, 'main-conductor.py'), mirror, ...files], {
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
})
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Record<string, unknown>);
let agree = 0;
files.forEach((file, i) => {
  const ours = rehearse(file).actual as unknown as Record<string, unknown>;
  const name = path.basename(file);
  if (theirs[i].exception) {
    process.stdout.write(`${name}: orquesta main raised ${String(theirs[i].exception)}\n`);
    return;
  }
  const differ = ['task_sequence', 'routes', 'status', 'output', 'errors'].filter(
    (k) => JSON.stringify(ours[k]) !== JSON.stringify(theirs[i][k]),
  );
  for (const k of differ)
    process.stdout.write(
      `${name} ${k}: Squall ${JSON.stringify(ours[k])}, main ${JSON.stringify(theirs[i][k])}\n`,
    );
  if (differ.length === 0) agree++;
});
process.stdout.write(`Squall agrees with orquesta main on ${agree} of ${files.length} cases\n`);
process.exit(agree === files.length ? 0 : 1);
