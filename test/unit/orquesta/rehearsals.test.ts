import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { isStandardRehearsal, rehearse } from '../../../src/workflows/orquesta/rehearsal.js';

const dir = resolve(__dirname, '../../fixtures/rehearsals');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('orquesta rehearsals (test/fixtures/rehearsals)', () => {
  it('has a broad set of specs', () => {
    expect(files.length).toBeGreaterThanOrEqual(60);
  });

  for (const file of files) {
    it(file.replace(/\.yaml$/, ''), () => {
      const report = rehearse(join(dir, file));
      expect(report.mismatches, report.mismatches.join('\n')).toEqual([]);
      expect(report.passed).toBe(true);
    });
  }
});

// Differential check against the real orquesta (PyPI 1.2.0 in .cache/orquesta-venv, driven by
// oracle/rehearse.py like orquesta-rehearse), for specs that only use the standard format.
const python = resolve(__dirname, '../../../.cache/orquesta-venv/bin/python');
const oracleAvailable =
  existsSync(python) && spawnSync(python, ['-c', 'import orquesta'], { encoding: 'utf8' }).status === 0;
const requireAll = process.env.SQUALL_REQUIRE_ALL === '1';

describe.skipIf(!oracleAvailable && !requireAll)(
  oracleAvailable
    ? 'orquesta oracle agrees with Squall'
    : 'orquesta oracle (python venv .cache/orquesta-venv with orquesta missing)',
  () => {
    const standard = files.filter((f) => {
      const spec = yaml.load(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
      return isStandardRehearsal(spec) && !spec.expected_inspection_errors;
    });
    it('the oracle is installed', () => {
      expect(oracleAvailable).toBe(true);
    });
    for (const file of standard) {
      it(file.replace(/\.yaml$/, ''), () => {
        const out = execFileSync(python, [resolve(__dirname, 'oracle/rehearse.py'), join(dir, file)], {
          encoding: 'utf8',
        });
        const oracle = JSON.parse(out) as Record<string, unknown>;
        const ours = rehearse(join(dir, file)).actual;
        expect(ours.task_sequence).toEqual(oracle.task_sequence);
        expect(ours.routes).toEqual(oracle.routes);
        expect(ours.status).toEqual(oracle.status);
        expect(ours.output).toEqual(oracle.output);
        expect(ours.errors).toEqual(oracle.errors);
      });
    }
  },
);
