/**
 * YAML read as st2's from_yaml_string reads it: PyYAML's safe_load, which is YAML 1.1. js-yaml
 * reads YAML 1.2, where `yes`, `no`, `on` and `off` are strings and `010` is ten; PyYAML reads
 * True, False, True, False and eight, and `1_000` as a thousand. A date stays the text it was
 * (Python prints a date as it is written), and `1e3` (no dot) stays a string, as in PyYAML.
 */
import yaml from 'js-yaml';
import { loadYaml } from '../../../yaml.js';

const TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** Base 60 (`1:30` is 90), as PyYAML's construct_yaml_int and construct_yaml_float read it. */
function sexagesimal(digits: string): number {
  return digits.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

function signed(text: string): [number, string] {
  const clean = text.replace(/_/g, '');
  if (clean.startsWith('-')) return [-1, clean.slice(1)];
  return [1, clean.startsWith('+') ? clean.slice(1) : clean];
}

const bool = new yaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: string) => BOOL.test(data),
  construct: (data: string) => TRUE.test(data),
  predicate: (v: unknown) => typeof v === 'boolean',
});

const int = new yaml.Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: string) => INT.test(data),
  construct(data: string): number {
    const [sign, v] = signed(data);
    if (v === '0') return 0;
    if (v.startsWith('0b')) return sign * parseInt(v.slice(2), 2);
    if (v.startsWith('0x')) return sign * parseInt(v.slice(2), 16);
    if (v.startsWith('0')) return sign * parseInt(v, 8);
    if (v.includes(':')) return sign * sexagesimal(v);
    return sign * Number(v);
  },
  predicate: (v: unknown) => typeof v === 'number' && Number.isInteger(v),
});

const float = new yaml.Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (data: string) => FLOAT.test(data),
  construct(data: string): number {
    const [sign, v] = signed(data.toLowerCase());
    if (v === '.inf') return sign * Infinity;
    if (v === '.nan') return NaN;
    if (v.includes(':')) return sign * sexagesimal(v);
    return sign * Number(v);
  },
  predicate: (v: unknown) => typeof v === 'number',
});

// js-yaml's own types (its typings leave `types` out).
const types = (yaml as unknown as { types: Record<string, yaml.Type> }).types;

const SCHEMA = yaml.FAILSAFE_SCHEMA.extend({
  implicit: [types.null, bool, int, float, types.merge],
  explicit: [types.binary, types.omap, types.pairs, types.set],
});

/** PyYAML's safe_load of a YAML text, with the alias bound every YAML from users gets. */
export function pyYamlLoad(text: string): unknown {
  // The bound is counted on the load that knows how (aliases share nodes the same way in both).
  if (text.includes('*')) loadYaml(text);
  return yaml.load(text, { schema: SCHEMA }) ?? null;
}

/* ------------------------------------------------------------------ dumping */

const NULL = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;
const BREAKS = '\n\x85\u2028\u2029';
const SPACE_OR_BREAK = '\0 \t\r\n\x85\u2028\u2029';
const ESCAPES: Record<string, string> = {
  '\0': '0',
  '\x07': 'a',
  '\x08': 'b',
  '\x09': 't',
  '\x0A': 'n',
  '\x0B': 'v',
  '\x0C': 'f',
  '\x0D': 'r',
  '\x1B': 'e',
  '"': '"',
  '\\': '\\',
  '\x85': 'N',
  '\xA0': '_',
  '\u2028': 'L',
  '\u2029': 'P',
};

/** Whether PyYAML's resolver reads the plain text back as a str (else it must be quoted). */
function resolvesToStr(text: string): boolean {
  return !(
    NULL.test(text) ||
    BOOL.test(text) ||
    INT.test(text) ||
    FLOAT.test(text) ||
    TIMESTAMP.test(text) ||
    text === '<<' ||
    text === '='
  );
}

interface Analysis {
  empty: boolean;
  multiline: boolean;
  blockPlain: boolean;
  singleQuoted: boolean;
}

/** PyYAML's Emitter.analyze_scalar, for the styles block context can choose (allow_unicode on). */
function analyzeScalar(s: string): Analysis {
  if (!s) return { empty: true, multiline: false, blockPlain: true, singleQuoted: true };
  let blockIndicators = s.startsWith('---') || s.startsWith('...');
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let precededByWhitespace = true;
  let followedByWhitespace = s.length === 1 || SPACE_OR_BREAK.includes(s[1]);
  let previousSpace = false;
  let previousBreak = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) blockIndicators = true;
      if ('?:'.includes(ch) && followedByWhitespace) blockIndicators = true;
      if (ch === '-' && followedByWhitespace) blockIndicators = true;
    } else {
      if (ch === ':' && followedByWhitespace) blockIndicators = true;
      if (ch === '#' && precededByWhitespace) blockIndicators = true;
    }
    if (BREAKS.includes(ch)) lineBreaks = true;
    const code = ch.charCodeAt(0);
    if (!(ch === '\n' || (code >= 0x20 && code <= 0x7e))) {
      const printable =
        (code === 0x85 || (code >= 0xa0 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd)) &&
        code !== 0xfeff;
      // libyaml counts nothing beyond the BMP as printable: such a string is double-quoted, escaped.
      if (!printable) special = true;
    }
    if (ch === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === s.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (BREAKS.includes(ch)) {
      if (i === 0) leadingBreak = true;
      if (i === s.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = SPACE_OR_BREAK.includes(ch);
    followedByWhitespace = i + 2 >= s.length || SPACE_OR_BREAK.includes(s[i + 2]);
  }
  let blockPlain = !(leadingSpace || leadingBreak || trailingSpace || trailingBreak);
  let singleQuoted = true;
  if (breakSpace) blockPlain = singleQuoted = false;
  if (spaceBreak || special) blockPlain = singleQuoted = false;
  if (lineBreaks || blockIndicators) blockPlain = false;
  return { empty: false, multiline: lineBreaks, blockPlain, singleQuoted };
}

/**
 * PyYAML's emitter (as st2's to_yaml_string calls it: block style, keys sorted, width 80,
 * allow_unicode) for JSON-shaped values: PyYAML never writes a `|` block, quotes a multi-line
 * string in single quotes (a line break as an empty line) and folds long lines at 80 columns.
 */
export function pyYamlDump(value: unknown, indentArg: unknown = null): string {
  const bestIndent = typeof indentArg === 'number' && indentArg > 1 && indentArg < 10 ? indentArg : 2;
  const width = 80;
  let out = '';
  let column = 0;
  let indent: number | null = null;
  const indents: Array<number | null> = [];
  let whitespace = true;
  let indention = true;

  const write = (data: string): void => {
    out += data;
    column += data.length;
  };
  const lineBreak = (): void => {
    whitespace = true;
    indention = true;
    out += '\n';
    column = 0;
  };
  const writeIndent = (): void => {
    const ind = indent ?? 0;
    if (!indention || column > ind || (column === ind && !whitespace)) lineBreak();
    if (column < ind) {
      whitespace = true;
      out += ' '.repeat(ind - column);
      column = ind;
    }
  };
  const indicator = (ind: string, needWhitespace: boolean, ws = false, indn = false): void => {
    write(whitespace || !needWhitespace ? ind : ' ' + ind);
    whitespace = ws;
    indention = indention && indn;
  };
  const increaseIndent = (flow: boolean, indentless = false): void => {
    indents.push(indent);
    if (indent === null) indent = flow ? bestIndent : 0;
    else if (!indentless) indent += bestIndent;
  };

  const writePlain = (text: string, split: boolean): void => {
    if (!text) return;
    if (!whitespace) write(' ');
    whitespace = false;
    indention = false;
    let spaces = false;
    let start = 0;
    for (let end = 0; end <= text.length; end++) {
      const ch = end < text.length ? text[end] : null;
      if (spaces) {
        if (ch !== ' ') {
          if (start + 1 === end && column > width && split) {
            writeIndent();
            whitespace = false;
            indention = false;
          } else write(text.slice(start, end));
          start = end;
        }
      } else if (ch === null || ch === ' ') {
        write(text.slice(start, end));
        start = end;
      }
      if (ch !== null) spaces = ch === ' ';
    }
  };

  const writeSingleQuoted = (text: string, split: boolean): void => {
    indicator("'", true);
    let spaces = false;
    let breaks = false;
    let start = 0;
    for (let end = 0; end <= text.length; end++) {
      const ch = end < text.length ? text[end] : null;
      if (spaces) {
        if (ch === null || ch !== ' ') {
          if (start + 1 === end && column > width && split && start !== 0 && end !== text.length)
            writeIndent();
          else write(text.slice(start, end));
          start = end;
        }
      } else if (breaks) {
        if (ch === null || !BREAKS.includes(ch)) {
          if (text[start] === '\n') lineBreak();
          for (const br of text.slice(start, end)) {
            if (br === '\n') lineBreak();
            else {
              lineBreak();
              out = out.slice(0, -1) + br;
            }
          }
          writeIndent();
          start = end;
        }
      } else if (ch === null || ` ${BREAKS}'`.includes(ch)) {
        if (start < end) {
          write(text.slice(start, end));
          start = end;
        }
      }
      if (ch === "'") {
        write("''");
        start = end + 1;
      }
      if (ch !== null) {
        spaces = ch === ' ';
        breaks = BREAKS.includes(ch);
      }
    }
    indicator("'", false);
  };

  // libyaml's double-quoted writer (st2's CSafeDumper): a long line folds at a space, escaped
  // characters as \n, \t, \xXX, \uXXXX.
  const writeDoubleQuoted = (text: string, split: boolean): void => {
    indicator('"', true);
    let spaces = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      const code = ch.charCodeAt(0);
      const printable =
        code === 0x0a ||
        (code >= 0x20 && code <= 0x7e) ||
        code === 0x85 ||
        (code >= 0xa0 && code <= 0xd7ff) ||
        (code >= 0xe000 && code <= 0xfffd);
      if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
        write('\\U' + (text.codePointAt(i) ?? 0).toString(16).toUpperCase().padStart(8, '0'));
        i += 1;
        spaces = false;
      } else if (
        !printable ||
        code === 0xfeff ||
        BREAKS.includes(ch) ||
        ch === '\r' ||
        ch === '"' ||
        ch === '\\'
      ) {
        const hex = (n: number, w: number): string => n.toString(16).toUpperCase().padStart(w, '0');
        write(
          ESCAPES[ch] !== undefined
            ? '\\' + ESCAPES[ch]
            : code <= 0xff
              ? '\\x' + hex(code, 2)
              : '\\u' + hex(code, 4),
        );
        spaces = false;
      } else if (ch === ' ') {
        if (split && !spaces && column > width && i !== 0 && i !== text.length - 1) {
          writeIndent();
          if (text[i + 1] === ' ') write('\\');
        } else write(' ');
        spaces = true;
      } else {
        write(ch);
        spaces = false;
      }
    }
    whitespace = false;
    indention = false;
    indicator('"', false);
  };

  const scalar = (text: string, implicit: boolean, simpleKey: boolean): void => {
    increaseIndent(true);
    const a = analyzeScalar(text);
    const split = !simpleKey;
    if (implicit && !(simpleKey && (a.empty || a.multiline)) && a.blockPlain) writePlain(text, split);
    else if (a.singleQuoted && !(simpleKey && a.multiline)) writeSingleQuoted(text, split);
    else writeDoubleQuoted(text, split);
    indent = indents.pop() ?? null;
  };

  const node = (v: unknown, ctx: { mapping?: boolean; simpleKey?: boolean }): void => {
    if (Array.isArray(v)) {
      if (v.length === 0) {
        indicator('[', true, true);
        indicator(']', false);
        return;
      }
      increaseIndent(false, Boolean(ctx.mapping) && !indention);
      for (const item of v) {
        writeIndent();
        indicator('-', true, false, true);
        node(item, {});
      }
      indent = indents.pop() ?? null;
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v).sort();
      if (keys.length === 0) {
        indicator('{', true, true);
        indicator('}', false);
        return;
      }
      increaseIndent(false);
      for (const k of keys) {
        writeIndent();
        const a = analyzeScalar(k);
        if (k.length < 128 && !a.empty && !a.multiline) {
          scalar(k, resolvesToStr(k), true);
          indicator(':', false);
        } else {
          // PyYAML's complex key: `? key` on its own line, then `: value`.
          indicator('?', true, false, true);
          scalar(k, resolvesToStr(k), false);
          writeIndent();
          indicator(':', true, false, true);
        }
        node((v as Record<string, unknown>)[k], { mapping: true });
      }
      indent = indents.pop() ?? null;
    } else if (typeof v === 'string') scalar(v, resolvesToStr(v), Boolean(ctx.simpleKey));
    else if (v === null || v === undefined) scalar('null', true, false);
    else if (typeof v === 'boolean') scalar(v ? 'true' : 'false', true, false);
    else if (typeof v === 'number')
      scalar(
        Number.isNaN(v) ? '.nan' : v === Infinity ? '.inf' : v === -Infinity ? '-.inf' : String(v),
        true,
        false,
      );
    else scalar(String(v), resolvesToStr(String(v)), false);
  };

  node(value, {});
  lineBreak();
  return out;
}
