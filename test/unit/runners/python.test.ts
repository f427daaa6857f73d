import { execFile, execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { getRunner } from '../../../src/runners/index.js';
import { fakeContext } from '../../support/runner-context.js';

const packDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'pypack');
const python = getRunner('python-script')!;

function hasPython(): boolean {
  try {
    execFileSync('python3', ['--version']);
    return true;
  } catch {
    return false;
  }
}
const missing = !hasPython();
if (missing && process.env.SQUALL_REQUIRE_ALL === '1')
  throw new Error('python3 is required (SQUALL_REQUIRE_ALL=1) but was not found');

describe.skipIf(missing)(
  missing ? 'python-script runner (SKIPPED: python3 not found)' : 'python-script runner',
  () => {
    const echo = (message: string) =>
      fakeContext({
        runner: 'python-script',
        packDir,
        entry_point: 'my_echo_action.py',
        parameters: { message: { type: 'string', required: true, position: 0 } },
        actionParameters: { message },
      });

    it('runs the st2 MyEchoAction unchanged: (True, message) succeeds', async () => {
      const res = await python.run(echo('working'));
      expect(res.status).toBe('succeeded');
      expect(res.result).toEqual({ result: 'working', stdout: 'working\n', stderr: '', exit_code: 0 });
    });

    it('runs the st2 MyEchoAction unchanged inside the pack virtualenv', async () => {
      const venv = mkdtempSync(path.join(os.tmpdir(), 'squall-pyvenv-'));
      try {
        // Awaited: venv with pip (ensurepip) took 10-16 s at load 9.6; under spawnSync it held the
        // vitest fork that long, and a fork blocked for 60 s fails the run ("Timeout calling onTaskUpdate").
        await promisify(execFile)('python3', ['-m', 'venv', venv]);
        const inVenv = (entry: string, actionParameters: Record<string, unknown>, parameters = {}) => ({
          ...fakeContext({
            runner: 'python-script',
            packDir,
            entry_point: entry,
            parameters,
            actionParameters,
          }),
          venvDir: venv,
        });
        const which = await python.run(inVenv('which_python.py', {}));
        expect(which.status).toBe('succeeded');
        expect((which.result as { result: string }).result).toBe(venv);
        const res = await python.run(
          inVenv(
            'my_echo_action.py',
            { message: 'working' },
            { message: { type: 'string', required: true, position: 0 } },
          ),
        );
        expect(res.status).toBe('succeeded');
        expect((res.result as { result: string }).result).toBe('working');
      } finally {
        rmSync(venv, { recursive: true, force: true });
      }
    });

    it('runs the st2 MyEchoAction unchanged: (False, message) fails and keeps the result', async () => {
      const ctx = echo('broken');
      const res = await python.run(ctx);
      expect(res.status).toBe('failed');
      expect(res.result).toMatchObject({ result: 'broken', stdout: 'broken\n', exit_code: 0 });
      expect(
        ctx.output
          .filter((o) => o.type === 'stdout')
          .map((o) => o.data)
          .join(''),
      ).toBe('broken\n');
    });

    it('reaches ctx.datastore through action_service (set/get/list/delete)', async () => {
      const ctx = fakeContext({
        runner: 'python-script',
        packDir,
        entry_point: 'kv_action.py',
        actionParameters: { key: 'color', value: 'blue' },
      });
      const res = await python.run(ctx);
      expect(res.status).toBe('succeeded');
      expect((res.result as { result: unknown }).result).toEqual({
        got: 'blue',
        missing: null,
        names: ['tests:color'],
        deleted: true,
        after: null,
      });
      expect(ctx.datastore.data.get('system:global_color')).toBe('BLUE');
      expect(ctx.datastore.data.has('system:tests:color')).toBe(false);
      expect((res.result as { stderr: string }).stderr).toContain('INFO [-] stored color');
    });

    it("gives action_service.datastore_service, st2's datastore object with get_api_client", async () => {
      const ctx = fakeContext({
        runner: 'python-script',
        packDir,
        entry_point: 'datastore_service_action.py',
      });
      const res = await python.run(ctx);
      expect(res.status).toBe('succeeded');
      expect((res.result as { result: unknown }).result).toEqual({
        got: 'yes',
        same: 'yes',
        client_getters: [true, true],
      });
    });

    it('passes the pack config, supports old import paths, __init__(self, config) and actions/lib', async () => {
      const ok = await python.run(
        fakeContext({
          runner: 'python-script',
          packDir,
          entry_point: 'crash_action.py',
          config: { region: 'eu' },
          actionParameters: { n: 2 },
        }),
      );
      expect(ok.status).toBe('succeeded');
      expect((ok.result as { result: unknown }).result).toEqual({
        config: { region: 'eu' },
        kwargs: { n: 2 },
      });
    });

    it("a pack's root lib/ is importable only with st2's enable_common_libs, as in st2", async () => {
      // Shaped like st2's examples isprime: `from environ import get_environ` from <pack>/lib.
      const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-commonlib-'));
      mkdirSync(path.join(dir, 'lib'));
      mkdirSync(path.join(dir, 'actions'));
      writeFileSync(path.join(dir, 'lib', 'environ.py'), 'def get_environ():\n    return "shared"\n');
      writeFileSync(
        path.join(dir, 'actions', 'uses_lib.py'),
        [
          'from environ import get_environ',
          'from st2common.runners.base_action import Action',
          'class UsesLib(Action):',
          '    def run(self):',
          '        return get_environ()',
          '',
        ].join('\n'),
      );
      try {
        const ctx = () => fakeContext({ runner: 'python-script', packDir: dir, entry_point: 'uses_lib.py' });
        const off = await python.run(ctx());
        expect(off.status).toBe('failed');
        expect(JSON.stringify(off.result)).toContain("No module named 'environ'");
        const on = await python.run({ ...ctx(), commonLibs: true });
        expect(on.status).toBe('succeeded');
        expect((on.result as { result: unknown }).result).toBe('shared');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('reports an exception as failed with the traceback in stderr', async () => {
      const res = await python.run(
        fakeContext({
          runner: 'python-script',
          packDir,
          entry_point: 'crash_action.py',
          config: { explode: true },
        }),
      );
      expect(res.status).toBe('failed');
      const r = res.result as { result: unknown; stdout: string; stderr: string; exit_code: number };
      expect(r.result).toBeNull();
      expect(r.exit_code).toBe(1);
      expect(r.stdout).toBe('before the crash\n');
      expect(r.stderr).toContain('Traceback (most recent call last)');
      expect(r.stderr).toContain('RuntimeError: BOOM!');
    });

    it('times out a stuck action with st2 status and message', async () => {
      const ctx = fakeContext({
        runner: 'python-script',
        packDir,
        entry_point: 'sleepy_action.py',
        runnerParameters: { timeout: 1 },
      });
      const res = await python.run(ctx);
      expect(res.status).toBe('timeout');
      expect(res.result).toMatchObject({
        result: null,
        exit_code: -9,
        error: 'Action failed to complete in 1 seconds',
      });
    }, 15_000);

    it("keeps Squall's wrapper script off the action's sys.path, as st2's is", async () => {
      const res = await python.run(
        fakeContext({ runner: 'python-script', packDir, entry_point: 'imports_wrapper.py' }),
      );
      expect(res.status).toBe('succeeded');
      expect((res.result as { result: string }).result).toBe('no module named wrapper');
    });

    describe("st2's download_pack (the packs pack's packs.download)", () => {
      const git = (cwd: string, ...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd });
      // A git repository holding pack "fromgit": v1.0.0 tagged, then 1.1.0 on the default branch.
      const repo = mkdtempSync(path.join(os.tmpdir(), 'squall-packrepo-'));
      const manifest = (version: string) =>
        writeFileSync(
          path.join(repo, 'pack.yaml'),
          `ref: fromgit\nname: fromgit\nversion: ${version}\nauthor: t\ndescription: d\n`,
        );
      git(repo, 'init', '--quiet');
      manifest('1.0.0');
      git(repo, 'add', '.');
      git(repo, 'commit', '--quiet', '-m', 'one');
      git(repo, 'tag', 'v1.0.0');
      manifest('1.1.0');
      git(repo, 'commit', '--quiet', '-am', 'two');

      const download = (packs: string[], force = false) => {
        // The action's pack lives in a packs folder of its own: st2's default base maps to it.
        const base = mkdtempSync(path.join(os.tmpdir(), 'squall-packsbase-'));
        mkdirSync(path.join(base, 'packs', 'actions'), { recursive: true });
        execFileSync('cp', [
          path.join(packDir, 'actions', 'download_packs.py'),
          path.join(base, 'packs', 'actions'),
        ]);
        const ctx = fakeContext({
          runner: 'python-script',
          pack: 'packs',
          packDir: path.join(base, 'packs'),
          entry_point: 'download_packs.py',
          parameters: { packs: { type: 'array', required: true }, force: { type: 'boolean' } },
          actionParameters: { packs, force },
        });
        return { base, run: python.run(ctx) };
      };

      it('clones a file:// git repository at a version tag into the packs folder', async () => {
        const { base, run } = download([`file://${repo}=1.0.0`]);
        const res = await run;
        expect(res.status, JSON.stringify(res.result)).toBe('succeeded');
        expect((res.result as { result: unknown }).result).toEqual([
          [`file://${repo}`, 'fromgit', [true, 'Success.']],
        ]);
        expect(readFileSync(path.join(base, 'fromgit', 'pack.yaml'), 'utf8')).toContain('version: 1.0.0');
      });

      it('takes the default branch without a version, and replaces an existing copy', async () => {
        const { base, run } = download([`file://${repo}=1.0.0`, `file://${repo}`]);
        expect((await run).status).toBe('succeeded');
        expect(readFileSync(path.join(base, 'fromgit', 'pack.yaml'), 'utf8')).toContain('version: 1.1.0');
      });

      it('fails as st2 does on a version the repository lacks, listing the ones it has', async () => {
        const res = await download([`file://${repo}=9.9.9`]).run;
        expect(res.status).toBe('failed');
        expect((res.result as { stderr: string }).stderr).toContain(
          `ValueError: "9.9.9" is not a valid version, hash, tag or branch in file://${repo}. Available versions are: 1.0.0.`,
        );
      });
      /** download_pack of a pack giving `stackstorm_version` (written as YAML), expected to fail. */
      const refusedFor = async (ref: string, stackstormVersion: string) => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-st2ver-'));
        writeFileSync(
          path.join(dir, 'pack.yaml'),
          `ref: ${ref}\nname: ${ref}\nversion: 1.0.0\nauthor: t\ndescription: d\nstackstorm_version: ${stackstormVersion}\n`,
        );
        const refused = download([`file://${dir}`]);
        const res = await refused.run;
        expect(res.status).toBe('failed');
        expect(existsSync(path.join(refused.base, ref))).toBe(false);
        return { dir, stderr: (res.result as { stderr: string }).stderr };
      };

      it("refuses a pack whose stackstorm_version excludes Squall's st2 release unless forced, with st2's message", async () => {
        const { dir, stderr } = await refusedFor('st2newer', '">=3.10.0"');
        expect(stderr).toContain(
          'ValueError: Pack "st2newer" requires StackStorm ">=3.10.0", but current version is "3.9.0". You can override this restriction by providing the "force" flag, but the pack is not guaranteed to work.',
        );
        const forced = download([`file://${dir}`], true);
        expect((await forced.run).status).toBe('succeeded');
        expect(existsSync(path.join(forced.base, 'st2newer', 'pack.yaml'))).toBe(true);
      });

      it('refuses a single stackstorm_version with blanks inside the quotes, as st2 hands it to semver unstripped', async () => {
        const { stderr } = await refusedFor('st2blank', '" >=3.0.0"');
        expect(stderr).toContain(
          "ValueError: match_expr parameter should be in format <op><ver>, where <op> is one of ['<', '>', '==', '<=', '>=', '!=']. You provided: ' >=3.0.0'",
        );
      });

      describe('download_pack refuses a symbolic link leading outside the pack, as pack install does', () => {
        // A secret outside the pack, and a pack whose files link to it (and, harmlessly, to themselves).
        const secret = path.join(mkdtempSync(path.join(os.tmpdir(), 'squall-secret-')), 'id_rsa');
        writeFileSync(secret, 'PRIVATE KEY\n');
        const craft = (ref: string) => {
          const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-linkpack-'));
          writeFileSync(
            path.join(dir, 'pack.yaml'),
            `ref: ${ref}\nname: ${ref}\nversion: 1.0.0\nauthor: t\ndescription: d\n`,
          );
          mkdirSync(path.join(dir, 'actions'));
          writeFileSync(path.join(dir, 'actions', 'real.yaml'), 'name: real\n');
          symlinkSync('real.yaml', path.join(dir, 'actions', 'alias.yaml'));
          symlinkSync(secret, path.join(dir, 'actions', 'key.yaml'));
          return dir;
        };
        it('from a local directory (copied): fails naming the link, places nothing, copies no secret', async () => {
          const dir = craft('linkdir');
          const { base, run } = download([`file://${dir}`]);
          const res = await run;
          expect(res.status).toBe('failed');
          expect((res.result as { stderr: string }).stderr).toContain(
            `ValueError: file://${dir}: actions/key.yaml is a symbolic link to ${secret}, outside the pack; a pack may link only to its own files`,
          );
          expect(existsSync(path.join(base, 'linkdir'))).toBe(false);
        });

        it('from a git repository: fails naming the link, places nothing', async () => {
          const dir = craft('linkgit');
          execFileSync('git', ['init', '--quiet'], { cwd: dir });
          execFileSync('git', ['add', '.'], { cwd: dir });
          execFileSync(
            'git',
            ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'x'],
            {
              cwd: dir,
            },
          );
          const { base, run } = download([`file://${dir}`]);
          const res = await run;
          expect(res.status).toBe('failed');
          expect((res.result as { stderr: string }).stderr).toContain(
            `ValueError: file://${dir}: actions/key.yaml is a symbolic link to ${secret}, outside the pack`,
          );
          expect(existsSync(path.join(base, 'linkgit'))).toBe(false);
        });

        it('keeps a link within the pack as a link', async () => {
          const dir = craft('linkok');
          rmSync(path.join(dir, 'actions', 'key.yaml'));
          const { base, run } = download([`file://${dir}`]);
          const res = await run;
          expect(res.status, JSON.stringify(res.result)).toBe('succeeded');
          expect(lstatSync(path.join(base, 'linkok', 'actions', 'alias.yaml')).isSymbolicLink()).toBe(true);
          expect(readFileSync(path.join(base, 'linkok', 'actions', 'alias.yaml'), 'utf8')).toBe(
            'name: real\n',
          );
        });
      });
    });

    describe('a pack that declares requirements but has no virtualenv (st2: PACK_VIRTUALENV_DOESNT_EXIST)', () => {
      const withRequirements = (pack: string) => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-novenv-'));
        writeFileSync(path.join(dir, 'requirements.txt'), 'six\n');
        mkdirSync(path.join(dir, 'actions'));
        writeFileSync(
          path.join(dir, 'actions', 'hello.py'),
          'from st2common.runners.base_action import Action\n\nclass Hello(Action):\n    def run(self):\n        return "reached"\n',
        );
        const virtualenvs = mkdtempSync(path.join(os.tmpdir(), 'squall-venvs-'));
        return {
          ...fakeContext({ runner: 'python-script', pack, packDir: dir, entry_point: 'hello.py' }),
          virtualenvsDir: virtualenvs,
        };
      };

      it('refuses to run it on the machine Python, naming the pack, the missing path and the fix', async () => {
        const ctx = withRequirements('mypack');
        const res = await python.run(ctx);
        expect(res.status).toBe('failed');
        const error = (res.result as { error: string }).error;
        expect(error).toContain(
          `The virtual environment (${path.join(ctx.virtualenvsDir, 'mypack')}) for pack "mypack" does not exist`,
        );
        expect(error).toContain(
          `python3 -m venv ${path.join(ctx.virtualenvsDir, 'mypack')} && ${path.join(ctx.virtualenvsDir, 'mypack', 'bin', 'pip')} install -r ${path.join(ctx.action.packDir, 'requirements.txt')}`,
        );
        expect(ctx.output).toEqual([]);
      });

      it('runs it once the virtualenv exists', async () => {
        const ctx = withRequirements('mypack');
        execFileSync('python3', ['-m', 'venv', '--without-pip', path.join(ctx.virtualenvsDir, 'mypack')]);
        const res = await python.run({ ...ctx, venvDir: path.join(ctx.virtualenvsDir, 'mypack') });
        expect(res.status).toBe('succeeded');
        expect((res.result as { result: string }).result).toBe('reached');
      });

      it("runs st2's system packs (linux, chatops…) without one, as st2 does", async () => {
        const res = await python.run(withRequirements('linux'));
        expect(res.status).toBe('succeeded');
      });

      it('runs a pack without requirements.txt on the machine Python', async () => {
        const ctx = withRequirements('plain');
        rmSync(path.join(ctx.action.packDir, 'requirements.txt'));
        expect((await python.run(ctx)).status).toBe('succeeded');
      });
    });

    it('fails cleanly when python is not where venvDir says', async () => {
      const ctx = fakeContext({
        runner: 'python-script',
        packDir,
        entry_point: 'my_echo_action.py',
        actionParameters: { message: 'x' },
        venvDir: '/nonexistent/venv',
      });
      const res = await python.run(ctx);
      expect(res.status).toBe('failed');
      expect((res.result as { error: string }).error).toContain('/nonexistent/venv/bin/python');
    });
  },
);
