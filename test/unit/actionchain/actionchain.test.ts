import { describe, expect, it } from 'vitest';
import { ActionChainConductor, parseChainSpec } from '../../../src/workflows/actionchain/index.js';
import { SquallError } from '../../../src/errors.js';

const echochain = `
vars:
  greeting: "Hello {{ name }}"
chain:
  - name: c1
    ref: core.local
    parameters:
      cmd: "echo {{ greeting }}"
    publish:
      said: "{{ c1.stdout }}"
    on-success: c2
    on-failure: cleanup
  - name: c2
    ref: core.local
    params:
      cmd: "echo {{ said }} again ({{ __results.c1.stdout }})"
  - name: cleanup
    ref: core.local
    parameters:
      cmd: "echo cleaning"
default: c1
`;

describe('ActionChain spec', () => {
  it('parses tasks, legacy params, default and vars', () => {
    const spec = parseChainSpec(echochain);
    expect(spec.default).toBe('c1');
    expect(spec.chain.map((t) => t.name)).toEqual(['c1', 'c2', 'cleanup']);
    expect(spec.chain[1].parameters).toEqual({ cmd: 'echo {{ said }} again ({{ __results.c1.stdout }})' });
    expect(spec.chain[0].onFailure).toBe('cleanup');
  });

  it('defaults to the first task', () => {
    expect(parseChainSpec({ chain: [{ name: 'a', ref: 'core.noop' }] }).default).toBe('a');
  });

  it('rejects a transition to an unknown task, naming the task and field', () => {
    try {
      parseChainSpec({ chain: [{ name: 'a', ref: 'core.noop', 'on-success': 'b' }] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SquallError);
      expect((err as SquallError).code).toBe('ACTIONCHAIN_SPEC_INVALID');
      expect((err as SquallError).message).toContain('task "a" on-success names unknown task "b"');
    }
  });

  it('rejects duplicate names, missing refs and unknown fields', () => {
    expect(() =>
      parseChainSpec({
        chain: [
          { name: 'a', ref: 'x.y' },
          { name: 'a', ref: 'x.y' },
        ],
      }),
    ).toThrow(/used twice/);
    expect(() => parseChainSpec({ chain: [{ name: 'a' }] })).toThrow(/needs a "ref"/);
    expect(() => parseChainSpec({ chain: [{ name: 'a', ref: 'x.y', on_success: 'a' }] })).toThrow(
      /unknown field "on_success"/,
    );
  });

  it('ignores unknown fields on tasks after the first, as st2 does', () => {
    const spec = parseChainSpec({
      chain: [
        { name: 'a', ref: 'x.y', 'on-success': 'b' },
        { name: 'b', ref: 'x.z', description: 'cleans up', cmd: 'exit 1' },
      ],
    });
    expect(spec.chain[1]).toEqual({ name: 'b', ref: 'x.z', parameters: {}, publish: {} });
  });
});

describe('ActionChain conductor', () => {
  it('renders parameters from params, vars, published values and earlier results', () => {
    const c = ActionChainConductor.create(echochain, { name: 'Stanley' });
    const first = c.start();
    expect(first).toEqual({ name: 'c1', ref: 'core.local', parameters: { cmd: 'echo Hello Stanley' } });
    const second = c.onTaskCompleted('c1', {
      status: 'succeeded',
      result: { stdout: 'Hello Stanley' },
      execution_id: 'e1',
    });
    expect(second?.parameters).toEqual({ cmd: 'echo Hello Stanley again (Hello Stanley)' });
    expect(c.onTaskCompleted('c2', { status: 'succeeded', result: { stdout: 'x' } })).toBeNull();
    expect(c.status).toBe('succeeded');
    const result = c.result as {
      tasks: Array<{ name: string; state: string; execution_id: string | null }>;
      published: unknown;
    };
    expect(result.tasks.map((t) => [t.name, t.state])).toEqual([
      ['c1', 'succeeded'],
      ['c2', 'succeeded'],
    ]);
    expect(result.tasks[0].execution_id).toBe('e1');
    expect(result.published).toEqual({ said: 'Hello Stanley' });
  });

  it('follows on-failure; the chain status is the last task outcome', () => {
    const c = ActionChainConductor.create(echochain, { name: 'x' });
    c.start();
    const next = c.onTaskCompleted('c1', { status: 'failed', result: { stderr: 'boom' } });
    expect(next?.name).toBe('cleanup');
    expect(c.onTaskCompleted('cleanup', { status: 'succeeded', result: {} })).toBeNull();
    expect(c.status).toBe('succeeded');
    expect((c.result as { published: unknown }).published).toEqual({});
  });

  it('fails the chain when a task fails without on-failure (task-level error)', () => {
    const c = ActionChainConductor.create({
      chain: [{ name: 'a', ref: 'core.local', parameters: { cmd: 'false' } }],
    });
    c.start();
    expect(c.onTaskCompleted('a', { status: 'failed', result: { return_code: 1 } })).toBeNull();
    expect(c.status).toBe('failed');
    expect(c.result.error).toBeUndefined();
  });

  it('reports a render failure as a chain-level error with error and traceback', () => {
    const c = ActionChainConductor.create({
      chain: [{ name: 'a', ref: 'core.local', parameters: { cmd: '{{ 1 + }}' } }],
    });
    expect(c.start()).toBeNull();
    expect(c.status).toBe('failed');
    expect(String(c.result.error)).toContain('task "a"');
    expect(c.result.traceback).toBeDefined();
    expect((c.result as { tasks: unknown[] }).tasks).toEqual([]);
  });

  it('survives a JSON round trip between tasks', () => {
    const c = ActionChainConductor.create(echochain, { name: 'R' });
    c.start();
    const restored = ActionChainConductor.fromState(JSON.parse(JSON.stringify(c.state)));
    expect(restored.onTaskCompleted('c1', { status: 'succeeded', result: { stdout: 'hi' } })?.name).toBe(
      'c2',
    );
  });

  it('pauses after the running task and resumes with the next one', () => {
    const c = ActionChainConductor.create(echochain, { name: 'P' });
    c.start();
    c.pause();
    expect(c.status).toBe('pausing');
    expect(c.onTaskCompleted('c1', { status: 'succeeded', result: { stdout: 'hi' } })).toBeNull();
    expect(c.status).toBe('paused');
    expect(c.resume()?.name).toBe('c2');
    expect(c.status).toBe('running');
  });

  it('cancels: the running task finishes, no further task starts', () => {
    const c = ActionChainConductor.create(echochain, { name: 'C' });
    c.start();
    c.cancel();
    expect(c.status).toBe('canceling');
    expect(c.onTaskCompleted('c1', { status: 'succeeded', result: { stdout: 'hi' } })).toBeNull();
    expect(c.status).toBe('canceled');
  });

  it('refuses a completion for a task that is not running', () => {
    const c = ActionChainConductor.create(echochain, { name: 'x' });
    c.start();
    expect(() => c.onTaskCompleted('c2', { status: 'succeeded' })).toThrow(/not the running task/);
  });
});
