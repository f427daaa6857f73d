import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSubsystem } from '../../../src/content/subsystem.js';
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
      subsystems: [testSecretsSubsystem(), contentSubsystem()],
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
  });

  it('refuses to remove a bundled pack', async () => {
    const rm = await squall(['pack', 'remove', 'core', '--url', svc.url]);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toContain('bundled');
  });
});
