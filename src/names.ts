/**
 * Names and refs of content (actions, aliases, policies, rules, sensors, trigger types) and of
 * datastore keys.
 *
 * A ref is `<pack>.<name>` and splits at its first dot, as st2's ResourceReference does: pack
 * refs have no dots, names may (`slack.chat.postMessage` is action `chat.postMessage`).
 *
 * st2 only requires names to be strings. Squall also refuses what cannot be shown, logged or
 * typed faithfully: control characters (NUL…), format characters (bidi overrides, zero-width
 * joiners), lone surrogates, line and paragraph separators, and names longer than
 * NAME_MAX_LENGTH (no Exchange pack comes near it; MongoDB's index keys are bounded).
 */

export const NAME_MAX_LENGTH = 255;

const UNPRINTABLE = '\\p{Cc}\\p{Cf}\\p{Cs}\\p{Zl}\\p{Zp}';

/** JSON-schema pattern of a content name (ajv compiles patterns with the `u` flag): no whitespace. */
export const CONTENT_NAME_PATTERN = `^[^\\s${UNPRINTABLE}]+$`;
/**
 * JSON-schema pattern of a rule name: a content name whose words may be separated by spaces. st2
 * takes any string and Exchange packs name rules as sentences ("Setup ACI EPG" in cisco_aci);
 * a rule's ref is only looked up whole (API, CLI), never split out of a command line or template
 * as action refs are, so spaces cost nothing there. Leading, trailing and other whitespace stay out.
 */
export const RULE_NAME_PATTERN = `^[^\\s${UNPRINTABLE}]+(?: +[^\\s${UNPRINTABLE}]+)*$`;
/** JSON-schema pattern of a datastore key name: printable; spaces are allowed, as in st2. */
export const KEY_NAME_PATTERN = `^[^${UNPRINTABLE}]+$`;

const RULES: Record<string, string> = {
  [CONTENT_NAME_PATTERN]: 'printable characters without spaces (dots are allowed)',
  [RULE_NAME_PATTERN]: 'printable characters, words separated by spaces (dots are allowed)',
  [KEY_NAME_PATTERN]: 'printable characters (no control, bidi or zero-width characters)',
};

/** Words for a name pattern of this module, so a refusal says what is allowed rather than a regex. */
export function describeNamePattern(pattern: string): string | undefined {
  return RULES[pattern];
}

/** Why `name` is not an acceptable name (undefined when it is). */
export function nameProblem(name: unknown, kind: 'content' | 'key'): string | undefined {
  if (typeof name !== 'string' || name === '') return 'must be a non-empty string';
  if (name.length > NAME_MAX_LENGTH)
    return `is ${name.length} characters long; at most ${NAME_MAX_LENGTH} are allowed`;
  const pattern = kind === 'content' ? CONTENT_NAME_PATTERN : KEY_NAME_PATTERN;
  if (!new RegExp(pattern, 'u').test(name)) {
    const bad = [...name].find((ch) => !new RegExp(pattern, 'u').test(ch)) ?? '';
    const code = bad.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0');
    return `must be ${RULES[pattern]}; it contains U+${code}`;
  }
  return undefined;
}

/** `<pack>.<name>` split at its first dot; a ref without a dot is all pack. */
export function splitRef(ref: string): { pack: string; name: string } {
  const i = ref.indexOf('.');
  return i < 0 ? { pack: ref, name: '' } : { pack: ref.slice(0, i), name: ref.slice(i + 1) };
}
