import { statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, cliConfigPath, readCliConfig, writeCliConfig } from '../../../src/cli/client.js';
import { formatOutput, renderTable } from '../../../src/cli/output.js';
import { tempDir } from '../../support/servers.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function home(): NodeJS.ProcessEnv {
  const t = tempDir('squall-cli-');
  cleanups.push(t.cleanup);
  return { HOME: t.dir };
}

describe('CLI config and client settings', () => {
  it('writes ~/.config/squall/config.yaml with mode 0600 and merges changes', () => {
    const env = home();
    const file = writeCliConfig({ url: 'http://a:1', token: 't1' }, env);
    expect(file).toBe(path.join(env.HOME!, '.config', 'squall', 'config.yaml'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeCliConfig({ user: 'me' }, env);
    expect(readCliConfig(env)).toEqual({ url: 'http://a:1', token: 't1', user: 'me' });
    expect(cliConfigPath({ ...env, XDG_CONFIG_HOME: '/x' })).toBe('/x/squall/config.yaml');
  });

  it('takes --url over SQUALL_API_URL over the config file, and credentials from the environment first', () => {
    const env = home();
    writeCliConfig({ url: 'http://file:1', token: 'file-token' }, env);
    expect(new ApiClient({ env })).toMatchObject({ url: 'http://file:1', token: 'file-token' });
    expect(new ApiClient({ env: { ...env, SQUALL_API_URL: 'http://env:2/' } }).url).toBe('http://env:2');
    expect(new ApiClient({ env: { ...env, SQUALL_API_URL: 'http://env:2' }, url: 'http://flag:3' }).url).toBe(
      'http://flag:3',
    );
    expect(new ApiClient({ env: { ...env, SQUALL_API_KEY: 'k' } })).toMatchObject({
      apiKey: 'k',
      token: undefined,
    });
    expect(new ApiClient({ env: { ...env, SQUALL_AUTH_TOKEN: 'env-token' } }).token).toBe('env-token');
  });

  it('does not send a cached token to a different server', () => {
    const env = home();
    writeCliConfig({ url: 'http://file:1', token: 'file-token' }, env);
    expect(new ApiClient({ env, url: 'http://elsewhere:9' }).token).toBeUndefined();
  });

  it('names the config file when it is not YAML', async () => {
    const env = home();
    const file = writeCliConfig({}, env);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, 'url: [unclosed');
    expect(() => readCliConfig(env)).toThrow(new RegExp(`^${file.replace(/\./g, '\\.')}: invalid YAML`));
  });
});

describe('output', () => {
  const rows = [
    { name: 'alpha', value: 'x'.repeat(100), secret: false, nested: { a: 1 } },
    { name: 'beta', value: 'short', secret: true, nested: null },
  ];

  it('renders chosen columns as a table that fits the width, truncating with …', () => {
    const out = renderTable(rows, ['name', 'value', 'secret'], 60);
    const lines = out.trimEnd().split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    expect(lines[1]).toMatch(/^\| name\s+\| value\s+\| secret \|$/);
    expect(out).toContain('…');
    expect(out).toMatch(/\| beta\s+\| short\s+\| true\s+\|/);
    expect(out).not.toContain('nested');
  });

  it('prints JSON or YAML on request, and a friendly line for an empty list', () => {
    expect(JSON.parse(formatOutput(rows, { format: 'json' }))).toEqual(rows);
    expect(formatOutput({ a: 1 }, { format: 'yaml' })).toBe('a: 1\n');
    expect(formatOutput([], { format: 'table' })).toBe('No matching items found.\n');
    expect(formatOutput({ name: 'k', value: 'v' }, { format: 'table' })).toMatch(/\| name\s+\| k\s+\|/);
  });
});
