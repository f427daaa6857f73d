import { describe, expect, it } from 'vitest';
import { loadYaml } from '../../../src/yaml.js';
import { parseYaml } from '../../../src/content/yaml.js';
import { runBoundedAsync } from '../../support/bounded.js';

/** Ten levels of ten aliases of the level below: 400 bytes that expand to 10^9 values. */
function laughs(levels = 9): string {
  let y = 'l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < levels; i++)
    y += `l${i}: &l${i} [${Array(10)
      .fill(`*l${i - 1}`)
      .join(', ')}]\n`;
  return y;
}

describe('YAML whose aliases expand without bound ("billion laughs")', () => {
  it('is refused at load, naming the file and the limit', () => {
    expect(() => loadYaml(laughs(), { filename: 'actions/workflows/laugh.yaml' })).toThrow(
      /actions\/workflows\/laugh.yaml: the YAML's anchors and aliases expand to more than 1,000,000 values/,
    );
    const parsed = parseYaml(laughs(), 'rules/laugh.yaml');
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toMatch(/rules\/laugh.yaml: .*expand to more than/);
  });

  it('still loads documents that use anchors as people do', () => {
    const text =
      'defaults: &d {timeout: 60, retries: 2}\na: *d\nb: {<<: *d, timeout: 5}\ncron: "*/5 * * * *"\n';
    expect(loadYaml(text)).toEqual({
      defaults: { timeout: 60, retries: 2 },
      a: { timeout: 60, retries: 2 },
      b: { timeout: 5, retries: 2 },
      cron: '*/5 * * * *',
    });
  });

  it("from_yaml_string in an operator's parameter is a render error, not a process held for minutes", async () => {
    // Printing the loaded value walks 10^9 nodes: run apart, so a regression fails instead of hanging.
    const out = await runBoundedAsync(
      `import { renderTemplate } from './src/workflows/expressions/jinja/index.ts';
      try { renderTemplate('{{ y | from_yaml_string }}', { y: ${JSON.stringify(laughs())} }); console.log('rendered'); }
      catch (err) { console.log(err.message); }`,
      60_000,
      false,
    );
    expect(out).toMatch(
      /Filter "from_yaml_string": value is not valid YAML: .*expand to more than 1,000,000 values/,
    );
  }, 75_000);

  it('is refused by every other loader of YAML a user writes: workflows, action chains, the config, RBAC files, the CLI config', async () => {
    // Each of these walked (validated, cloned, stored) the 10^9 values: run apart, so a regression
    // fails instead of hanging.
    const out = await runBoundedAsync(
      `import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import path from 'node:path';
      import { loadSpecSource, inspect } from './src/workflows/orquesta/index.ts';
      import { parseChainSpec } from './src/workflows/actionchain/index.ts';
      import { loadConfig } from './src/config/index.ts';
      import { loadRbacDefinitions } from './src/auth/index.ts';
      import { readCliConfig } from './src/cli/client.ts';
      const laughs = ${JSON.stringify(laughs())};
      const dir = mkdtempSync(path.join(tmpdir(), 'laughs-'));
      for (const d of ['rbac/roles', 'rbac/assignments', 'xdg/squall']) mkdirSync(path.join(dir, d), { recursive: true });
      writeFileSync(path.join(dir, 'squall.yaml'), laughs);
      writeFileSync(path.join(dir, 'rbac/roles/laugh.yaml'), laughs);
      writeFileSync(path.join(dir, 'xdg/squall/config.yaml'), laughs);
      const rows = [];
      for (const [name, f] of [
        ['orquesta', () => loadSpecSource('version: 1.0\\n' + laughs, 'wf.yaml')],
        ['inspect', () => inspect('version: 1.0\\ntasks: {}\\n' + laughs)],
        ['chain', () => parseChainSpec('chain: []\\n' + laughs, 'chain.yaml')],
        ['config', () => loadConfig({ cwd: dir, env: {} })],
        ['rbac', () => loadRbacDefinitions(path.join(dir, 'rbac'))],
        ['cli', () => readCliConfig({ XDG_CONFIG_HOME: path.join(dir, 'xdg') })],
      ]) {
        try { f(); rows.push([name, 'loaded']); } catch (e) { rows.push([name, e.message]); }
      }
      console.log(JSON.stringify(rows));`,
      60_000,
      false,
    );
    const rows = JSON.parse(out) as Array<[string, string]>;
    expect(rows.map((r) => r[0])).toEqual(['orquesta', 'inspect', 'chain', 'config', 'rbac', 'cli']);
    for (const [name, message] of rows) expect(message, name).toMatch(/expand to more than 1,000,000 values/);
    expect(rows[0][1]).toMatch(/wf\.yaml/);
    expect(rows[4][1]).toMatch(/roles\/laugh\.yaml/);
    expect(rows[5][1]).toMatch(/squall\/config\.yaml/);
  }, 90_000);
});
