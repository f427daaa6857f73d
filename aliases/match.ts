import { SquallError } from '../src/errors.js';
import { AliasParseError } from './errors.js';
import { normaliseFormats } from './formats.js';
import { parseDetailed } from './parser.js';
import { aliasRef, isEnabled, type AliasFormat, type AliasLike, type AliasParameters } from './types.js';

interface MatchCommon {
  alias: AliasLike;
  /** The original entry of `alias.formats`. */
  format: AliasFormat;
  display: string;
  /** The representation that matched (send it back as `format` when executing, like hubot). */
  representation: string;
  /** Literal (non-placeholder) characters the representation matched; higher wins. */
  specificity: number;
}

export interface SingleCandidate extends MatchCommon {
  matchMultiple: false;
  parameters: AliasParameters;
}

export interface MultipleCandidate extends MatchCommon {
  matchMultiple: true;
  /** One parameter set per match: one execution each. */
  parameters: AliasParameters[];
}

export type AliasCandidate = SingleCandidate | MultipleCandidate;

export interface AliasSuggestion {
  alias: AliasLike;
  display: string;
  /** 0..1, how much of the display's words the command contains (typos tolerated). */
  score: number;
}

/** A representation that could not be compiled; reported, not fatal to matching the others. */
export interface SkippedFormat {
  ref: string;
  representation: string;
  error: SquallError;
}

export type AliasMatch =
  | ({ kind: 'match'; skipped: SkippedFormat[] } & AliasCandidate)
  | { kind: 'ambiguous'; message: string; candidates: AliasCandidate[]; skipped: SkippedFormat[] }
  | { kind: 'none'; message: string; suggestions: AliasSuggestion[]; skipped: SkippedFormat[] };

export interface MatchOptions {
  /** How many suggestions to offer when nothing matches (default 3). */
  suggestions?: number;
}

/**
 * The enabled aliases with their formats. An alias whose formats do not parse is left out; it
 * goes to `skipped` when the caller reports such aliases.
 */
function* enabledFormats(
  aliases: AliasLike[],
  skipped?: SkippedFormat[],
): Generator<{ alias: AliasLike; formats: ReturnType<typeof normaliseFormats> }> {
  for (const alias of aliases) {
    if (!isEnabled(alias)) continue;
    try {
      yield { alias, formats: normaliseFormats(alias) };
    } catch (err) {
      if (!(err instanceof SquallError)) throw err;
      skipped?.push({ ref: aliasRef(alias), representation: '', error: err });
    }
  }
}

function collect(
  aliases: AliasLike[],
  command: string,
  multiple: boolean,
  skipped: SkippedFormat[],
): AliasCandidate[] {
  const found: AliasCandidate[] = [];
  for (const { alias, formats } of enabledFormats(aliases, skipped)) {
    formats.forEach((normalised, index) => {
      if (normalised.matchMultiple !== multiple) return;
      for (const representation of normalised.representation) {
        let parsed;
        try {
          parsed = parseDetailed(representation, command, multiple);
        } catch (err) {
          if (err instanceof AliasParseError) continue;
          if (!(err instanceof SquallError)) throw err;
          skipped.push({ ref: aliasRef(alias), representation, error: err });
          continue;
        }
        const common = {
          alias,
          format: alias.formats[index],
          display: normalised.display,
          representation,
          specificity: parsed.literal,
        };
        found.push(
          multiple
            ? { ...common, matchMultiple: true, parameters: parsed.parameters }
            : { ...common, matchMultiple: false, parameters: parsed.parameters[0] },
        );
      }
    });
  }
  return found;
}

/** Keeps the most specific candidates; one per alias (an alias's own formats never compete). */
function best(found: AliasCandidate[]): AliasCandidate[] {
  const top = Math.max(...found.map((c) => c.specificity));
  const seen = new Set<AliasLike>();
  return found.filter((c) => {
    if (c.specificity !== top || seen.has(c.alias)) return false;
    seen.add(c.alias);
    return true;
  });
}

/**
 * Finds the alias a chat command means (st2-reference.md §5.3, server side, improved). Every
 * representation of every enabled alias is tried with st2's parser. Where st2 gives up when more
 * than one matches, Squall keeps the most specific (most literal text matched) and only reports
 * `ambiguous` when different aliases stay tied. When nothing matches, `match_multiple` formats are
 * tried (find-all: one parameter set per match); after that, `none` with the closest aliases.
 */
export function matchAlias(aliases: AliasLike[], command: string, options: MatchOptions = {}): AliasMatch {
  const skipped: SkippedFormat[] = [];
  for (const multiple of [false, true]) {
    const found = collect(aliases, command, multiple, skipped);
    if (found.length === 0) continue;
    const winners = best(found);
    if (winners.length === 1) return { kind: 'match', skipped, ...winners[0] };
    return {
      kind: 'ambiguous',
      message: `Command '${command}' matched more than 1 ${multiple ? '(multi) ' : ''}pattern`,
      candidates: winners,
      skipped,
    };
  }
  return {
    kind: 'none',
    message: `Command '${command}' matched no patterns`,
    suggestions: suggestAliases(aliases, command, options.suggestions ?? 3),
    skipped,
  };
}

function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}_-]+/gu) ?? []).filter((w) => w !== '-' && w !== '_');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

/** Code-unit order: unlike localeCompare it does not depend on the machine's locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const CLOSE_ENOUGH = 0.7;

function wordSimilarity(a: string, b: string): number {
  // The distance is at least the difference in length: skip pairs that cannot come close enough
  // (a 4,000-character word against every alias word cost seconds of edit distances).
  if (Math.min(a.length, b.length) < CLOSE_ENOUGH * Math.max(a.length, b.length)) return 0;
  const similarity = 1 - editDistance(a, b) / Math.max(a.length, b.length);
  return similarity >= CLOSE_ENOUGH ? similarity : 0;
}

/** The words a user would type for a display string: placeholders and regex groups removed. */
function displayWords(display: string): string[] {
  const literal = display
    .replace(/\{\{[\s\S]*?\}\}\s*\}\}|\{\{[\s\S]*?\}\}/g, ' ')
    .replace(/\(\?P?<[^>]*>[^)]*\)/g, ' ')
    .replace(/\\[a-zA-Z]/g, ' ');
  return words(literal);
}

/**
 * Ranks aliases by how much of their display text the command contains: each display word scores
 * its best similarity (1 - edit distance / length, ignored below 0.7) against the command's words,
 * averaged over the display's words. Ties break on alias ref then display, so the order is stable.
 */
export function suggestAliases(aliases: AliasLike[], command: string, limit = 3): AliasSuggestion[] {
  const typed = [...new Set(words(command))];
  // Aliases share words ("deploy", "to"): each is scored against the command once.
  const best = new Map<string, number>();
  const bestOf = (w: string): number => {
    let score = best.get(w);
    if (score === undefined) best.set(w, (score = Math.max(...typed.map((t) => wordSimilarity(w, t)))));
    return score;
  };
  const scored: AliasSuggestion[] = [];
  for (const { alias, formats } of enabledFormats(aliases)) {
    let winner: AliasSuggestion | undefined;
    for (const { display } of formats) {
      const wanted = displayWords(display);
      if (wanted.length === 0 || typed.length === 0) continue;
      const total = wanted.reduce((sum, w) => sum + bestOf(w), 0);
      const score = Math.round((total / wanted.length) * 1000) / 1000;
      if (score > 0 && (!winner || score > winner.score)) winner = { alias, display, score };
    }
    if (winner) scored.push(winner);
  }
  scored.sort(
    (a, b) =>
      b.score - a.score ||
      compareText(aliasRef(a.alias), aliasRef(b.alias)) ||
      compareText(a.display, b.display),
  );
  return scored.slice(0, Math.max(0, limit));
}

/** A format whose leading words the command says, though the command does not fit it. */
export interface PartialMatch {
  alias: AliasLike;
  display: string;
}

/**
 * Formats a command starts like but does not fit, such as `deploy` or `deploy web` for
 * `deploy {{app}} to {{stage=staging}}`: the command names the alias and leaves out (or
 * misplaces) parameters, so the person needs its usage rather than "I don't know". Only the
 * plain words before a format's first placeholder count; the longest such lead wins.
 */
export function partialMatches(aliases: AliasLike[], command: string): PartialMatch[] {
  const said = command.trim().toLowerCase().replace(/\s+/g, ' ');
  let found: Array<PartialMatch & { lead: number }> = [];
  for (const { alias, formats } of enabledFormats(aliases)) {
    for (const { display } of formats) {
      const at = display.indexOf('{{');
      if (at <= 0) continue;
      const lead = display.slice(0, at).trim().toLowerCase().replace(/\s+/g, ' ');
      if (!lead || /[()[\]|?*+\\^$]/.test(lead)) continue;
      if (said !== lead && !said.startsWith(`${lead} `)) continue;
      if (!found.some((f) => f.alias === alias && f.display === display))
        found.push({ alias, display, lead: lead.length });
    }
  }
  const longest = Math.max(0, ...found.map((f) => f.lead));
  found = found.filter((f) => f.lead === longest);
  return found.map(({ alias, display }) => ({ alias, display }));
}
