import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { ROOT } from '../../support/service-process.js';
import { tempDir } from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';

/** Runs the CLI in a child process without blocking this one (it may host the server the CLI calls). */
function squall(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('squall pack validate', () => {
  it('passes the bundled examples pack', async () => {
    const res = await squall(['pack', 'validate', 'packs/examples']);
    expect(res.stdout).toContain('0 error(s)');
    expect(res.code).toBe(0);
  });

  it('lists every problem of a broken copy and exits non-zero', async () => {
    const { dir, cleanup } = tempDir();
    const copy = path.join(dir, 'examples');
    cpSync(path.join(ROOT, 'packs/examples'), copy, { recursive: true });
    writeFileSync(
      path.join(copy, 'actions', 'broken_runner.yaml'),
      'name: broken_runner\nrunner_type: no-such-runner\n',
    );
    writeFileSync(path.join(copy, 'rules', 'bad_yaml.yaml'), 'name: bad\n  trigger: [oops\n');
    const res = await squall(['pack', 'validate', copy]);
    cleanup();
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/actions\/broken_runner\.yaml.*runner_type.*no-such-runner/);
    expect(res.stdout).toMatch(/rules\/bad_yaml\.yaml:\d+:\d+/);
    expect(res.stdout).toMatch(/2 error\(s\)/);
  });
});

describe('squall pack install / remove against a server', () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let repo: string;
  const cleanups: Array<() => void> = [];
  beforeAll(async () => {
    svc = await startTestService({
      subsystems: [testSecretsSubsystem(), contentSubsystem(), executionsSubsystem()],
      config: { 'auth.enable': false },
    });
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    repo = path.join(dir, 'hello_pack');
    mkdirSync(path.join(repo, 'actions'), { recursive: true });
    writeFileSync(
      path.join(repo, 'pack.yaml'),
      'ref: hello_pack\nname: hello_pack\ndescription: test\nversion: 1.0.0\nauthor: t\n',
    );
    writeFileSync(
      path.join(repo, 'actions', 'greet.yaml'),
      'name: greet\nrunner_type: local-shell-cmd\nparameters:\n  cmd:\n    default: echo hello\n',
    );
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: repo,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@t',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@t',
        },
      });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'v1');
    git('tag', 'v1.0.0');
  });
  afterAll(async () => {
    await svc?.cleanup();
    cleanups.forEach((c) => c());
  });

  it('installs from a git repository at a tag, registers it, and removes it', async () => {
    const inst = await squall(['pack', 'install', `${repo}=v1.0.0`, '--url', svc.url]);
    expect(inst.stderr).toBe('');
    expect(inst.stdout).toContain('installed hello_pack 1.0.0');
    expect(await svc.services.store.actions.findOne({ ref: 'hello_pack.greet' })).toBeTruthy();
    const dir = path.join(svc.config.packs.install_dir!, 'hello_pack');
    expect(existsSync(path.join(dir, 'pack.yaml'))).toBe(true);
    const list = await squall(['pack', 'list', '--url', svc.url]);
    expect(list.stdout).toContain('hello_pack');
    const rm = await squall(['pack', 'remove', 'hello_pack', '--url', svc.url]);
    expect(rm.stdout).toContain('removed hello_pack');
    expect(existsSync(dir)).toBe(false);
    expect(await svc.services.store.actions.findOne({ ref: 'hello_pack.greet' })).toBeNull();
    expect(await svc.services.store.packs.findOne({ ref: 'hello_pack' })).toBeNull();
  }, 120_000);

  /** Writes a pack directory under a fresh temp dir and returns its path. */
  function fixturePack(ref: string, files: Record<string, string>, version = '0.2.1'): string {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const root = path.join(dir, ref);
    const all: Record<string, string> = {
      'pack.yaml': `ref: ${ref}\nname: ${ref}\ndescription: test\nversion: ${version}\nauthor: t\n`,
      ...files,
    };
    for (const [rel, text] of Object.entries(all)) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    }
    return root;
  }
  const ACTION = (name: string) =>
    `name: ${name}\nrunner_type: local-shell-cmd\nparameters:\n  cmd:\n    default: echo ${name}\n`;
  /** Nothing of an install is left: no directory (staged or kept), no virtualenv. */
  const leftovers = (ref: string) => [
    ...readdirSync(svc.config.packs.install_dir!).filter((f) => f === ref || f.startsWith('.')),
    ...(existsSync(svc.config.packs.virtualenvs_dir!) ? readdirSync(svc.config.packs.virtualenvs_dir!) : []),
  ];

  it('an installed pack replaces the bundled pack of the same ref; removing it brings the bundled one back', async () => {
    const mine = fixturePack('examples', { 'actions/mine.yaml': ACTION('mine') });
    const inst = await squall(['pack', 'install', mine, '--url', svc.url]);
    expect(inst.stderr).toBe('');
    expect(inst.stdout).toContain('installed examples 0.2.1');
    expect(inst.stdout).toMatch(/it replaces the bundled pack examples \(.*packs\/examples\)/);
    const record = await svc.services.store.packs.findOne({ ref: 'examples' });
    expect(record).toMatchObject({
      version: '0.2.1',
      path: path.join(svc.config.packs.install_dir!, 'examples'),
    });
    expect(await svc.services.store.actions.findOne({ ref: 'examples.mine' })).toBeTruthy();
    expect(await svc.services.store.actions.findOne({ ref: 'examples.echo_action' })).toBeNull();

    const rm = await squall(['pack', 'remove', 'examples', '--url', svc.url]);
    expect(rm.stderr).toBe('');
    expect(rm.stdout).toContain('removed examples');
    expect(rm.stdout).toContain('the bundled pack examples is active again');
    expect(await svc.services.store.packs.findOne({ ref: 'examples' })).toMatchObject({ version: '1.0.0' });
    expect(await svc.services.store.actions.findOne({ ref: 'examples.echo_action' })).toBeTruthy();
    expect(await svc.services.store.actions.findOne({ ref: 'examples.mine' })).toBeNull();
  }, 120_000);

  it('refuses a user pack named core (reserved, as st2 does)', async () => {
    const inst = await squall(['pack', 'install', fixturePack('core', {}), '--url', svc.url]);
    expect(inst.code).toBe(1);
    expect(inst.stderr).toContain('pack ref "core" is reserved');
    expect(await svc.services.store.actions.findOne({ ref: 'core.local' })).toBeTruthy();
  }, 120_000);

  it("a stackstorm_version outside st2's pack.yaml pattern: refused at install, and forced, at registration (st2's dummy_pack_10)", async () => {
    const files = {
      'pack.yaml':
        'ref: wrong_st2\nname: wrong_st2\ndescription: test\nversion: 0.1.0\nauthor: t\nstackstorm_version: wrongstackstormversion\n',
      'actions/a.yaml': ACTION('a'),
    };
    const inst = await squall(['pack', 'install', fixturePack('wrong_st2', files), '--url', svc.url]);
    expect(inst.code).toBe(1);
    expect(inst.stderr).toContain('"wrongstackstormversion" is not <op><MAJOR.MINOR.PATCH>');
    // As st2's packs.install --force: the version check is skipped, packs.load refuses the pack.
    const forced = await squall([
      'pack',
      'install',
      fixturePack('wrong_st2', files),
      '--force',
      '--url',
      svc.url,
    ]);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(
      /Failed to register pack "wrong_st2": .*pack\.yaml:6:\d+: stackstorm_version: stackstorm_version "wrongstackstormversion" is not one or more <op>MAJOR\.MINOR\.PATCH/,
    );
    expect(forced.stdout).not.toContain('installed wrong_st2');
    expect(await svc.services.store.packs.findOne({ ref: 'wrong_st2' })).toBeNull();
    expect(await svc.services.store.actions.findOne({ ref: 'wrong_st2.a' })).toBeNull();
    expect(existsSync(path.join(svc.config.packs.install_dir!, 'wrong_st2', 'pack.yaml'))).toBe(true);
    // Registering it again (Squall's CLI asks without fail_on_failure) registers nothing and says why.
    const again = await squall(['pack', 'register', 'wrong_st2', '--url', svc.url]);
    expect(again.stdout).toContain('registered 0 packs');
    expect(again.stdout).toMatch(
      /error: wrong_st2\/pack\.yaml:6: stackstorm_version "wrongstackstormversion" is not one or more/,
    );
    // st2's API (fail_on_failure by default) answers 400 "Failed to register pack".
    const api = await fetch(`${svc.url}/api/v1/packs/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ packs: ['wrong_st2'] }),
    });
    expect(api.status).toBe(400);
    expect(((await api.json()) as { faultstring: string }).faultstring).toContain(
      'stackstorm_version "wrongstackstormversion" is not one or more',
    );
    expect(await svc.services.store.packs.findOne({ ref: 'wrong_st2' })).toBeNull();
    expect((await squall(['pack', 'remove', 'wrong_st2', '--url', svc.url])).code).toBe(0);
  }, 120_000);

  it('a failed pip install leaves no directory, virtualenv or registration, and names the package', async () => {
    const broken = fixturePack('needs_missing', {
      'actions/a.yaml': ACTION('a'),
      'requirements.txt': 'squall-test-no-such-package-7c1e==1.0.0\n',
    });
    const inst = await squall(['pack', 'install', broken, '--url', svc.url]);
    expect(inst.code).toBe(1);
    expect(inst.stderr).toMatch(
      /pack "needs_missing": pip could not install squall-test-no-such-package-7c1e(==1\.0\.0)? from requirements\.txt: no matching distribution found/,
    );
    expect(leftovers('needs_missing')).toEqual([]);
    expect(await svc.services.store.packs.findOne({ ref: 'needs_missing' })).toBeNull();
    expect(await svc.services.store.actions.findOne({ ref: 'needs_missing.a' })).toBeNull();
  }, 120_000);

  it('a failed forced reinstall keeps the installed copy as it was', async () => {
    const good = fixturePack('keeper', { 'actions/old.yaml': ACTION('old') }, '1.0.0');
    expect((await squall(['pack', 'install', good, '--url', svc.url])).stderr).toBe('');
    const bad = fixturePack(
      'keeper',
      { 'actions/new.yaml': ACTION('new'), 'requirements.txt': 'squall-test-no-such-package-7c1e\n' },
      '2.0.0',
    );
    const inst = await squall(['pack', 'install', bad, '--force', '--url', svc.url]);
    expect(inst.code).toBe(1);
    expect(inst.stderr).toContain('squall-test-no-such-package-7c1e');
    const dir = path.join(svc.config.packs.install_dir!, 'keeper');
    expect(readdirSync(path.join(dir, 'actions'))).toEqual(['old.yaml']);
    expect(leftovers('keeper')).toEqual(['keeper']);
    expect(await svc.services.store.packs.findOne({ ref: 'keeper' })).toMatchObject({ version: '1.0.0' });
    expect((await squall(['pack', 'remove', 'keeper', '--url', svc.url])).stderr).toBe('');
  }, 120_000);

  it('register PACK reports only that pack, not the problems of a broken one next to it', async () => {
    const brokenDir = path.join(svc.config.packs.install_dir!, 'broken_neighbour');
    mkdirSync(path.join(brokenDir, 'actions'), { recursive: true });
    writeFileSync(
      path.join(brokenDir, 'pack.yaml'),
      'ref: broken_neighbour\nname: broken_neighbour\ndescription: t\nversion: 1.0.0\nauthor: t\n',
    );
    writeFileSync(path.join(brokenDir, 'actions', 'bad.yaml'), 'name: bad\nrunner_type: no-such-runner\n');
    const ok = fixturePack('lonely', { 'actions/a.yaml': ACTION('a') });
    expect((await squall(['pack', 'install', ok, '--url', svc.url])).stdout).not.toContain(
      'broken_neighbour',
    );
    const reg = await squall(['pack', 'register', 'lonely', '--url', svc.url]);
    expect(reg.stdout).toContain('registered 1 packs');
    expect(reg.stdout).not.toContain('broken_neighbour');
    const all = await squall(['pack', 'register', '--url', svc.url]);
    expect(all.stdout.match(/broken_neighbour\/actions\/bad\.yaml/g)).toHaveLength(1);
    const missing = await squall(['pack', 'register', 'no_such_pack', '--url', svc.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Pack "no_such_pack" not found on disk');
  }, 180_000);

  it('unloads a pack, keeping its files, and `pack register` brings it back', async () => {
    const dir = fixturePack('unloadable', { 'actions/one.yaml': ACTION('one') });
    expect((await squall(['pack', 'install', dir, '--url', svc.url])).stderr).toBe('');
    const installed = path.join(svc.config.packs.install_dir!, 'unloadable');
    const out = await squall(['pack', 'unload', 'unloadable', '--url', svc.url]);
    expect(out.stderr).toBe('');
    expect(out.stdout).toContain('unloaded unloadable (1 Action, 1 Pack); its files are kept');
    expect(await svc.services.store.actions.findOne({ ref: 'unloadable.one' })).toBeNull();
    expect(existsSync(path.join(installed, 'actions', 'one.yaml'))).toBe(true);
    expect((await squall(['pack', 'register', 'unloadable', '--url', svc.url])).code).toBe(0);
    expect(await svc.services.store.actions.findOne({ ref: 'unloadable.one' })).toBeTruthy();
    const missing = await squall(['pack', 'unload', 'no_such_pack', '--url', svc.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('pack "no_such_pack" was not found');
    const bundled = await squall(['pack', 'unload', 'examples', '--url', svc.url]);
    expect(bundled.code).toBe(1);
    expect(bundled.stderr).toContain('bundled with Squall and cannot be unloaded');
  }, 120_000);

  it('refuses to remove a bundled pack', async () => {
    const rm = await squall(['pack', 'remove', 'core', '--url', svc.url]);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toContain('bundled');
  }, 120_000);
});

describe("st2's python_binary and virtualenv_opts: the Python a pack's virtualenv is made with", () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let dir: string;
  let cleanup: () => void;
  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    // A Python the user named: it leaves a mark, then is python3.
    const python = path.join(dir, 'my-python');
    writeFileSync(python, `#!/bin/sh\necho "$@" >> ${path.join(dir, 'used')}\nexec python3 "$@"\n`, {
      mode: 0o755,
    });
    svc = await startTestService({
      subsystems: [testSecretsSubsystem(), contentSubsystem(), executionsSubsystem()],
      config: {
        'auth.enable': false,
        'packs.python_binary': python,
        'packs.virtualenv_opts': ['--system-site-packages'],
      },
    });
  });
  afterAll(async () => {
    await svc?.cleanup();
    cleanup?.();
  });

  it('makes the virtualenv with the configured interpreter and options', async () => {
    const pack = path.join(dir, 'py_pick');
    mkdirSync(path.join(pack, 'actions'), { recursive: true });
    writeFileSync(
      path.join(pack, 'pack.yaml'),
      'ref: py_pick\nname: py_pick\ndescription: t\nversion: 1.0.0\nauthor: t\n',
    );
    // Nothing to download: the venv is made all the same.
    writeFileSync(path.join(pack, 'requirements.txt'), '# no requirements\n');
    const inst = await squall(['pack', 'install', pack, '--url', svc.url]);
    expect(inst.stderr).toBe('');
    expect(inst.stdout).toContain('installed py_pick 1.0.0');
    const venv = path.join(svc.config.packs.virtualenvs_dir!, 'py_pick');
    expect(readFileSync(path.join(dir, 'used'), 'utf8')).toBe(`-m venv --system-site-packages ${venv}\n`);
    expect(readFileSync(path.join(venv, 'pyvenv.cfg'), 'utf8')).toMatch(
      /include-system-site-packages = true/,
    );
  }, 120_000);

  it('a python_binary that does not exist: the install fails naming it, and leaves nothing', async () => {
    const bad = await startTestService({
      subsystems: [testSecretsSubsystem(), contentSubsystem(), executionsSubsystem()],
      config: { 'auth.enable': false, 'packs.python_binary': '/nonexistent/python9' },
    });
    try {
      const pack = path.join(dir, 'py_missing');
      mkdirSync(pack, { recursive: true });
      writeFileSync(
        path.join(pack, 'pack.yaml'),
        'ref: py_missing\nname: py_missing\ndescription: t\nversion: 1.0.0\nauthor: t\n',
      );
      writeFileSync(path.join(pack, 'requirements.txt'), '# no requirements\n');
      const inst = await squall(['pack', 'install', pack, '--url', bad.url]);
      expect(inst.code).toBe(1);
      expect(inst.stderr).toContain('/nonexistent/python9 -m venv');
      expect(inst.stderr).toContain('ENOENT');
      expect(existsSync(path.join(bad.config.packs.install_dir!, 'py_missing'))).toBe(false);
    } finally {
      await bad.cleanup();
    }
  }, 120_000);
});
