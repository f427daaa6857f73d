/**
 * st2 patterns are Python regular expressions (re module) and fnmatch globs. JavaScript's RegExp
 * is close; this translates the differences users actually write: named groups `(?P<n>..)`,
 * back-references `(?P=n)`, leading inline flags `(?i)`, `\A`/`\Z`, Python's `$` (which also
 * matches before a final newline) and `\1`/`\g<n>` in replacements.
 */
import { SquallError } from '../../../errors.js';
import { textKeyedCache } from '../../../lru-map.js';
import { leadingInlineFlags, translatePyRegex } from './pyregex-scan.js';
import { pyTuple } from './python.js';

export interface PyRegexOptions {
  ignoreCase?: boolean;
  dotAll?: boolean;
  /** Anchor at the start of the text as Python's re.match does. */
  sticky?: boolean;
  global?: boolean;
}

/** Backtracking RegExps by flags and pattern: 1,000, and 512 K of pattern text. */
const cache = textKeyedCache<RegExp>(1000, 512 * 1024);

export function pyRegex(pattern: string, options: PyRegexOptions = {}): RegExp {
  const key = `${options.ignoreCase ? 'i' : ''}${options.dotAll ? 's' : ''}${options.sticky ? 'y' : ''}${options.global ? 'g' : ''}\0${pattern}`;
  const hit = cache.get(key);
  if (hit) {
    hit.lastIndex = 0;
    return hit;
  }
  const flags = new Set<string>();
  if (options.ignoreCase) flags.add('i');
  if (options.dotAll) flags.add('s');
  if (options.sticky) flags.add('y');
  if (options.global) flags.add('g');
  const { flags: inline, rest } = leadingInlineFlags(pattern);
  for (const f of inline) if (f === 'i' || f === 'm' || f === 's') flags.add(f);
  // Never null: these callbacks do not give up, V8 reports what it cannot read.
  const out = (
    translatePyRegex(rest, {
      escape(nx, at) {
        if (!at.inClass && nx === 'A') return '^';
        if (!at.inClass && nx === 'Z') return '$(?![\\s\\S])';
        return '\\' + nx;
      },
      char(ch, at) {
        if (at.src.startsWith('(?P<', at.i)) {
          at.i += 3;
          return '(?<';
        }
        const backref = ch === '(' ? /^\(\?P=(\w+)\)/.exec(at.src.slice(at.i)) : null;
        if (backref) {
          at.i += backref[0].length - 1;
          return `\\k<${backref[1]}>`;
        }
        if (ch === '$' && !flags.has('m')) return '(?=\\n?$)';
        return ch;
      },
    }) as { source: string }
  ).source;
  let re: RegExp;
  try {
    re = new RegExp(out, [...flags].join(''));
  } catch (err) {
    throw new SquallError(
      'REGEX_INVALID',
      `Invalid regular expression "${pattern}": ${(err as Error).message}`,
      { pattern },
    );
  }
  cache.set(key, re);
  return re;
}

/** Python `re.sub` replacement syntax → a function usable with String.prototype.replace. */
export function pyReplacement(replacement: string): (match: string, ...rest: unknown[]) => string {
  return (match: string, ...rest: unknown[]) => {
    const last = rest[rest.length - 1];
    const named =
      typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : {};
    const groups = rest.slice(0, typeof last === 'object' && last !== null ? -3 : -2) as Array<
      string | undefined
    >;
    const group = (ref: string): string => {
      if (/^\d+$/.test(ref)) {
        const n = Number(ref);
        if (n === 0) return match;
        if (n > groups.length)
          throw new SquallError(
            'REGEX_INVALID',
            `invalid group reference ${n} in replacement "${replacement}"`,
            { replacement },
          );
        return groups[n - 1] ?? '';
      }
      if (!(ref in named))
        throw new SquallError(
          'REGEX_INVALID',
          `unknown group name '${ref}' in replacement "${replacement}"`,
          { replacement },
        );
      return named[ref] ?? '';
    };
    let out = '';
    for (let i = 0; i < replacement.length; i++) {
      const ch = replacement[i];
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const rest2 = replacement.slice(i + 1);
      const g = /^g<(\w+)>/.exec(rest2);
      const d = /^\d{1,2}/.exec(rest2);
      if (g) {
        out += group(g[1]);
        i += g[0].length;
      } else if (d) {
        out += group(d[0]);
        i += d[0].length;
      } else {
        const nx = rest2[0] ?? '';
        const esc: Record<string, string> = {
          n: '\n',
          t: '\t',
          r: '\r',
          '\\': '\\',
          a: '\x07',
          f: '\f',
          v: '\v',
        };
        out += nx in esc ? esc[nx] : '\\' + nx;
        i += 1;
      }
    }
    return out;
  };
}

/** Python re.findall: whole matches, the single group, or tuples of groups. */
export function pyFindAll(matches: Iterable<RegExpExecArray>): unknown[] {
  const out: unknown[] = [];
  for (const m of matches) {
    if (m.length === 1) out.push(m[0]);
    else if (m.length === 2) out.push(m[1] ?? '');
    else out.push(pyTuple(m.slice(1).map((x) => x ?? '')));
  }
  return out;
}

/** Python fnmatch.translate: shell glob → anchored RegExp (`*`, `?`, `[seq]`, `[!seq]`). */
export function fnmatchRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*') out += '[\\s\\S]*';
    else if (ch === '?') out += '[\\s\\S]';
    else if (ch === '[') {
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) out += '\\[';
      else {
        let body = glob.slice(i + 1, j).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        else if (body.startsWith('^')) body = '\\' + body;
        out += '[' + body + ']';
        i = j;
      }
    } else out += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp('^' + out + '$');
}
