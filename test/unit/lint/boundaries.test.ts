import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

// The boundaries of CONTRIBUTING.md are eslint rules (eslint.config.js); these tests lint a
// deliberate violation at a real path in the repository and expect `npm run lint` to fail on it.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

// no-cycle reads the whole import graph; only the cycle test needs it.
let eslint: ESLint;
let withoutCycles: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: root });
  withoutCycles = new ESLint({ cwd: root, overrideConfig: { rules: { 'import-x/no-cycle': 'off' } } });
});

async function problems(file: string, text: string, linter = withoutCycles): Promise<string[]> {
  const [result] = await linter.lintText(text, { filePath: path.join(root, file) });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('npm run lint enforces the boundaries', () => {
  it('reports a deep import into another folder, and accepts the same name through its index', async () => {
    const deep = "import { isCompleted } from '../executions/status.js';\nexport const done = isCompleted;\n";
    expect(await problems('src/rules/boundary-fixture.ts', deep)).toContain(
      'import-x/no-internal-modules: Reaching to "../executions/status.js" is not allowed.',
    );
    const viaIndex =
      "import { isCompleted } from '../executions/index.js';\nexport const done = isCompleted;\n";
    expect(await problems('src/rules/boundary-fixture.ts', viaIndex)).toEqual([]);
  });

  it('reports the domain importing adapters/, and an adapter importing past src/chatops', async () => {
    const intoAdapters = "export { ShellAdapter } from '../../adapters/shell/index.js';\n";
    expect((await problems('src/rules/boundary-fixture.ts', intoAdapters)).join('\n')).toMatch(
      /import-x\/no-restricted-paths: .*The domain \(src\/\) never imports adapters\//,
    );
    const pastChatops = "export { isCompleted } from '../../src/executions/index.js';\n";
    expect((await problems('adapters/slack/boundary-fixture.ts', pastChatops)).join('\n')).toMatch(
      /import-x\/no-restricted-paths: .*Adapters see only src\/chatops/,
    );
  });

  it('reports node: imports in the Orquesta conductor and in aliases/', async () => {
    const io = "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n";
    for (const file of ['src/workflows/orquesta/boundary-fixture.ts', 'aliases/boundary-fixture.ts'])
      expect(await problems(file, io)).toContain(
        'import-x/no-nodejs-modules: Do not import Node.js builtin module "node:fs"',
      );
  });

  it("reports a direct read of trigger instances (an action trigger's would show no payload), and accepts triggerInstanceReads", async () => {
    const direct =
      "import type { Services } from '../service/index.js';\n" +
      'export const read = (services: Services, id: string) => services.store.triggerInstances.get(id);\n' +
      "export const list = (services: Services) => services.store.triggerInstances.find({ status: 'processed' });\n";
    const reported = await problems('src/rules/boundary-fixture.ts', direct);
    expect(
      reported.filter((p) =>
        p.startsWith('no-restricted-syntax: Read trigger instances through triggerInstanceReads'),
      ),
    ).toHaveLength(2);
    const throughReads =
      "import type { Services } from '../service/index.js';\n" +
      "import { triggerInstanceReads } from '../triggers/index.js';\n" +
      'export const read = (services: Services, id: string) => triggerInstanceReads(services).get(id);\n' +
      "export const done = (services: Services, id: string) =>\n  services.store.triggerInstances.updateOne({ id }, { $set: { status: 'processed' } });\n";
    expect(await problems('src/rules/boundary-fixture.ts', throughReads)).toEqual([]);
  });

  it('reports an import cycle', async () => {
    // triggers/dispatch.ts imports pending.ts; pending.ts importing dispatch.ts back closes a cycle.
    const file = 'src/triggers/pending.ts';
    const text =
      readFileSync(path.join(root, file), 'utf8') + "\nexport { dispatchTrigger } from './dispatch.js';\n";
    expect(await problems(file, text, eslint)).toContain('import-x/no-cycle: Dependency cycle detected');
  });
});
