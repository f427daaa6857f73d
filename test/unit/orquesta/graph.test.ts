import { describe, expect, it } from 'vitest';
import { composeGraph, parseWorkflowSpec } from '../../../src/workflows/orquesta/index.js';

const spec = (yaml: string) => parseWorkflowSpec(`version: 1.0\ntasks:\n${yaml}`);

describe('composeGraph', () => {
  it('finds the tasks in a cycle (a loop with an entry, a self-loop) and no others', () => {
    const g = composeGraph(
      spec(`
  init:
    action: core.noop
    next:
      - do: check
  check:
    action: core.noop
    next:
      - when: <% succeeded() %>
        do: work
      - when: <% failed() %>
        do: done
  work:
    action: core.noop
    next:
      - do: check
  done:
    action: core.noop
    next:
      - when: <% failed() %>
        do: done
  after:
    action: core.noop
`),
    );
    expect([...g.cycles].sort()).toEqual(['check', 'done', 'work']);
    expect(g.roots).toEqual(['after', 'init']);
  });

  it('marks a task reached by several transitions as a split point unless it joins', () => {
    const g = composeGraph(
      spec(`
  a:
    action: core.noop
    next:
      - do: [b, c]
  b:
    action: core.noop
    next:
      - do: [d, e]
  c:
    action: core.noop
    next:
      - do: [d, e]
  d:
    action: core.noop
  e:
    join: all
    action: core.noop
`),
    );
    expect([...g.splits]).toEqual(['d']);
    expect(g.barriers.get('e')).toBe('all');
    expect(g.cycles.size).toBe(0);
    expect(g.inbound.get('d')!.map((e) => e.src)).toEqual(['b', 'c']);
  });

  it('composes a 2,000-task chain with every task outside a cycle and one root', () => {
    const n = 2000;
    const tasks = Array.from({ length: n }, (_, i) =>
      [
        `  t${i}:`,
        '    action: core.noop',
        ...(i + 1 < n ? ['    next:', `      - do: t${i + 1}`] : []),
      ].join('\n'),
    );
    const g = composeGraph(spec(`${tasks.join('\n')}\n`));
    expect(g.roots).toEqual(['t0']);
    expect(g.cycles.size).toBe(0);
    expect(g.splits.size).toBe(0);
    expect(g.out.get('t1998')!.map((e) => e.dst)).toEqual(['t1999']);
  });
});
