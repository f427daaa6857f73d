import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  OrquestaConductor,
  createConductor,
  inspect,
  parseWorkflowSpec,
} from '../../../src/workflows/orquesta/index.js';
import { evaluateExpression } from '../../../src/workflows/expressions/index.js';
import { SquallError } from '../../../src/errors.js';

const wf = (name: string): string =>
  readFileSync(resolve(__dirname, '../../fixtures/workflows', `${name}.yaml`), 'utf8');

describe('orquesta spec parsing', () => {
  it('splits inline action arguments and publish shorthand like orquesta', () => {
    const spec = parseWorkflowSpec(wf('orquesta-sequential'));
    expect(spec.tasks.task1.action).toBe('core.echo');
    expect(spec.tasks.task1.input).toEqual({ message: '<% ctx().name %>' });
    expect(spec.tasks.task1.next[0].publish).toEqual([{ name: 'greeting', value: '<% result().stdout %>' }]);
    expect(spec.tasks.task3.next[0].do).toEqual(['continue']);
  });

  it('takes inline action arguments as the whole input, ignoring an input block beside them, like orquesta', () => {
    // A placeholder task that kept its old input block: st2 runs it with the inline message.
    const text = `version: 1.0
input:
  - alert
tasks:
  notify:
    action: core.echo message="alert <% ctx().alert.id %> seen"
    input:
      alert_data: <% ctx().alert %>
`;
    const spec = parseWorkflowSpec(text);
    expect(spec.tasks.notify.action).toBe('core.echo');
    expect(spec.tasks.notify.input).toEqual({ message: 'alert <% ctx().alert.id %> seen' });
    const r = inspect(text, {
      actionExists: () => true,
      actionParams: () => ({ names: ['message'], required: ['message'] }),
    });
    expect(r.content).toEqual([]);
    // Without inline arguments the input block is the input.
    const plain = parseWorkflowSpec(
      'version: 1.0\ntasks:\n  t1:\n    action: core.echo\n    input:\n      message: hi\n',
    );
    expect(plain.tasks.t1.input).toEqual({ message: 'hi' });
  });

  it('parses with-items forms', () => {
    const spec = parseWorkflowSpec(wf('with-items-zip'));
    expect(spec.tasks.task1.with).toMatchObject({
      keys: ['host', 'port'],
      expression: '<% zip(ctx(hosts), ctx(ports)) %>',
    });
  });

  it('rejects a spec that breaks the schema with the field named', () => {
    try {
      parseWorkflowSpec('version: 1.0\ntasks:\n  t1:\n    action: core.noop\n    bogus: 1\n');
      expect.unreachable();
    } catch (err) {
      expect((err as SquallError).code).toBe('WORKFLOW_SPEC_INVALID');
      expect((err as SquallError).message).toContain("'bogus' was unexpected");
    }
  });
});

describe('orquesta inspection', () => {
  it('groups errors: semantics (undefined task, reserved name), context, syntax', () => {
    const r = inspect(`version: 1.0
tasks:
  task1:
    action: core.echo message=<% ctx().nobody %>
    next:
      - do: task9
  noop:
    action: core.noop
`);
    expect(r.syntax).toEqual([]);
    expect(r.semantics.map((e) => e.message)).toEqual([
      'The task name "noop" is reserved with special function.',
      'The task "task9" is not defined.',
    ]);
    expect(r.semantics[1].spec_path).toBe('tasks.task1.next[0].do');
    expect(r.context).toEqual([
      expect.objectContaining({
        message: 'Variable "nobody" is referenced before assignment.',
        spec_path: 'tasks.task1.input',
        expression: '<% ctx().nobody %>',
      }),
    ]);
    expect(inspect('version: 1.0\n').syntax[0].message).toBe("'tasks' is a required property");
  });

  it('flags YAQL parse errors and, as orquesta, accepts a join with a single inbound task', () => {
    const r = inspect(`version: 1.0
tasks:
  a:
    action: core.noop
    next:
      - when: <% succeeded( %>
        do: b
  b:
    join: all
    action: core.noop
`);
    expect(r.expressions).toHaveLength(1);
    expect(r.expressions[0]).toMatchObject({
      type: 'yaql',
      expression: '<% succeeded( %>',
      spec_path: 'a.next[0].when'.replace(/^/, 'tasks.'),
    });
    expect(r.semantics).toEqual([]);
  });

  it("uses actionExists and actionParams for st2's content checks, in st2's words", () => {
    const r = inspect(wf('sequential'), { actionExists: (ref) => ref !== 'core.noop' });
    expect(r.content[0].message).toBe('The action "core.noop" is not registered in the database.');
    const inputs = inspect(
      {
        version: 1.0,
        tasks: {
          t1: { action: 'echo' },
          t2: { action: 'core.echo', input: { messages: 'x' } },
        },
      },
      { actionExists: () => true, actionParams: () => ({ names: ['message'], required: ['message'] }) },
    );
    expect(inputs.content).toEqual([
      {
        message: 'The action reference "echo" is not formatted correctly.',
        spec_path: 'tasks.t1.action',
        schema_path: 'properties.tasks.patternProperties.^\\w+$.properties.action',
      },
      {
        message: 'Action "core.echo" is missing required input "message".',
        spec_path: 'tasks.t2.input',
        schema_path: 'properties.tasks.patternProperties.^\\w+$.properties.input',
      },
      {
        message: 'Action "core.echo" has unexpected input "messages".',
        spec_path: 'tasks.t2.input.messages',
        schema_path: 'properties.tasks.patternProperties.^\\w+$.properties.input.patternProperties.^\\w+$',
      },
    ]);
  });

  it('accepts the seed workflow', () => {
    expect(inspect(wf('orquesta-sequential'))).toEqual({
      content: [],
      syntax: [],
      semantics: [],
      expressions: [],
      context: [],
    });
  });
});

describe('orquesta conductor API', () => {
  it('runs the seed workflow: greeting for name=Ineat is exactly what st2 produces', () => {
    const c = createConductor(wf('orquesta-sequential'), { name: 'Ineat' });
    let reqs = c.start();
    expect(reqs).toEqual([{ task_id: 'task1', route: 0, action: 'core.echo', input: { message: 'Ineat' } }]);
    // st2's local runner strips the trailing newline from stdout (strip_shell_chars).
    reqs = c.onTaskCompleted('task1', 0, { status: 'succeeded', result: { stdout: 'Ineat' } });
    expect(reqs[0].input).toEqual({ message: 'All your base are belong to us!' });
    reqs = c.onTaskCompleted('task2', 0, {
      status: 'succeeded',
      result: { stdout: 'All your base are belong to us!' },
    });
    expect(reqs[0].input).toEqual({ message: 'Ineat, All your base are belong to us!' });
    expect(
      c.onTaskCompleted('task3', 0, {
        status: 'succeeded',
        result: { stdout: 'Ineat, All your base are belong to us!' },
      }),
    ).toEqual([]);
    expect(c.status).toBe('succeeded');
    expect(c.output).toEqual({ greeting: 'Ineat, All your base are belong to us!' });
  });

  it('keeps its whole state as plain JSON and continues after a round trip', () => {
    const c = createConductor(wf('parallel'));
    c.start();
    const restored = OrquestaConductor.fromState(JSON.parse(JSON.stringify(c.state)));
    const next = restored.onTaskCompleted('init', 0, { status: 'succeeded' });
    expect(next.map((r) => r.task_id)).toEqual(['branch_a', 'branch_b']);
  });

  it('returns delays for the integrator to schedule', () => {
    const c = createConductor(wf('delay'), { wait: 7 });
    expect(c.start()[0].delay).toBe(7);
    expect(c.onTaskCompleted('task1', 0, { status: 'succeeded' })[0].delay).toBe(1);
  });

  it('returns a retry with its delay and counts attempts', () => {
    const c = createConductor(wf('task-retry-delay'));
    c.start();
    const retry = c.onTaskCompleted('task1', 0, { status: 'failed', result: { error: 'x' } });
    expect(retry).toEqual([expect.objectContaining({ task_id: 'task1', delay: 5 })]);
    expect(c.state.sequence[0].retry?.tally).toBe(1);
  });

  it('requests with-items respecting concurrency, and orders results by item', () => {
    const c = createConductor(wf('with-items-concurrency'), { members: ['a', 'b', 'c'], concurrency: 2 });
    const first = c.start();
    expect(first.map((r) => [r.item_id, r.input])).toEqual([
      [0, { message: 'a, resistance is futile!' }],
      [1, { message: 'b, resistance is futile!' }],
    ]);
    expect(
      c
        .onTaskCompleted('task1', 0, { status: 'succeeded', result: { stdout: 'B' } }, 1)
        .map((r) => r.item_id),
    ).toEqual([2]);
    c.onTaskCompleted('task1', 0, { status: 'succeeded', result: { stdout: 'C' } }, 2);
    const after = c.onTaskCompleted('task1', 0, { status: 'succeeded', result: { stdout: 'A' } }, 0);
    expect(after.map((r) => r.task_id)).toEqual(['task2']);
    expect(c.state.sequence[0].result).toEqual([{ stdout: 'A' }, { stdout: 'B' }, { stdout: 'C' }]);
  });

  it('pauses: pausing while a task runs, paused once it finishes, nothing new until resume', () => {
    const c = createConductor(wf('pause-resume'));
    c.start();
    c.pause();
    expect(c.status).toBe('pausing');
    expect(c.onTaskCompleted('task1', 0, { status: 'succeeded' })).toEqual([]);
    expect(c.status).toBe('paused');
    expect(c.resume().map((r) => r.task_id)).toEqual(['task2']);
    expect(c.status).toBe('running');
  });

  it('cancels: canceling while a task runs, canceled once it finishes', () => {
    const c = createConductor(wf('pause-resume'));
    c.start();
    c.cancel();
    expect(c.status).toBe('canceling');
    expect(c.onTaskCompleted('task1', 0, { status: 'succeeded' })).toEqual([]);
    expect(c.status).toBe('canceled');
  });

  it('fails when input rendering fails, with the error recorded', () => {
    const c = createConductor(
      'version: 1.0\ninput:\n  - x: <% ctx(nope) %>\ntasks:\n  t:\n    action: core.noop\n',
    );
    expect(c.start()).toEqual([]);
    expect(c.status).toBe('failed');
    expect(c.errors[0].message).toContain('The variable "nope" is undefined.');
  });

  it('fails when a task input does not render, naming the task', () => {
    const c = createConductor('version: 1.0\ntasks:\n  t:\n    action: core.echo message=<% ctx(nope) %>\n');
    expect(c.start()).toEqual([]);
    expect(c.status).toBe('failed');
    expect(c.errors[0]).toMatchObject({ type: 'error', task_id: 't', route: 0 });
  });

  it('refuses a completion for a task that was never requested', () => {
    const c = createConductor(wf('sequential'));
    c.start();
    expect(() => c.onTaskCompleted('task3', 0, { status: 'succeeded' })).toThrow(/has not been requested/);
  });

  it('re-runs only from a completed workflow and only known tasks', () => {
    const c = createConductor(wf('rerun'));
    c.start();
    expect(() => c.rerun({ tasks: ['task2'] })).toThrow(/not in a completed state/);
    c.onTaskCompleted('task1', 0, { status: 'succeeded' });
    c.onTaskCompleted('task2', 0, { status: 'failed' });
    expect(c.status).toBe('failed');
    expect(() => c.rerun({ tasks: ['task3'] })).toThrow(/task3\|0/);
    expect(c.rerun({ tasks: ['task2'] }).map((r) => r.task_id)).toEqual(['task2']);
    expect(c.errors).toEqual([]);
  });
});

describe('expression facade', () => {
  const scope = {
    ctx: { name: 'Ineat', xs: [1, 2], __state: 'hidden' },
    currentTask: { id: 't', route: 0, result: { stdout: 'out' }, status: 'succeeded' },
  };

  it('YAQL: one expression yields the native value, several interpolate', () => {
    expect(evaluateExpression('<% ctx(xs) %>', scope)).toEqual([1, 2]);
    expect(evaluateExpression('hi <% ctx().name %>, <% result().stdout %>', scope)).toBe('hi Ineat, out');
    expect(evaluateExpression('<% succeeded() %>', scope)).toBe(true);
    expect(evaluateExpression('<% ctx().keys().len() %>', scope)).toBe(2);
  });

  it('Jinja sees ctx values as variables and the workflow functions', () => {
    expect(evaluateExpression("{{ ctx('name') }}", scope)).toBe('Ineat');
    expect(evaluateExpression('{{ name | upper }}', scope)).toBe('INEAT');
    expect(evaluateExpression('{{ succeeded() }}', scope)).toBe(true);
  });

  it('walks objects and lists', () => {
    expect(evaluateExpression({ a: ['<% ctx(name) %>', 3], b: { c: '{{ ctx("name") }}' } }, scope)).toEqual({
      a: ['Ineat', 3],
      b: { c: 'Ineat' },
    });
  });

  it('rejects mixing YAQL and Jinja in one string', () => {
    expect(() => evaluateExpression('<% ctx(name) %> {{ name }}', scope)).toThrow(/mixes YAQL/);
  });

  it('st2kv reads through the scope callback, with default and missing-key error', () => {
    const kv = { ...scope, st2kv: (k: string) => (k === 'system.a' ? 'A' : undefined) };
    expect(evaluateExpression("<% st2kv('system.a') %>", kv)).toBe('A');
    expect(evaluateExpression("<% st2kv('b', false, 'dflt') %>", kv)).toBe('dflt');
    expect(() => evaluateExpression("<% st2kv('b') %>", kv)).toThrow(/does not exist/);
  });

  it('item(), zip(), json() and task_status()', () => {
    const s = {
      ...scope,
      item: { value: { host: 'h' } },
      taskStatus: (id: string) => (id === 'x' ? 'failed' : undefined),
    };
    expect(evaluateExpression('<% item(host) %>', s)).toBe('h');
    expect(evaluateExpression('<% zip(list(1, 2), list(a, b)) %>', s)).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(evaluateExpression(`<% json('{"k": 1}').k %>`, s)).toBe(1);
    expect(evaluateExpression('<% task_status(x) %>', s)).toBe('failed');
  });
});
