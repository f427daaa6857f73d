/**
 * Keeps templates away from the JavaScript behind them.
 *
 * nunjucks is not a sandbox: `{{ range.constructor("return process")() }}` reaches Function and
 * runs arbitrary code in the server, where the datastore key lives. Anyone who may run an action
 * writes templates (st2 renders `{{ }}` in live parameters, chat commands included), so a template
 * must never reach a constructor or a prototype. Member lookups of those names answer undefined,
 * and the constructors themselves are refused wherever a template could get hold of one (a filter
 * such as `map(attribute=…)` reads attributes without going through a member lookup).
 */
import nunjucks from 'nunjucks';

const BLOCKED_NAMES = new Set([
  'constructor',
  '__proto__',
  'prototype',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/** Members of a function that leak its caller; as variables these names are Jinja's own (`caller()`). */
const BLOCKED_MEMBERS = new Set([...BLOCKED_NAMES, 'caller', 'callee', 'arguments']);

const BLOCKED_VALUES = new Set<unknown>([
  Function,
  Object,
  Object.getPrototypeOf(async function () {}).constructor,
  Object.getPrototypeOf(function* () {}).constructor,
  Object.getPrototypeOf(async function* () {}).constructor,
  Reflect,
  Proxy,
  globalThis,
]);

/** A value a template may hold: anything but a constructor reachable to build code or prototypes. */
function safe<T>(value: T): T | undefined {
  return BLOCKED_VALUES.has(value) ? undefined : value;
}

/** Data a payload carries under a blocked name (JSON can hold `"constructor": 1`) stays readable. */
function ownData(obj: unknown, name: string): boolean {
  return (
    typeof obj === 'object' &&
    Object.prototype.hasOwnProperty.call(obj, name) &&
    typeof (obj as Record<string, unknown>)[name] !== 'function'
  );
}

interface Runtime {
  memberLookup: (obj: unknown, name: unknown) => unknown;
  contextOrFrameLookup: (context: unknown, frame: unknown, name: string) => unknown;
  callWrap: (obj: unknown, name: string, context: unknown, args: unknown[]) => unknown;
}

/**
 * Patches nunjucks' runtime, which every compiled template calls for lookups and calls. For the
 * whole process: only installNunjucksPatches calls it, once.
 */
export function patchTemplateSandbox(): void {
  const runtime = (nunjucks as unknown as { runtime: Runtime }).runtime;
  const memberLookup = runtime.memberLookup;
  const contextOrFrameLookup = runtime.contextOrFrameLookup;
  const callWrap = runtime.callWrap;
  runtime.memberLookup = (obj, name) => {
    if (obj === undefined || obj === null) return undefined;
    if (typeof name === 'string' && BLOCKED_MEMBERS.has(name) && !ownData(obj, name)) return undefined;
    if (BLOCKED_VALUES.has((obj as Record<string, unknown>)[name as string])) return undefined;
    return safe(memberLookup(obj, name));
  };
  runtime.contextOrFrameLookup = (context, frame, name) => {
    const value = safe(contextOrFrameLookup(context, frame, name));
    // A render variable may be called `constructor`; Object.prototype's own may not be reached.
    return BLOCKED_NAMES.has(name) && typeof value === 'function' ? undefined : value;
  };
  runtime.callWrap = (obj, name, context, args) => {
    if (BLOCKED_VALUES.has(obj)) throw new Error(`Unable to call \`${name}\`: not allowed in a template`);
    return callWrap(obj, name, context, args);
  };
}
