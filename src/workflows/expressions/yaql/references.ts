import type { YaqlNode } from './parser.js';

export interface YaqlReferences {
  /** Names called in function form, e.g. `ctx`, `len`, `st2kv` (sorted, unique). */
  functions: string[];
  /** Names called in method form, e.g. `where` in `$.l.where(...)` (sorted, unique). */
  methods: string[];
  /** Workflow variables read through `ctx(name)`, `ctx('name')`, `ctx().name`, `ctx()['name']` (sorted, unique). */
  variables: string[];
}

function children(n: YaqlNode): YaqlNode[] {
  switch (n.kind) {
    case 'constant':
    case 'keyword':
    case 'dollar':
      return [];
    case 'call':
      return n.args;
    case 'method':
      return [n.receiver, ...n.args];
    case 'property':
      return [n.receiver];
    case 'member':
      return [n.receiver, n.member];
    case 'binary':
      return [n.left, n.right];
    case 'unary':
      return [n.operand];
    case 'index':
      return [n.target, ...n.args];
    case 'list':
      return n.items;
    case 'map':
      return n.entries;
    case 'mapping':
      return [n.key, n.value];
    case 'wrap':
      return [n.inner];
  }
}

function unwrap(n: YaqlNode): YaqlNode {
  return n.kind === 'wrap' ? unwrap(n.inner) : n;
}

function isBareCtx(n: YaqlNode): boolean {
  const u = unwrap(n);
  return u.kind === 'call' && u.name === 'ctx' && u.args.length === 0;
}

export function collectReferences(root: YaqlNode): YaqlReferences {
  const functions = new Set<string>();
  const methods = new Set<string>();
  const variables = new Set<string>();
  const walk = (n: YaqlNode): void => {
    if (n.kind === 'call') {
      functions.add(n.name);
      if (n.name === 'ctx' && n.args.length === 1) {
        const a = unwrap(n.args[0]);
        if (a.kind === 'keyword') variables.add(a.name);
        else if (a.kind === 'constant' && typeof a.value === 'string') variables.add(a.value);
      }
    }
    if (n.kind === 'method') methods.add(n.name);
    if (n.kind === 'property' && isBareCtx(n.receiver)) variables.add(n.name);
    if (n.kind === 'index' && isBareCtx(n.target) && n.args.length >= 1) {
      const a = unwrap(n.args[0]);
      if (a.kind === 'constant' && typeof a.value === 'string') variables.add(a.value);
      if (a.kind === 'keyword') variables.add(a.name);
    }
    children(n).forEach(walk);
  };
  walk(root);
  const sorted = (s: Set<string>) => [...s].sort();
  return { functions: sorted(functions), methods: sorted(methods), variables: sorted(variables) };
}
