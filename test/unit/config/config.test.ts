import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, configLeaves, loadConfig, maskConfig, st2ApiUrl } from '../../../src/config/index.js';
import { reportError } from '../../../src/cli/main.js';
import { tempDir } from '../../support/servers.js';
import { ROOT } from '../../support/service-process.js';

const dirs: Array<() => void> = [];
afterEach(() => dirs.splice(0).forEach((c) => c()));

function configFile(text: string): { file: string; cwd: string } {
  const { dir, cleanup } = tempDir();
  dirs.push(cleanup);
  const file = path.join(dir, 'squall.yaml');
  writeFileSync(file, text);
  return { file, cwd: dir };
}

function loadError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('defaults to one process on the embedded store under ./.squall serving 127.0.0.1:9101', () => {
    const { cwd } = configFile('');
    const { config } = loadConfig({ cwd, env: {} });
    expect(config.data_dir).toBe(path.join(cwd, '.squall'));
    expect(config.api).toMatchObject({ host: '127.0.0.1', port: 9101 });
    expect(config.store.url).toBeUndefined();
    expect(config.roles).toEqual(['all']);
  });

  it('keeps history bounded by default: retention on, with its limits shown by `config show`', () => {
    const { cwd } = configFile('');
    const { config } = loadConfig({ cwd, env: {} });
    expect(config.retention).toMatchObject({
      executions_days: 30,
      executions_max_count: 100000,
      trigger_instances_days: 30,
      rule_enforcements_days: 30,
      traces_days: 30,
    });
    expect(maskConfig(config)).toMatchObject({
      retention: { executions_days: 30, executions_max_count: 100000 },
    });
    expect(config.store).toMatchObject({ cache_mb: 4, check_on_start: true });
  });

  it('reads ./squall.yaml and lets SQUALL_* variables and flags override it, in that order', () => {
    const { cwd } = configFile('api:\n  port: 9200\n  host: 0.0.0.0\nlog:\n  level: debug\n');
    const { config } = loadConfig({
      cwd,
      env: { SQUALL_API_PORT: '9300', SQUALL_DATA_DIR: '/srv/squall' },
      overrides: { 'api.host': '::1' },
    });
    expect(config.api.port).toBe(9300);
    expect(config.api.host).toBe('::1');
    expect(config.log.level).toBe('debug');
    expect(config.data_dir).toBe('/srv/squall');
  });

  it('selects MongoDB from SQUALL_MONGO_URL', () => {
    const { cwd } = configFile('');
    const { config } = loadConfig({ cwd, env: { SQUALL_MONGO_URL: 'mongodb://127.0.0.1:27017/squall' } });
    expect(config.store.url).toBe('mongodb://127.0.0.1:27017/squall');
  });

  it('maps every key of the schema to an environment variable named after its path', () => {
    const names = configLeaves().map((l) => l.env);
    expect(names).toContain('SQUALL_API_PORT');
    expect(names).toContain('SQUALL_STORE_URL');
    expect(names).toContain('SQUALL_SCHEDULER_PROCESS_EVERY_MS');
    expect(new Set(names).size).toBe(names.length);
  });

  it('warns once of a mistyped SQUALL_* variable, naming the closest one', () => {
    const { cwd } = configFile('');
    const { config, warnings } = loadConfig({
      cwd,
      env: { SQUALL_API_PROT: '9999', SQUALL_API_HOST: '0.0.0.0' },
    });
    expect(config.api.port).toBe(9101);
    expect(warnings).toEqual([
      'SQUALL_API_PROT is not a Squall setting and is ignored: did you mean SQUALL_API_PORT?',
    ]);
    expect(loadConfig({ cwd, env: { SQUALL_STORE_UR: 'x' } }).warnings).toEqual([
      'SQUALL_STORE_UR is not a Squall setting and is ignored: did you mean SQUALL_STORE_URL?',
    ]);
  });

  it('does not warn of the SQUALL_* variables Squall, its tests, benches and tools read outside the config', () => {
    const names = new Set<string>();
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const at = path.join(dir, e.name);
        if (e.isDirectory()) walk(at);
        else if (
          /\.(ts|tsx|mjs|js|py|sh)$/.test(e.name) &&
          at !== path.join(ROOT, 'test/unit/config/config.test.ts')
        )
          for (const m of readFileSync(at, 'utf8').matchAll(/SQUALL_[A-Z0-9_]+/g)) names.add(m[0]);
      }
    };
    for (const dir of ['src', 'scripts', 'test', 'bench']) walk(path.join(ROOT, dir));
    expect(names.size).toBeGreaterThan(50);
    // Config keys, their alias and the config file's variable are read, not warned of.
    const known = new Set([...configLeaves().map((l) => l.env), 'SQUALL_MONGO_URL', 'SQUALL_CONFIG']);
    const outside = Object.fromEntries([...names].filter((n) => !known.has(n)).map((n) => [n, 'x']));
    const { cwd } = configFile('');
    expect(loadConfig({ cwd, env: outside }).warnings).toEqual([]);
  });

  it('`squall config show` lists the warning above the effective config', () => {
    const { file } = configFile('');
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/run.ts', 'config', 'show', '-c', file],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, SQUALL_LOG_LEVELL: 'debug' },
        encoding: 'utf8',
      },
    );
    expect(out).toContain(
      '# warning: SQUALL_LOG_LEVELL is not a Squall setting and is ignored: did you mean SQUALL_LOG_LEVEL?\n',
    );
  });

  it('parses list variables as comma lists or JSON', () => {
    const { cwd } = configFile('');
    expect(loadConfig({ cwd, env: { SQUALL_ROLES: 'api, runner' } }).config.roles).toEqual(['api', 'runner']);
    expect(loadConfig({ cwd, env: { SQUALL_ROLES: '["timers"]' } }).config.roles).toEqual(['timers']);
  });

  it('rejects an unknown key, naming it and the file', () => {
    const { file, cwd } = configFile('api:\n  prot: 9101\n');
    const err = loadError(() => loadConfig({ cwd, env: {} }));
    expect(err.message).toBe(`${file}: unknown key "api.prot"`);
  });

  it('rejects a value of the wrong type, naming the key, the value and what was expected', () => {
    const { file, cwd } = configFile('api:\n  port: "nine"\n');
    const err = loadError(() => loadConfig({ cwd, env: {} }));
    expect(err.message).toBe(`${file}: api.port: expected integer, got "nine"`);
  });

  it('rejects a value outside an enum, listing the allowed ones', () => {
    const { cwd } = configFile('log:\n  level: loud\n');
    const err = loadError(() => loadConfig({ cwd, env: {} }));
    expect(err.message).toMatch(/log\.level: "loud" is not one of "trace", "debug", "info"/);
  });

  it('rejects a malformed environment variable, naming the variable', () => {
    const { cwd } = configFile('');
    const err = loadError(() => loadConfig({ cwd, env: { SQUALL_API_PORT: 'abc' } }));
    expect(err.message).toBe('SQUALL_API_PORT: expected an integer, got "abc"');
  });

  it('names the variable or flag a refused value came from, not the config file', () => {
    const { cwd } = configFile('api:\n  port: 9101\n');
    expect(loadError(() => loadConfig({ cwd, env: { SQUALL_API_PORT: '70000' } })).message).toBe(
      'SQUALL_API_PORT: api.port: 70000 must be <= 65535',
    );
    const flag = loadError(() =>
      loadConfig({ cwd, env: {}, overrides: { 'api.port': 'abc' }, overrideFlags: { 'api.port': '--port' } }),
    );
    expect(flag.message).toBe('--port: api.port: expected integer, got "abc"');
    // A key the file got wrong is still the file's.
    const bad = configFile('api:\n  port: "nine"\n');
    expect(loadError(() => loadConfig({ cwd: bad.cwd, env: { SQUALL_API_HOST: '::1' } })).message).toBe(
      `${bad.file}: api.port: expected integer, got "nine"`,
    );
  });

  it('rejects an unreadable file, naming it and why', () => {
    const { file, cwd } = configFile('api: {}\n');
    chmodSync(file, 0o000);
    const missing = path.join(cwd, 'missing.yaml');
    expect(loadError(() => loadConfig({ cwd, file: missing, env: {} })).message).toBe(
      `cannot read config file ${missing}: no such file (ENOENT)`,
    );
    if (process.getuid?.() !== 0) {
      expect(loadError(() => loadConfig({ cwd, file, env: {} })).message).toMatch(
        /permission denied \(EACCES\)/,
      );
    }
  });

  it('rejects invalid YAML with the position of the problem', () => {
    const { cwd } = configFile('api:\n  port: [1\n');
    expect(loadError(() => loadConfig({ cwd, env: {} })).message).toMatch(/invalid YAML: .*\(\d+:\d+\)/s);
  });

  it('exits with code 2 on a configuration error', () => {
    const original = process.stderr.write.bind(process.stderr);
    let written = '';
    process.stderr.write = ((chunk: string) => {
      written += chunk;
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(reportError(new ConfigError('squall.yaml: unknown key "x"'))).toBe(2);
    } finally {
      process.stderr.write = original;
    }
    expect(written).toContain('unknown key "x"');
  });

  it('masks secrets and URL passwords when showing the effective config', () => {
    const { cwd } = configFile(
      'auth:\n  admin_password: hunter2\nstore:\n  url: mongodb://app:s3cret@db:27017/squall\n',
    );
    const masked = JSON.stringify(maskConfig(loadConfig({ cwd, env: {} }).config));
    expect(masked).not.toContain('hunter2');
    expect(masked).not.toContain('s3cret');
    expect(masked).toContain('mongodb://app:********@db:27017/squall');
  });
});

describe("st2ApiUrl (st2's get_full_public_api_url)", () => {
  const withAuth = (api_url?: string) =>
    loadConfig({ env: {}, overrides: { 'auth.api_url': api_url } }).config;

  it("is [auth] api_url without its trailing slash plus /v1, as st2's configs give it", () => {
    expect(st2ApiUrl(withAuth('http://127.0.0.1:9101/'), 'http://0.0.0.0:1')).toBe(
      'http://127.0.0.1:9101/v1',
    );
    expect(st2ApiUrl(withAuth('https://st2.example.com/api'), 'http://0.0.0.0:1')).toBe(
      'https://st2.example.com/api/v1',
    );
  });

  it('defaults to where Squall serves its API, under /api', () => {
    expect(st2ApiUrl(withAuth(), 'http://127.0.0.1:9101')).toBe('http://127.0.0.1:9101/api/v1');
    expect(st2ApiUrl(withAuth(), 'https://squall.example.com/')).toBe('https://squall.example.com/api/v1');
  });

  it('reads SQUALL_AUTH_API_URL', () => {
    const { config } = loadConfig({ env: { SQUALL_AUTH_API_URL: 'http://10.0.0.5:9101' } });
    expect(st2ApiUrl(config, 'http://x')).toBe('http://10.0.0.5:9101/v1');
  });
});
