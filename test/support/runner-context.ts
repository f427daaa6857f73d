import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getRunnerType } from '../../src/runners/catalog.js';
import type { ActionDatastore, OutputType, RunnerAction, RunnerContext } from '../../src/runners/types.js';

export interface FakeDatastore extends ActionDatastore {
  /** Stored values keyed by `<scope>:<name>` where user-scoped local keys get the pack prefix. */
  readonly data: Map<string, string>;
}

/** An in-memory datastore with st2's key naming: local keys are prefixed `<pack>:` (§8). */
export function fakeDatastore(pack = 'tests'): FakeDatastore {
  const data = new Map<string, string>();
  const key = (name: string, opts?: { local?: boolean; scope?: string }): string => {
    const scope = opts?.scope ?? 'system';
    const local = opts?.local ?? true;
    return `${scope}:${local ? `${pack}:` : ''}${name}`;
  };
  return {
    data,
    getValue(name, opts) {
      return Promise.resolve(data.get(key(name, opts)) ?? null);
    },
    setValue(name, value, opts) {
      data.set(key(name, opts), value);
      return Promise.resolve();
    },
    deleteValue(name, opts) {
      return Promise.resolve(data.delete(key(name, opts)));
    },
    listValues(opts) {
      const prefix = key(opts?.prefix ?? '', opts);
      const out: Array<{ name: string; value: string }> = [];
      for (const [k, value] of data) {
        if (k.startsWith(prefix)) out.push({ name: k.slice(k.indexOf(':') + 1), value });
      }
      return Promise.resolve(out);
    },
  };
}

export interface FakeContext extends RunnerContext {
  /** Every chunk passed to onOutput, in order. */
  readonly output: Array<{ type: OutputType; data: string }>;
  readonly abort: AbortController;
  readonly datastore: FakeDatastore;
}

export interface FakeContextOptions {
  runner: string;
  packDir?: string;
  pack?: string;
  entry_point?: string;
  /** Action-level parameter specs (runner parameter specs are merged in from the catalog). */
  parameters?: RunnerAction['parameters'];
  runnerParameters?: Record<string, unknown>;
  actionParameters?: Record<string, unknown>;
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  venvDir?: string;
}

/** A RunnerContext for tests: collects output, exposes the abort controller and the datastore. */
export function fakeContext(opts: FakeContextOptions): FakeContext {
  const spec = getRunnerType(opts.runner);
  if (!spec) throw new Error(`unknown runner ${opts.runner}`);
  const pack = opts.pack ?? 'tests';
  const runnerParameters: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(spec.runner_parameters)) {
    if (p.default !== undefined) runnerParameters[name] = p.default;
  }
  Object.assign(runnerParameters, opts.runnerParameters ?? {});
  const output: Array<{ type: OutputType; data: string }> = [];
  const abort = new AbortController();
  const noop = (): void => undefined;
  return {
    executionId: '0123456789abcdef01234567',
    action: {
      ref: `${pack}.test_action`,
      pack,
      name: 'test_action',
      runner_type: opts.runner,
      entry_point: opts.entry_point,
      parameters: { ...spec.runner_parameters, ...(opts.parameters ?? {}) },
      packDir: opts.packDir ?? mkdtempSync(path.join(tmpdir(), 'squall-pack-')),
    },
    runnerParameters,
    actionParameters: opts.actionParameters ?? {},
    config: opts.config ?? {},
    env: opts.env ?? {},
    signal: abort.signal,
    onOutput(type, data) {
      output.push({ type, data });
    },
    datastore: fakeDatastore(pack),
    logger: { debug: noop, info: noop, warn: noop, error: noop },
    apiUrl: 'http://127.0.0.1:9101/api/v1',
    authToken: 'test-token',
    workDir: mkdtempSync(path.join(tmpdir(), 'squall-work-')),
    venvDir: opts.venvDir,
    output,
    abort,
  };
}
