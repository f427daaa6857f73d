import { describe, expect, it } from 'vitest';
import { chainGraphView, conditionLabel, orquestaGraphView } from '../../../src/workflows/graph-view.js';
import { inspect, parseWorkflowSpec } from '../../../src/workflows/orquesta/index.js';
import { parseChainSpec } from '../../../src/workflows/actionchain/index.js';

const FLOW = `
version: 1.0
tasks:
  start:
    action: core.noop
    next:
      - when: <% succeeded() %>
        publish:
          - a: 1
        do: [left, right]
      - when: <% failed() %>
        do: fail
  left:
    with:
      items: x in <% [1, 2] %>
      concurrency: 1
    action: core.echo
    next:
      - do: joined
  right:
    action: core.echo
    retry:
      count: 2
    next:
      - when: <% result().x > 1 %>
        do: joined
  joined:
    join: all
    action: core.noop
    next:
      - publish:
          - done: true
`;

describe('workflow graph view', () => {
  it('draws tasks, engine commands and labelled transitions, and marks joins, with-items and retries', () => {
    const view = orquestaGraphView(parseWorkflowSpec(FLOW));
    expect(view.start).toEqual(['start']);
    expect(view.nodes.map((n) => `${n.kind}:${n.name}`).sort()).toEqual([
      'command:fail',
      'task:joined',
      'task:left',
      'task:right',
      'task:start',
    ]);
    const node = (name: string) => view.nodes.find((n) => n.name === name)!;
    expect(node('joined')).toMatchObject({ join: 'all', publish: ['done'] });
    expect(node('left').with).toEqual({ items: 'x in <% [1, 2] %>', concurrency: 1 });
    expect(node('right').retry).toMatchObject({ count: 2 });
    const edges = view.edges.map((e) => `${e.src}->${e.dst} [${e.condition}] ${e.publish.join(',')}`).sort();
    expect(edges).toEqual([
      'left->joined [always] ',
      'right->joined [<% result().x > 1 %>] ',
      'start->fail [failed] ',
      'start->left [succeeded] a',
      'start->right [succeeded] a',
    ]);
  });

  it('puts inspection errors on the task their spec path names, the rest on the workflow', () => {
    const text = `
version: 1.0
output:
  - r: <% ctx(nothing) %>
tasks:
  one:
    action: nopack
    next:
      - do: ghost
`;
    const view = orquestaGraphView(parseWorkflowSpec(text), inspect(text));
    const one = view.nodes.find((n) => n.name === 'one')!;
    expect(one.errors.map((e) => e.type).sort()).toEqual(['content', 'semantic']);
    expect(view.errors.map((e) => `${e.type} ${e.spec_path}`)).toEqual(['context output[0]']);
  });

  it('reads the words of the usual conditions', () => {
    expect(conditionLabel('<% succeeded() %>')).toBe('succeeded');
    expect(conditionLabel('{{ failed() }}')).toBe('failed');
    expect(conditionLabel(undefined)).toBe('always');
    expect(conditionLabel('<% succeeded() and ctx(x) %>')).toBe('<% succeeded() and ctx(x) %>');
  });

  it('draws an action chain with on-success and on-failure edges', () => {
    const view = chainGraphView(
      parseChainSpec(`
chain:
  - name: a
    ref: core.noop
    on-success: b
    on-failure: c
    publish: {x: 1}
  - name: b
    ref: core.noop
  - name: c
    ref: core.noop
`),
    );
    expect(view.start).toEqual(['a']);
    expect(view.nodes.find((n) => n.name === 'a')?.publish).toEqual(['x']);
    expect(view.edges.map((e) => `${e.src}->${e.dst} ${e.condition}`)).toEqual([
      'a->b on-success',
      'a->c on-failure',
    ]);
  });
});
