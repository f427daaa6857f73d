import { AliasFormatError } from './errors.js';

/**
 * Alias formats are Python regular expressions (StackStorm compiles them with `re`). This module
 * rewrites one into JavaScript syntax and, while walking it, answers the question st2's
 * `search_regex_tokens` answers: does the expression already carry a start anchor (`^`, `\A`) or
 * an end anchor (`$`, `\Z`)? Like st2 (which walks `sre_parse` tokens) we look at the top level and
 * inside plain groups, through alternations; anchors inside lookarounds or inside quantified groups
 * (`(...)?`) do not count.
 */

/** Marker that introduces a placeholder group name; chat formats never contain NUL. */
export const PLACEHOLDER_MARK = '\u0000';

export interface TranslatedRegex {
  /** JavaScript source, without the anchors st2 adds. */
  source: string;
  /** Parameter name for each internal group `a<index>`. */
  groupParams: string[];
  hasStart: boolean;
  hasEnd: boolean;
  ignoreCase: boolean;
}

interface Walk {
  out: string;
  start: boolean;
  end: boolean;
}

const QUANTIFIER_BRACE = /^\{(\d*)(,?)(\d*)\}/;

class Translator {
  private i = 0;
  readonly groupParams: string[] = [];
  ignoreCase = false;

  constructor(
    private readonly src: string,
    private readonly placeholders: readonly string[],
    /** Names the expression in error messages, e.g. `Format string "deploy {{app}}"`. */
    private readonly label: string,
    private readonly context: Record<string, unknown>,
  ) {}

  run(): TranslatedRegex {
    const walk = this.parseAlternation(0);
    if (this.i < this.src.length) this.fail('unbalanced parenthesis');
    return {
      source: walk.out,
      groupParams: this.groupParams,
      hasStart: walk.start,
      hasEnd: walk.end,
      ignoreCase: this.ignoreCase,
    };
  }

  private fail(why: string): never {
    // The position refers to the expression after placeholder substitution.
    throw new AliasFormatError(`${this.label} is not a valid regular expression: ${why}`, {
      ...this.context,
      position: this.i,
    });
  }

  private parseAlternation(depth: number): Walk {
    const result: Walk = { out: '', start: false, end: false };
    for (;;) {
      const seq = this.parseSequence(depth);
      result.out += seq.out;
      result.start ||= seq.start;
      result.end ||= seq.end;
      if (this.src[this.i] !== '|') return result;
      result.out += '|';
      this.i++;
    }
  }

  private parseSequence(depth: number): Walk {
    const result: Walk = { out: '', start: false, end: false };
    const src = this.src;
    while (this.i < src.length) {
      const c = src[this.i];
      if (c === '|') return result;
      if (c === ')') {
        if (depth === 0) this.fail('unbalanced parenthesis');
        return result;
      }
      if (c === '(') {
        const group = this.parseGroup(depth);
        result.out += group.out;
        result.start ||= group.start;
        result.end ||= group.end;
      } else if (c === '[') {
        result.out += this.parseClass();
      } else if (c === '\\') {
        const next = src[this.i + 1];
        if (next === undefined) this.fail('trailing backslash');
        this.i += 2;
        if (next === 'A') {
          result.out += '^';
          result.start = true;
        } else if (next === 'Z' || next === 'z') {
          result.out += '$';
          result.end = true;
        } else {
          result.out += '\\' + next;
        }
      } else if (c === '^') {
        result.out += '^';
        result.start = true;
        this.i++;
      } else if (c === '$') {
        // Python's `$` also matches just before a trailing newline.
        result.out += '(?=\\n?$)';
        result.end = true;
        this.i++;
      } else if (c === '{') {
        const q = QUANTIFIER_BRACE.exec(src.slice(this.i));
        if (q && (q[1] !== '' || q[3] !== '')) {
          result.out += `{${q[1] === '' ? '0' : q[1]}${q[2]}${q[3]}}`;
          this.i += q[0].length;
        } else {
          result.out += '\\{';
          this.i++;
        }
      } else if (c === '}') {
        result.out += '\\}';
        this.i++;
      } else {
        result.out += c;
        this.i++;
      }
    }
    return result;
  }

  private followedByQuantifier(): boolean {
    const c = this.src[this.i];
    if (c === '*' || c === '+' || c === '?') return true;
    if (c === '{') {
      const q = QUANTIFIER_BRACE.exec(this.src.slice(this.i));
      return q !== null && (q[1] !== '' || q[3] !== '');
    }
    return false;
  }

  private readName(terminator: string): string {
    const end = this.src.indexOf(terminator, this.i);
    if (end < 0) this.fail(`missing "${terminator}" after group name`);
    const name = this.src.slice(this.i, end);
    this.i = end + 1;
    if (name === '') this.fail('missing group name');
    return name;
  }

  private namedGroup(rawName: string): string {
    const param = rawName.startsWith(PLACEHOLDER_MARK)
      ? this.placeholders[Number(rawName.slice(1))]
      : rawName;
    if (param === undefined) this.fail(`unknown placeholder ${JSON.stringify(rawName)}`);
    this.groupParams.push(param);
    return `(?<a${this.groupParams.length - 1}>`;
  }

  private parseGroup(depth: number): Walk {
    const src = this.src;
    this.i++; // "("
    let open = '(';
    let walked = true;
    if (src[this.i] === '?') {
      const kind = src[this.i + 1];
      if (kind === ':') {
        open = '(?:';
        this.i += 2;
      } else if (kind === 'P' && src[this.i + 2] === '<') {
        this.i += 3;
        open = this.namedGroup(this.readName('>'));
      } else if (kind === 'P' && src[this.i + 2] === '=') {
        this.i += 3;
        const name = this.readName(')');
        const index = this.groupParams.lastIndexOf(name);
        if (index < 0) this.fail(`unknown group name "${name}" in back-reference`);
        return { out: `\\k<a${index}>`, start: false, end: false };
      } else if (kind === '<' && (src[this.i + 2] === '=' || src[this.i + 2] === '!')) {
        open = src.slice(this.i - 1, this.i + 3);
        this.i += 3;
        walked = false;
      } else if (kind === '<') {
        // JavaScript spelling of a named group; Python would reject it, we accept it.
        this.i += 2;
        open = this.namedGroup(this.readName('>'));
      } else if (kind === '=' || kind === '!') {
        open = src.slice(this.i - 1, this.i + 2);
        this.i += 2;
        walked = false;
      } else if (kind === '#') {
        const end = src.indexOf(')', this.i);
        if (end < 0) this.fail('missing ")" after comment');
        this.i = end + 1;
        return { out: '', start: false, end: false };
      } else if (kind !== undefined && /[aiLmsux-]/.test(kind)) {
        const m = /^([aiLmsux]*)(?:-([imsx]*))?([):])/.exec(src.slice(this.i + 1));
        if (!m) this.fail('unknown flag group');
        if (m[3] === ':' || m[2] !== undefined)
          this.fail(`scoped inline flags "(?${m[0]}" are not supported`);
        for (const flag of m[1]) {
          if (flag === 'i') this.ignoreCase = true;
          else if (flag === 'm' || flag === 'x') this.fail(`inline flag "${flag}" is not supported`);
        }
        this.i += 1 + m[0].length;
        return { out: '', start: false, end: false };
      } else {
        this.fail(`unsupported group extension "(?${kind ?? ''}"`);
      }
    }
    const inner = this.parseAlternation(depth + 1);
    if (src[this.i] !== ')') this.fail('missing ")"');
    this.i++;
    const counts = walked && !this.followedByQuantifier();
    return { out: `${open}${inner.out})`, start: counts && inner.start, end: counts && inner.end };
  }

  private parseClass(): string {
    const src = this.src;
    let out = '[';
    this.i++;
    if (src[this.i] === '^') {
      out += '^';
      this.i++;
    }
    // Python treats a "]" right after "[" or "[^" as a literal; JavaScript would read "[]" as empty.
    if (src[this.i] === ']') {
      out += '\\]';
      this.i++;
    }
    while (this.i < src.length && src[this.i] !== ']') {
      if (src[this.i] === '\\') {
        if (this.i + 1 >= src.length) this.fail('trailing backslash');
        out += src.slice(this.i, this.i + 2);
        this.i += 2;
      } else {
        out += src[this.i] === '[' ? '\\[' : src[this.i];
        this.i++;
      }
    }
    if (this.i >= src.length) this.fail('unterminated character set');
    this.i++;
    return out + ']';
  }
}

/**
 * Rewrites a Python regular expression (after placeholder substitution) into JavaScript.
 * Named groups become `a<index>`; `groupParams[index]` names the parameter each one fills.
 */
export function translatePythonRegex(
  src: string,
  placeholders: readonly string[],
  label: string,
  context: Record<string, unknown> = {},
): TranslatedRegex {
  return new Translator(src, placeholders, label, context).run();
}

/** Compiles a user-supplied Python regex (e.g. a help filter), case-insensitive. */
export function compileSearchRegex(pattern: string, what: string): RegExp {
  const translated = translatePythonRegex(pattern, [], `${what} "${pattern}"`, { pattern });
  try {
    return new RegExp(translated.source, 'is');
  } catch (err) {
    throw new AliasFormatError(
      `${what} "${pattern}" is not a valid regular expression: ${(err as Error).message}`,
      {
        pattern,
        what,
      },
    );
  }
}
