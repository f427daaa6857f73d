import { YaqlFailure } from './errors.js';

/*
 * Python string and `re` behaviours that JS spells differently. Patterns are translated, not
 * reimplemented: Python-only syntax that JS lacks fails with a clear error instead of matching
 * something else.
 */

export function compilePythonRegex(
  pattern: string,
  flags: { ignoreCase?: boolean; multiLine?: boolean; dotAll?: boolean },
): RegExp {
  let src = pattern
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$(?![\\s\\S])');
  let f = '';
  // Inline flags at the start, e.g. (?i)
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    if (inline[1].includes('i')) f += 'i';
    if (inline[1].includes('m')) f += 'm';
    if (inline[1].includes('s')) f += 's';
  }
  if (flags.ignoreCase && !f.includes('i')) f += 'i';
  if (flags.multiLine && !f.includes('m')) f += 'm';
  if (flags.dotAll && !f.includes('s')) f += 's';
  try {
    return new RegExp(src, f);
  } catch (err) {
    throw new YaqlFailure(
      'RegexError',
      `invalid regular expression "${pattern}": ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** Expands \1, \g<1>, \g<name> and escapes in a Python re.sub replacement; `m` is String.replace's callback arguments. */
export function expandPythonReplacement(repl: string, m: unknown[]): string {
  const last = m[m.length - 1];
  const groups = (typeof last === 'object' && last !== null ? last : {}) as Record<
    string,
    string | undefined
  >;
  const numbered = m.slice(0, typeof last === 'object' && last !== null ? -3 : -2) as (string | undefined)[];
  const group = (k: string): string => {
    if (/^\d+$/.test(k)) {
      const i = Number(k);
      if (i >= numbered.length)
        throw new YaqlFailure('RegexError', `invalid group reference ${k} in replacement "${repl}"`);
      return numbered[i] ?? '';
    }
    if (!(k in groups))
      throw new YaqlFailure('RegexError', `unknown group name "${k}" in replacement "${repl}"`);
    return groups[k] ?? '';
  };
  return repl.replace(
    /\\(g<([^>]+)>|\d{1,2}|[nrtfv\\]|.)/g,
    (all, body: string, gname: string | undefined) => {
      if (gname !== undefined) return group(gname);
      if (/^\d/.test(body)) return group(body);
      const esc: Record<string, string> = { n: '\n', r: '\r', t: '\t', f: '\f', v: '\v', '\\': '\\' };
      if (body in esc) return esc[body];
      return all;
    },
  );
}

const PY_WHITESPACE =
  ' \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

export function pythonStrip(s: string, chars: string | null, mode: 'both' | 'left' | 'right'): string {
  const set = chars ?? PY_WHITESPACE;
  const cps = [...s];
  let a = 0;
  let b = cps.length;
  if (mode !== 'right') while (a < b && set.includes(cps[a])) a++;
  if (mode !== 'left') while (b > a && set.includes(cps[b - 1])) b--;
  return cps.slice(a, b).join('');
}

/** str.split / str.rsplit, including the whitespace mode when sep is null. */
export function pythonSplit(s: string, sep: string | null, maxSplits: number, fromRight: boolean): string[] {
  if (sep === '') throw new YaqlFailure('ValueError', 'empty separator');
  if (sep === null) {
    const words = [...s].reduce<{ out: string[]; cur: string | null }>(
      (acc, ch) => {
        if (PY_WHITESPACE.includes(ch)) {
          if (acc.cur !== null) acc.out.push(acc.cur);
          acc.cur = null;
        } else acc.cur = (acc.cur ?? '') + ch;
        return acc;
      },
      { out: [], cur: null },
    );
    if (words.cur !== null) words.out.push(words.cur);
    const all = words.out;
    if (maxSplits < 0 || all.length <= maxSplits + 1) return all;
    // Re-split keeping the remainder intact (its inner whitespace preserved).
    if (!fromRight) {
      let rest = s.replace(/^\s+/, '');
      const out: string[] = [];
      for (let i = 0; i < maxSplits; i++) {
        const m = /\s+/.exec(rest) as RegExpExecArray;
        out.push(rest.slice(0, m.index));
        rest = rest.slice(m.index + m[0].length);
      }
      out.push(rest.replace(/\s+$/, '') === rest ? rest : rest);
      return out;
    }
    let rest = s.replace(/\s+$/, '');
    const out: string[] = [];
    for (let i = 0; i < maxSplits; i++) {
      const m = /\s+(\S*)$/.exec(rest) as RegExpExecArray;
      out.unshift(m[1]);
      rest = rest.slice(0, m.index);
    }
    out.unshift(rest);
    return out;
  }
  const parts = s.split(sep);
  if (maxSplits < 0 || parts.length <= maxSplits + 1) return parts;
  if (!fromRight) return [...parts.slice(0, maxSplits), parts.slice(maxSplits).join(sep)];
  const keep = parts.length - maxSplits;
  return [parts.slice(0, keep).join(sep), ...parts.slice(keep)];
}
