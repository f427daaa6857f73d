import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, tempDir } from '../../support/servers.js';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.js';
import { ST2_CLI_INSTALLABLE, ensureSt2Client, st2Cli, type St2Cli } from '../../support/st2cli.js';

/**
 * Issue 21: the official `st2` CLI's pack commands (install, remove, register, search, config)
 * and list paging against `squall start`, as a StackStorm user types them.
 */

const PASSWORD = 'st2-packs-test-password';
/** More actions than st2's max_page_size (100), with dotted names like slack's chat.postMessage. */
const MANY = 120;
/**
 * Installing or registering MANY actions writes each one; on FerretDB under a shared machine's
 * load that took 20–30 s, past vitest's default 30 s. A timeout, not a speed assertion.
 */
const SLOW_STORE_MS = 180_000;

function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
}

const packYaml = (ref: string) =>
  `ref: ${ref}\nname: ${ref}\ndescription: test pack ${ref}\nversion: 0.3.0\nauthor: tester\n`;

/** A property row of st2's vertical table: `| name  | value  |`. */
function row(name: string, value: string): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`\\|\\s*${esc(name)}\\s*\\|\\s*${esc(value)}\\s*\\|`);
}

for (const target of STORE_TARGETS) {
  describeWithServer(
    `official st2 CLI: pack commands and list paging (${target.kind})`,
    target.available ? 'python3 with venv (for st2client)' : 'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available && ST2_CLI_INSTALLABLE,
    () => {
      let svc: ServiceProcess;
      let st2: St2Cli;
      let cleanup: () => void;
      let fixtures: string;
      let installDir: string;

      beforeAll(async () => {
        const bin = await ensureSt2Client();
        const temp = tempDir('squall-st2packs-');
        cleanup = temp.cleanup;
        fixtures = path.join(temp.dir, 'fixtures');
        const dataDir = path.join(temp.dir, 'data');
        installDir = path.join(dataDir, 'packs');
        const actions: Record<string, string> = {};
        for (let i = 0; i < MANY; i++) {
          const name = `chat.post${String(i).padStart(3, '0')}`;
          actions[`actions/${name}.yaml`] =
            `name: ${name}\nrunner_type: local-shell-cmd\nparameters:\n  cmd:\n    default: echo ${i}\n`;
        }
        writeTree(path.join(fixtures, 'many'), { 'pack.yaml': packYaml('many'), ...actions });
        writeTree(path.join(fixtures, 'needs_missing'), {
          'pack.yaml': packYaml('needs_missing'),
          'requirements.txt': 'squall-test-no-such-package-7c1e==1.0.0\n',
        });
        writeTree(path.join(fixtures, 'index'), {
          'index.json': JSON.stringify({
            metadata: { generated_ts: 0, hash: 'x' },
            packs: {
              csv: {
                ref: 'csv',
                name: 'csv',
                description: 'st2 content pack containing CSV integrations',
                version: '2.0.1',
                author: 'StackStorm, Inc.',
                keywords: ['csv', 'parsing'],
                repo_url: 'https://github.com/StackStorm-Exchange/stackstorm-csv',
                content: { actions: { count: 2, resources: ['format', 'parse'] } },
              },
              email: {
                ref: 'email',
                name: 'email',
                description: 'E-Mail actions and sensors',
                version: '1.0.0',
                author: 'StackStorm, Inc.',
                keywords: ['email', 'smtp'],
                repo_url: 'https://github.com/StackStorm-Exchange/stackstorm-email',
              },
            },
          }),
        });
        // A broken pack already installed: its problems must not reach other packs' commands.
        writeTree(path.join(installDir, 'broken_neighbour'), {
          'pack.yaml': packYaml('broken_neighbour'),
          'actions/bad.yaml': 'name: bad\nrunner_type: no-such-runner\n',
        });
        svc = await startServiceProcess(
          ['--data-dir', dataDir],
          {
            SQUALL_AUTH_ADMIN_PASSWORD: PASSWORD,
            SQUALL_PACKS_INDEX_URL: path.join(fixtures, 'index', 'index.json'),
            ...(target.kind === 'mongo' ? { SQUALL_MONGO_URL: freshMongoUrl() } : {}),
          },
          // squall start under the shared machine's load (load average 20) took over 60 s.
          180_000,
        );
        const home = path.join(temp.dir, 'home');
        mkdirSync(home, { recursive: true });
        st2 = st2Cli(bin, svc.url, home);
        await st2.ok('login', 'st2admin', '-p', PASSWORD);
      }, 600_000);

      afterAll(async () => {
        await svc?.stop();
        cleanup?.();
      });

      it(
        'st2 pack install --force file://… installs and prints the pack, with no AsyncRequest error',
        async () => {
          const r = await st2('pack', 'install', '--force', `file://${path.join(fixtures, 'many')}`);
          expect(r.stdout + r.stderr).not.toMatch(/ERROR|execution_id/);
          expect(r.code).toBe(0);
          expect(r.stdout).toMatch(row('ref', 'many'));
          expect(r.stdout).toMatch(row('version', '0.3.0'));
          expect(existsSync(path.join(installDir, 'many', 'pack.yaml'))).toBe(true);
        },
        SLOW_STORE_MS,
      );

      it('st2 action list shows every action, beyond 100, as st2 answers a list without a limit', async () => {
        const all = await st2.json<Array<{ ref: string }>>('action', 'list');
        const mine = all.filter((a) => a.ref.startsWith('many.'));
        expect(mine).toHaveLength(MANY);
        expect(mine.map((a) => a.ref)).toContain('many.chat.post119');
        expect(all.length).toBeGreaterThan(MANY);
        const table = await st2.ok('action', 'list', '-p', 'many');
        expect(table.match(/many\.chat\.post\d{3}/g)).toHaveLength(MANY);
      });

      it(
        'st2 pack register PACK registers only that pack, whatever is broken next to it',
        async () => {
          const out = await st2.ok('pack', 'register', 'many');
          expect(out).toMatch(row('actions', String(MANY)));
          expect(out).not.toContain('broken_neighbour');
          const missing = await st2('pack', 'register', 'no_such_pack');
          expect(missing.code).not.toBe(0);
          expect(missing.stdout + missing.stderr).toContain('Pack "no_such_pack" not found on disk');
        },
        SLOW_STORE_MS,
      );

      it('st2 pack search finds packs in the configured index', async () => {
        const out = await st2.ok('pack', 'search', 'parsing');
        expect(out).toMatch(/\|\s*csv\s*\|\s*st2 content pack containing CSV/);
        expect(out).not.toContain('email');
      });

      it('st2 pack config names a pack without a config schema', async () => {
        const r = await st2('pack', 'config', 'many');
        expect(r.code).not.toBe(0);
        expect(r.stdout + r.stderr).toContain(`"many" doesn't exist or doesn't have a config schema defined`);
      });

      it(
        'st2 pack remove removes the pack and prints it, with no AsyncRequest error',
        async () => {
          const r = await st2('pack', 'remove', 'many');
          expect(r.stdout + r.stderr).not.toMatch(/ERROR|execution_id/);
          expect(r.code).toBe(0);
          expect(r.stdout).toMatch(row('ref', 'many'));
          expect(existsSync(path.join(installDir, 'many'))).toBe(false);
          const get = await st2('pack', 'get', 'many');
          expect(get.stdout + get.stderr).toMatch(/Pack "\w+" is not found/);
        },
        SLOW_STORE_MS,
      );

      it('a failed st2 pack install fails with the package that pip could not install, and leaves nothing', async () => {
        const r = await st2('pack', 'install', `file://${path.join(fixtures, 'needs_missing')}`);
        expect(r.code).not.toBe(0);
        expect(r.stdout + r.stderr).toMatch(/pip could not install squall-test-no-such-package-7c1e/);
        expect(readdirSync(installDir).filter((f) => f === 'needs_missing' || f.startsWith('.'))).toEqual([]);
        const get = await st2('pack', 'get', 'needs_missing');
        expect(get.stdout + get.stderr).toMatch(/Pack "\w+" is not found/);
      }, 180_000);
    },
  );
}
