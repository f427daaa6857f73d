import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { needsChatAdapters } from '../../../src/cli/main.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'squall-cli-imports-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Every module a `node --import tsx` child resolves while running `args`, relative to the repo.
 * With `until`, the child is stopped (SIGTERM) once a line of its output matches.
 */
function modulesLoaded(
  name: string,
  args: string[],
  { until, env = {} }: { until?: RegExp; env?: Record<string, string> } = {},
): Promise<string[]> {
  const file = path.join(tmp, `${name}.txt`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--import', './test/support/record-imports.mjs', ...args],
      {
        cwd: ROOT,
        env: { ...process.env, SQUALL_RECORD_IMPORTS: file, HOME: tmp, SQUALL_API_URL: '', ...env },
        stdio: ['ignore', until ? 'pipe' : 'ignore', until ? 'pipe' : 'ignore'],
      },
    );
    if (until) {
      let out = '';
      const watch = (chunk: Buffer) => {
        out += chunk.toString();
        if (until.test(out)) child.kill('SIGTERM');
      };
      child.stdout!.on('data', watch);
      child.stderr!.on('data', watch);
    }
    child.on('error', reject);
    child.on('close', () =>
      resolve(
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((u) => u.startsWith('file://'))
          .map((u) => path.relative(ROOT, new URL(u).pathname)),
      ),
    );
  });
}

/** Modules that make `squall --help` slow: the chat SDKs, the service and what only it uses. */
const HEAVY = [
  /(^|\/)node_modules\/@slack\//,
  /(^|\/)node_modules\/discord\.js\//,
  /(^|\/)node_modules\/(express|mongodb|agenda|ajv)\//,
  /^adapters\//,
  /^src\/(service|workflows|store|content|runners|config)\//,
];
const heavy = (mods: string[]) => mods.filter((m) => HEAVY.some((re) => re.test(m)));

describe('what a CLI entry point loads', () => {
  it('building the program (every command, every --help) loads neither chat SDKs nor the service', async () => {
    const mods = await modulesLoaded('build', [
      '--input-type=module',
      '-e',
      "const { buildProgram } = await import('./src/cli/main.ts');" +
        'const all = (c) => [c, ...c.commands.flatMap(all)];' +
        'for (const c of all(buildProgram())) c.helpInformation();',
    ]);
    expect(mods).toContain('src/cli/commands/start.ts');
    expect(heavy(mods)).toEqual([]);
  });

  it('`squall execution list` loads only the API client side', async () => {
    const mods = await modulesLoaded('list', [
      'src/cli/run.ts',
      'execution',
      'list',
      '--url',
      'http://127.0.0.1:1',
    ]);
    expect(mods).toContain('src/cli/client.ts');
    expect(heavy(mods)).toEqual([]);
  });

  it('`squall start` registers the chat adapters before it runs', async () => {
    const mods = await modulesLoaded('start-help', ['src/cli/run.ts', 'start', '--help']);
    expect(mods).toContain('adapters/index.ts');
  });

  it('an idle `squall start` on the embedded store loads no SDK it is not configured for', async () => {
    const dir = mkdtempSync(path.join(tmp, 'start-'));
    const config = path.join(dir, 'squall.yaml');
    writeFileSync(
      config,
      JSON.stringify({
        data_dir: path.join(dir, 'data'),
        api: { host: '127.0.0.1', port: 0 },
        auth: { enable: false },
        log: { level: 'info', format: 'json' },
      }),
    );
    const mods = await modulesLoaded('start', ['src/cli/run.ts', 'start', '--config', config], {
      until: /Squall is up/,
      // The usual home: a fresh one would first build the st2 Python runtime (a minute).
      env: { HOME: os.homedir() },
    });
    expect(mods).toContain('adapters/index.ts');
    expect(mods).toContain('src/store/sqlite/database.ts');
    // Chat SDKs (no chatops.slack/discord enabled), MongoDB (no mongodb:// url), ssh2 and undici
    // (no remote or http action has run): tens of MB of an idle server's memory. ioredis (no
    // redis.url) and prom-client (until /metrics is scraped): ~120 modules of start-up time.
    const unused =
      /(^|\/)node_modules\/(@slack|discord\.js|mongoose|mongodb|@agendajs\/mongo-backend|ssh2|undici|ioredis|prom-client)\//;
    expect(mods.filter((m) => unused.test(m))).toEqual([]);
    expect(mods).not.toContain('src/store/mongo/index.ts');
  }, 120_000);

  it('only `start` needs the chat adapters', () => {
    const argv = (...a: string[]) => ['node', 'squall', ...a];
    expect(needsChatAdapters(argv('start', '--port', '0'))).toBe(true);
    expect(needsChatAdapters(argv('--help'))).toBe(false);
    expect(needsChatAdapters(argv('execution', 'list'))).toBe(false);
    expect(needsChatAdapters(argv('chat', '--local'))).toBe(false);
    expect(needsChatAdapters(argv('help', 'start'))).toBe(false);
  });
});
