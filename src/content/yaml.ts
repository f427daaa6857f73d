import yaml from 'js-yaml';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { loadYaml } from '../yaml.js';

export type PathSegment = string | number;

export interface Position {
  line: number;
  column: number;
}

export type ParsedYaml =
  | {
      ok: true;
      data: unknown;
      locate: (path: readonly PathSegment[], opts?: { key?: boolean }) => Position | undefined;
    }
  | { ok: false; message: string; line?: number; column?: number };

/**
 * Parses YAML with js-yaml (the values Squall uses) and, lazily, a second time with eemeli/yaml
 * only to map a data path (e.g. ajv's instancePath) back to a line and column, since js-yaml 4
 * does not expose node positions.
 */
export function parseYaml(text: string, filename?: string): ParsedYaml {
  let data: unknown;
  try {
    data = loadYaml(text, { filename });
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      return {
        ok: false,
        message: err.reason || err.message,
        line: err.mark ? err.mark.line + 1 : undefined,
        column: err.mark ? err.mark.column + 1 : undefined,
      };
    }
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  let located: { doc: ReturnType<typeof parseDocument>; counter: LineCounter } | undefined;
  const locate = (path: readonly PathSegment[], opts: { key?: boolean } = {}): Position | undefined => {
    if (!located) {
      const counter = new LineCounter();
      located = { doc: parseDocument(text, { lineCounter: counter, uniqueKeys: false }), counter };
    }
    let node: unknown = located.doc.contents;
    let best: number | undefined = rangeStart(node);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg),
        );
        if (!pair) break;
        const keyStart = rangeStart(pair.key);
        node = pair.value;
        // A key without a value (`name:`) is located at the key; so is any "this field" problem.
        best = (last && opts.key ? keyStart : (rangeStart(node) ?? keyStart)) ?? best;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (item === undefined) break;
        node = item;
        best = rangeStart(node) ?? best;
      } else {
        break;
      }
    }
    return best === undefined ? undefined : toPos(located.counter, best);
  };
  return { ok: true, data, locate };
}

function toPos(counter: LineCounter, offset: number): Position {
  const p = counter.linePos(offset);
  return { line: p.line, column: p.col };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
