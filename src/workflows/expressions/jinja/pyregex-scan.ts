/**
 * One walk over Python regex syntax, for the translators that turn a Python pattern into a
 * JavaScript one (pyregex.ts for V8's backtracking engine, linear-regex.ts for its linear one).
 *
 * The walk knows what both need alike: a leading inline-flag group `(?imsx)`, escapes (a
 * backslash takes the character after it, in or out of a class), and character classes (a
 * leading `^`, a leading `]` that Python reads as a literal and JavaScript as the end of the
 * class, and everything up to the closing `]` copied as it is). What an escape or a character
 * outside a class becomes is the translator's choice, made in its callbacks.
 */

/** Python's inline flags as a leading group, `(?i)`, `(?s)`, `(?imx)`: a, i, L, m, s, u, x. */
const LEADING_FLAGS = /^\(\?([aiLmsux]+)\)/;

/** A pattern's leading inline flags (`''` when it has none) and the pattern after them. */
export function leadingInlineFlags(pattern: string): { flags: string; rest: string } {
  const m = LEADING_FLAGS.exec(pattern);
  return m ? { flags: m[1], rest: pattern.slice(m[0].length) } : { flags: '', rest: pattern };
}

/** Where the walk stands; a callback that consumes more characters moves `i` past them. */
export interface PyRegexCursor {
  readonly src: string;
  /** Index of the character being translated (a backslash, for an escape). */
  i: number;
  readonly inClass: boolean;
}

export interface PyRegexTranslator {
  /**
   * A backslash and the character after it (`''` when the pattern ends on the backslash); both
   * are consumed. Returns the JavaScript for it, or null to give up on the whole pattern.
   */
  escape(next: string, at: PyRegexCursor): string | null;
  /** A character outside a class other than `\` and `[`: its JavaScript, or null to give up. */
  char(ch: string, at: PyRegexCursor): string | null;
}

/**
 * Walks `src` (a pattern without its leading inline flags) and returns the JavaScript source the
 * translator's callbacks build, or null when one gave up. `unclosed` is whether a class was still
 * open at the end (V8 then reports the pattern invalid).
 */
export function translatePyRegex(
  src: string,
  translator: PyRegexTranslator,
): { source: string; unclosed: boolean } | null {
  const at = { src, i: 0, inClass: false };
  let out = '';
  for (; at.i < src.length; at.i++) {
    const ch = src[at.i];
    if (ch === '\\') {
      const piece = translator.escape(src[at.i + 1] ?? '', at);
      if (piece === null) return null;
      out += piece;
      at.i++;
      continue;
    }
    if (at.inClass) {
      if (ch === ']') at.inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      at.inClass = true;
      out += ch;
      if (src[at.i + 1] === '^') out += src[++at.i];
      if (src[at.i + 1] === ']') out += '\\' + src[++at.i];
      continue;
    }
    const piece = translator.char(ch, at);
    if (piece === null) return null;
    out += piece;
  }
  return { source: out, unclosed: at.inClass };
}
