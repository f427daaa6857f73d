import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api.js';
import { tempDir } from '../../support/servers.js';
import { ROOT } from '../../support/service-process.js';

let api: TestApi;
let home: { dir: string; cleanup: () => void };

beforeAll(async () => {
  api = await startTestApi();
  home = tempDir('squall-cli-home-');
});

afterAll(async () => {
  await api?.stop();
  home?.cleanup();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI asynchronously (the API runs in this process and must keep serving). */
function squall(args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/run.ts', ...args],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: home.dir,
          XDG_CONFIG_HOME: path.join(home.dir, '.config'),
          SQUALL_API_URL: api.url,
          COLUMNS: '200',
          ...env,
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

describe('squall CLI against a running server', () => {
  it('login caches a token (mode 0600) that whoami and key commands use', async () => {
    const login = await squall(['login', 'st2admin', '-p', api.adminPassword]);
    expect(login.stderr).toBe('');
    expect(login.stdout).toMatch(/^Logged in as st2admin at http:\/\/127\.0\.0\.1:\d+; token cached in /);
    const file = path.join(home.dir, '.config', 'squall', 'config.yaml');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/token: [0-9a-f]{64}/);

    const who = await squall(['whoami']);
    expect(who.stdout).toContain('username: st2admin');
    expect(who.stdout).toContain('roles: admin (admin)');

    const set = await squall(['key', 'set', 'cli_secret', 's3cr3t-from-cli', '-e', '--json']);
    expect(set.code).toBe(0);
    const created = JSON.parse(set.stdout) as { value: string; secret: boolean };
    expect(created.secret).toBe(true);
    expect(created.value).not.toContain('s3cr3t-from-cli');

    const get = await squall(['key', 'get', 'cli_secret']);
    expect(get.stdout).toMatch(/\| name\s+\| cli_secret/);
    expect(get.stdout).not.toContain('s3cr3t-from-cli');
    const decrypted = await squall(['key', 'get', 'cli_secret', '-d']);
    expect(decrypted.stdout).toMatch(/\| value\s+\| s3cr3t-from-cli/);

    await squall(['key', 'set', 'cli_plain', 'hello', '-l', '600']);
    const list = await squall(['key', 'list', '--prefix', 'cli_']);
    expect(list.stdout).toMatch(/\| name\s+\| value/);
    expect(list.stdout).toContain('cli_plain');
    expect(list.stdout).toContain('cli_secret');

    const del = await squall(['key', 'delete', 'cli_plain']);
    expect(del.stdout).toBe('Resource with id "cli_plain" has been successfully deleted.\n');
    const gone = await squall(['key', 'get', 'cli_plain']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('squall: 404: Key with name: cli_plain and scope: st2kv.system not found!\n');
  });

  it('login reads the password from stdin when -p is absent', async () => {
    const otherHome = path.join(home.dir, 'other');
    const login = await squall(
      ['login', 'st2admin'],
      { XDG_CONFIG_HOME: otherHome },
      `${api.adminPassword}\n`,
    );
    expect(login.code).toBe(0);
    expect(login.stdout).toMatch(/^Logged in as st2admin/);
    const bad = await squall(['login', 'st2admin', '-p', 'nope'], { XDG_CONFIG_HOME: otherHome });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^squall: 401: Unauthorized - Invalid or missing credentials/);
  });

  it('an API key from `apikey create -k` works through SQUALL_API_KEY', async () => {
    const created = await squall(['apikey', 'create', '-k', '-m', 'used_by=cli-test']);
    expect(created.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const who = await squall(['whoami', '--json'], {
      SQUALL_API_KEY: created.stdout.trim(),
      XDG_CONFIG_HOME: path.join(home.dir, 'none'),
    });
    expect(JSON.parse(who.stdout)).toMatchObject({
      username: 'st2admin',
      authentication: { method: 'api_key' },
    });
  });

  it('explains a missing login and an unreachable server in one line with a hint', async () => {
    const anonymous = await squall(['key', 'list'], { XDG_CONFIG_HOME: path.join(home.dir, 'nobody') });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toBe(
      'squall: 401: Unauthorized - One of Token or API key required.\n  hint: log in with `squall login` (or set SQUALL_API_KEY / SQUALL_AUTH_TOKEN)\n',
    );
    const down = await squall(['whoami', '--url', 'http://127.0.0.1:9'], {
      XDG_CONFIG_HOME: path.join(home.dir, 'nobody'),
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /^squall: cannot reach Squall at http:\/\/127\.0\.0\.1:9: is `squall start` running\?/,
    );
  });

  it('role list shows the system roles; user create is refused to non-admins', async () => {
    const roles = await squall(['role', 'list']);
    for (const r of ['admin', 'operator', 'observer']) expect(roles.stdout).toContain(`| ${r} `);
    const token = await api.tokenFor('cli_operator', ['operator']);
    const denied = await squall(['user', 'create', 'x', '-p', 'y'], { SQUALL_AUTH_TOKEN: token });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(
      /^squall: 403: User "cli_operator" doesn't have required permission: creating users needs the admin role/,
    );
  });

  it("user password: an admin sets anyone's, a user changes their own with --current, a wrong current is refused", async () => {
    const admin = await squall(['login', 'st2admin', '-p', api.adminPassword]);
    expect(admin.code, admin.stderr).toBe(0);
    expect((await squall(['user', 'create', 'cli_pw', '-p', 'first-pw', '-r', 'operator'])).code).toBe(0);
    const set = await squall(['user', 'password', 'cli_pw', '-p', 'second-pw']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('The password of "cli_pw" has been changed; their logins have ended.\n');
    const own = path.join(home.dir, 'own');
    expect((await squall(['login', 'cli_pw', '-p', 'first-pw'], { XDG_CONFIG_HOME: own })).code).toBe(1);
    expect((await squall(['login', 'cli_pw', '-p', 'second-pw'], { XDG_CONFIG_HOME: own })).code).toBe(0);
    const wrong = await squall(['user', 'password', 'cli_pw', '-p', 'third-pw', '--current', 'nope'], {
      XDG_CONFIG_HOME: own,
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('needs their current password');
    const mine = await squall(['user', 'password', 'cli_pw', '-p', 'third-pw', '--current', 'second-pw'], {
      XDG_CONFIG_HOME: own,
    });
    expect(mine.code, mine.stderr).toBe(0);
    expect((await squall(['login', 'cli_pw', '-p', 'third-pw'], { XDG_CONFIG_HOME: own })).code).toBe(0);
  });
});
