/**
 * The JSONPath subset st2 users write (jsonpath_rw): `$`, `.name`, `['name']`, `["name"]`, `[0]`,
 * `[-1]`, `[*]`, `.*`, `..name` (recursive descent), `[a,b]` unions and `[1:3]` slices. The root
 * `$` is optional so criteria keys like `trigger.body.items[0]` parse too.
 */
import { SquallError } from '../../../errors.js';

type Step =
  | { kind: 'key'; names: string[] }
  | { kind: 'index'; indexes: number[] }
  | { kind: 'slice'; start?: number; end?: number; step?: number }
  | { kind: 'wildcard' }
  | { kind: 'descend'; name: string | null };

const parsed = new Map<string, Step[]>();

function fail(path: string, why: string): never {
  throw new SquallError('JSONPATH_INVALID', `Invalid JSONPath "${path}": ${why}`, { path });
}

export function parseJsonPath(path: string): Step[] {
  const hit = parsed.get(path);
  if (hit) return hit;
  const steps: Step[] = [];
  let i = 0;
  const src = path.trim();
  if (src.startsWith('$')) i = 1;
  const readName = (): string => {
    const m = /^[^.[\]\s]+/.exec(src.slice(i));
    if (!m) fail(path, `expected a name at offset ${i}`);
    i += m[0].length;
    return m[0];
  };
  let first = i === 0;
  while (i < src.length) {
    const ch = src[i];
    if (src.startsWith('..', i)) {
      i += 2;
      if (src[i] === '*') {
        i++;
        steps.push({ kind: 'descend', name: null });
      } else steps.push({ kind: 'descend', name: readName() });
    } else if (ch === '.') {
      i++;
      if (src[i] === '*') {
        i++;
        steps.push({ kind: 'wildcard' });
      } else steps.push({ kind: 'key', names: [readName()] });
    } else if (ch === '[') {
      const end = findClose(src, i);
      if (end < 0) fail(path, `unclosed '[' at offset ${i}`);
      const body = src.slice(i + 1, end).trim();
      i = end + 1;
      if (body === '*') steps.push({ kind: 'wildcard' });
      else if (/^-?\d*:-?\d*(:-?\d*)?$/.test(body)) {
        const [a, b, c] = body.split(':');
        steps.push({
          kind: 'slice',
          start: a ? Number(a) : undefined,
          end: b ? Number(b) : undefined,
          step: c ? Number(c) : undefined,
        });
      } else {
        const parts = splitUnion(body, path);
        if (parts.every((p) => typeof p === 'number'))
          steps.push({ kind: 'index', indexes: parts as number[] });
        else steps.push({ kind: 'key', names: parts.map(String) });
      }
    } else if (first) {
      if (ch === '*') {
        i++;
        steps.push({ kind: 'wildcard' });
      } else steps.push({ kind: 'key', names: [readName()] });
    } else fail(path, `unexpected '${ch}' at offset ${i}`);
    first = false;
  }
  if (parsed.size > 1000) parsed.clear();
  parsed.set(path, steps);
  return steps;
}

function findClose(src: string, open: number): number {
  let quote: string | null = null;
  for (let j = open + 1; j < src.length; j++) {
    const c = src[j];
    if (quote) {
      if (c === '\\') j++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ']') return j;
  }
  return -1;
}

function splitUnion(body: string, path: string): Array<string | number> {
  const out: Array<string | number> = [];
  const re = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+)|([^,'"\s]+))\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while (consumed < body.length && (m = re.exec(body)) !== null) {
    consumed = re.lastIndex;
    if (m[1] !== undefined) out.push(m[1].replace(/\\(.)/g, '$1'));
    else if (m[2] !== undefined) out.push(m[2].replace(/\\(.)/g, '$1'));
    else if (m[3] !== undefined) out.push(Number(m[3]));
    else out.push(m[4]);
    if (m[0] === '') break;
  }
  if (consumed < body.length || out.length === 0) fail(path, `cannot read selector [${body}]`);
  return out;
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v !== null && typeof v === 'object') return Object.values(v);
  return [];
}

function own(v: unknown, k: string): boolean {
  return (
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, k)
  );
}

/** All values the path selects, in document order ([] when nothing matches). */
export function queryJsonPath(value: unknown, path: string): unknown[] {
  let current: unknown[] = [value];
  for (const step of parseJsonPath(path)) {
    const next: unknown[] = [];
    for (const v of current) {
      switch (step.kind) {
        case 'key':
          for (const name of step.names) {
            if (own(v, name)) next.push((v as Record<string, unknown>)[name]);
            else if (Array.isArray(v) && /^-?\d+$/.test(name)) {
              const idx = Number(name) < 0 ? v.length + Number(name) : Number(name);
              if (idx >= 0 && idx < v.length) next.push(v[idx]);
            }
          }
          break;
        case 'index':
          if (Array.isArray(v)) {
            for (const n of step.indexes) {
              const idx = n < 0 ? v.length + n : n;
              if (idx >= 0 && idx < v.length) next.push(v[idx]);
            }
          } else
            for (const n of step.indexes)
              if (own(v, String(n))) next.push((v as Record<string, unknown>)[String(n)]);
          break;
        case 'slice':
          if (Array.isArray(v)) {
            const stepN = step.step ?? 1;
            const norm = (x: number | undefined, d: number): number =>
              x === undefined ? d : x < 0 ? Math.max(v.length + x, 0) : Math.min(x, v.length);
            if (stepN > 0)
              for (let k = norm(step.start, 0); k < norm(step.end, v.length); k += stepN) next.push(v[k]);
          }
          break;
        case 'wildcard':
          next.push(...children(v));
          break;
        case 'descend': {
          const visit = (node: unknown): void => {
            if (step.name === null) next.push(...children(node));
            else if (own(node, step.name)) next.push((node as Record<string, unknown>)[step.name]);
            for (const c of children(node)) if (c !== null && typeof c === 'object') visit(c);
          };
          visit(v);
          break;
        }
      }
    }
    current = next;
  }
  return current;
}
