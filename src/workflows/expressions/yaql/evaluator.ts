import { YaqlFailure } from './errors.js';
import type { YaqlNode } from './parser.js';
import {
  dictGet,
  fromPlain,
  setOwn,
  isDict,
  isIntLike,
  isIterable,
  isSequence,
  iterate,
  numValue,
  tick,
  toPlain,
  typeName,
  YIter,
} from './values.js';

/** Variables visible to an expression: `$`, `$1`, `$name` (let), chained to the enclosing scope. */
export class Scope {
  constructor(
    readonly parent: Scope | null,
    readonly vars: Map<string, unknown> = new Map(),
  ) {}

  get(name: string): unknown {
    if (this.vars.has(name)) return this.vars.get(name);
    for (let s = this.parent; s; s = s.parent) {
      if (s.vars.has(name)) return s.vars.get(name);
    }
    // YAQL answers null for a variable nobody set.
    return null;
  }

  child(vars?: Iterable<[string, unknown]>): Scope {
    return new Scope(this, new Map(vars ?? []));
  }
}

/** What let(), with() and unpack() return: a scope to evaluate the right side of `->` in. */
export class YContext {
  constructor(readonly scope: Scope) {}
}

export interface Arg {
  readonly node: YaqlNode | undefined;
  /** The evaluated value (computed once). */
  value(): unknown;
  /** The argument as a function of `$`/`$1`, `$2`…; with no values it runs in the caller's scope. */
  lambda(): (...xs: unknown[]) => unknown;
  /** The argument evaluated in another scope (regex matches publish `$1`… this way). */
  inScope(scope: Scope): unknown;
  /** The name when the argument is a bare keyword (`ctx(name)`, `{a => 1}`). */
  readonly keyword: string | undefined;
}

export interface Call {
  readonly name: string;
  readonly method: boolean;
  /** Positional arguments; for a method call the receiver comes first. */
  readonly args: Arg[];
  /** `name => value` arguments whose name is a keyword. */
  readonly named: Map<string, Arg>;
  /** Every `key => value` argument in order. */
  readonly rules: { key: Arg; value: Arg }[];
  readonly scope: Scope;
  readonly ev: Evaluator;
}

export interface Builtin {
  /** Callable as `receiver.name(...)`. */
  method: boolean;
  /** Callable as `name(...)`. */
  func: boolean;
  fn: (c: Call) => unknown;
}

export type HostFunction = (...args: unknown[]) => unknown;

/**
 * Throws yaql's NoMatching{Method,Function}Exception for a call, naming its arguments' types;
 * `Failure` lets an overload throw a subclass the next overload catches (stdlib's NoOverload).
 */
export function noMatch(c: Call, Failure: typeof YaqlFailure = YaqlFailure): never {
  const types = c.args
    .map((a) => {
      try {
        return typeName(a.value());
      } catch {
        return 'expression';
      }
    })
    .join(', ');
  throw new Failure(
    c.method ? 'NoMatchingMethodException' : 'NoMatchingFunctionException',
    `no ${c.method ? 'method' : 'function'} "${c.name}" accepts arguments (${types})`,
    { function: c.name },
  );
}

class ValueArg implements Arg {
  readonly node = undefined;
  readonly keyword = undefined;
  constructor(private readonly v: unknown) {}
  value(): unknown {
    return this.v;
  }
  lambda(): (...xs: unknown[]) => unknown {
    return () => this.v;
  }
  inScope(): unknown {
    return this.v;
  }
}

class NodeArg implements Arg {
  private computed = false;
  private cached: unknown;
  constructor(
    readonly node: YaqlNode,
    private readonly scope: Scope,
    private readonly ev: Evaluator,
  ) {}
  get keyword(): string | undefined {
    return this.node.kind === 'keyword' ? this.node.name : undefined;
  }
  value(): unknown {
    if (!this.computed) {
      this.cached = this.ev.eval(this.node, this.scope);
      this.computed = true;
    }
    return this.cached;
  }
  lambda(): (...xs: unknown[]) => unknown {
    return (...xs: unknown[]) => {
      if (xs.length === 0) return this.ev.eval(this.node, this.scope);
      const vars: [string, unknown][] = [['$', xs[0]]];
      xs.forEach((x, i) => vars.push([`$${i + 1}`, x]));
      return this.ev.eval(this.node, this.scope.child(vars));
    };
  }
  inScope(scope: Scope): unknown {
    return this.ev.eval(this.node, scope);
  }
}

export class Evaluator {
  constructor(
    private readonly builtins: ReadonlyMap<string, Builtin>,
    private readonly host: Record<string, HostFunction>,
  ) {}

  eval(node: YaqlNode, scope: Scope): unknown {
    tick();
    switch (node.kind) {
      case 'constant':
        return node.value;
      case 'keyword':
        return node.name;
      case 'wrap':
        return this.eval(node.inner, scope);
      case 'dollar':
        return scope.get(node.name);
      case 'call':
        return this.invoke(node.name, false, node.args, scope, undefined);
      case 'method': {
        const receiver = this.eval(node.receiver, scope);
        if (node.nullSafe && receiver === null) return null;
        return this.invoke(node.name, true, node.args, scope, receiver);
      }
      case 'property': {
        const receiver = this.eval(node.receiver, scope);
        if (node.nullSafe && receiver === null) return null;
        return this.property(receiver, node.name);
      }
      case 'member': {
        const receiver = this.eval(node.receiver, scope);
        if (node.nullSafe && receiver === null) return null;
        throw new YaqlFailure(
          'NoMatchingFunctionException',
          'the right side of "." must be a method call or a key name',
        );
      }
      case 'binary':
        return this.invoke(`#operator_${node.op}`, false, [node.left, node.right], scope, undefined);
      case 'unary':
        return this.invoke(`#unary_operator_${node.op}`, false, [node.operand], scope, undefined);
      case 'index':
        return this.index(this.eval(node.target, scope), node.args, scope);
      case 'list':
        return this.invoke('#list', false, node.items, scope, undefined);
      case 'map':
        return this.invoke('#map', false, node.entries, scope, undefined);
      case 'mapping':
        throw new YaqlFailure(
          'MappingTranslationException',
          '"=>" can only be used in the arguments of a function or in {...}',
        );
    }
  }

  property(receiver: unknown, name: string): unknown {
    return getProperty(receiver, name);
  }

  private index(target: unknown, argNodes: YaqlNode[], scope: Scope): unknown {
    const args = argNodes.map((n) => {
      if (n.kind === 'mapping')
        throw new YaqlFailure('NoMatchingFunctionException', 'an indexer takes no "key => value" arguments');
      return this.eval(n, scope);
    });
    if (isSequence(target) && args.length === 1 && isIntLike(args[0])) {
      let i = numValue(args[0]);
      if (i < 0) i += target.length;
      if (i < 0 || i >= target.length) {
        throw new YaqlFailure(
          'IndexError',
          `index ${numValue(args[0])} is out of range for a list of ${target.length}`,
        );
      }
      return target[i];
    }
    if (isDict(target) && (args.length === 1 || args.length === 2)) {
      const r = dictGet(target, args[0]);
      if (r.found) return r.value;
      if (args.length === 2) return args[1];
      throw new YaqlFailure('KeyError', `key ${JSON.stringify(toPlain(args[0]))} is not in the dictionary`);
    }
    throw new YaqlFailure(
      'NoMatchingFunctionException',
      `cannot index a ${typeName(target)} with (${args.map(typeName).join(', ')})`,
    );
  }

  invoke(name: string, method: boolean, argNodes: YaqlNode[], scope: Scope, receiver: unknown): unknown {
    const hostFn = Object.prototype.hasOwnProperty.call(this.host, name) ? this.host[name] : undefined;
    if (hostFn && !name.startsWith('#'))
      return this.callHost(name, hostFn, method, argNodes, scope, receiver);
    const builtin = this.builtins.get(name);
    if (!builtin || (method ? !builtin.method : !builtin.func)) {
      if (method) {
        throw new YaqlFailure(
          'NoMethodRegisteredException',
          `unknown method "${name}" for a ${typeName(receiver)}`,
          { function: name },
        );
      }
      throw new YaqlFailure('NoFunctionRegisteredException', `unknown function "${name}"`, {
        function: name,
      });
    }
    const args: Arg[] = method ? [new ValueArg(receiver)] : [];
    const named = new Map<string, Arg>();
    const rules: { key: Arg; value: Arg }[] = [];
    for (const n of argNodes) {
      if (n.kind === 'mapping') {
        const key = new NodeArg(n.key, scope, this);
        const value = new NodeArg(n.value, scope, this);
        rules.push({ key, value });
        if (n.key.kind === 'keyword') named.set(n.key.name, value);
      } else {
        args.push(new NodeArg(n, scope, this));
      }
    }
    return builtin.fn({ name, method, args, named, rules, scope, ev: this });
  }

  private callHost(
    name: string,
    fn: HostFunction,
    method: boolean,
    argNodes: YaqlNode[],
    scope: Scope,
    receiver: unknown,
  ): unknown {
    const args: unknown[] = method ? [toPlain(receiver)] : [];
    const named: Record<string, unknown> = {};
    let hasNamed = false;
    for (const n of argNodes) {
      if (n.kind === 'mapping') {
        const key = this.eval(n.key, scope);
        setOwn(named, String(key), toPlain(this.eval(n.value, scope)));
        hasNamed = true;
      } else {
        args.push(toPlain(this.eval(n, scope)));
      }
    }
    if (hasNamed) args.push(named);
    let result: unknown;
    try {
      result = fn(...args);
    } catch (err) {
      throw new YaqlFailure(
        'HostFunctionError',
        `function "${name}" failed: ${err instanceof Error ? err.message : String(err)}`,
        {
          function: name,
          cause: err,
        },
      );
    }
    return fromPlain(result);
  }
}

/** `receiver.name` where name is a bare word. */
export function getProperty(receiver: unknown, name: string): unknown {
  if (isDict(receiver)) {
    const r = dictGet(receiver, name);
    if (!r.found) throw new YaqlFailure('KeyError', `key "${name}" is not in the dictionary`, { key: name });
    return r.value;
  }
  if (isIterable(receiver)) {
    const src = receiver;
    // YAQL maps attribute access over a collection: [{a=>1},{a=>2}].a is [1, 2].
    return new YIter(function* () {
      for (const item of iterate(src)) yield getProperty(item, name);
    });
  }
  // YAQL looks `x.name` up as the function `#property#name`, which only dicts and lists have.
  throw new YaqlFailure('NoFunctionRegisteredException', `Unknown function "#property#${name}"`, {
    property: name,
    receiver: typeName(receiver),
  });
}
