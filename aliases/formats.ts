import { AliasFormatError } from './errors.js';
import { aliasRef, type AliasFormat, type AliasLike, type NormalisedFormat } from './types.js';

/** True when the format entry carries its own help text (st2 only lists those in help). */
export function hasDisplay(format: AliasFormat): boolean {
  return typeof format === 'string'
    ? format !== ''
    : typeof format?.display === 'string' && format.display !== '';
}

/**
 * st2's `normalise_alias_format_string` for every entry of `alias.formats`: a string is its own
 * display and its only representation; an object gives `display`, `representation` (a string or a
 * list) and `match_multiple`. Where st2 would leave a hole we fill it: an object without
 * `display` shows its first representation, and one without `representation` matches its display
 * (st2 would match only an empty command there).
 */
export function normaliseFormats(alias: AliasLike): NormalisedFormat[] {
  const formats: unknown = alias.formats;
  if (!Array.isArray(formats)) {
    throw new AliasFormatError(`Alias "${aliasRef(alias)}": "formats" must be a list`, {
      alias: aliasRef(alias),
      field: 'formats',
    });
  }
  return formats.map((entry: unknown, index) => normaliseOne(alias, entry, index));
}

function normaliseOne(alias: AliasLike, entry: unknown, index: number): NormalisedFormat {
  const where = `Alias "${aliasRef(alias)}" formats[${index}]`;
  const context = { alias: aliasRef(alias), field: `formats[${index}]` };
  if (typeof entry === 'string') return { display: entry, representation: [entry], matchMultiple: false };
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new AliasFormatError(
      `${where} is neither a string nor an object with display/representation`,
      context,
    );
  }
  const { display, representation, match_multiple: matchMultiple } = entry as Record<string, unknown>;
  if (display !== undefined && display !== null && typeof display !== 'string') {
    throw new AliasFormatError(`${where}.display must be a string`, context);
  }
  let reps: string[];
  if (representation === undefined || representation === null) reps = [];
  else if (typeof representation === 'string') reps = [representation];
  else if (Array.isArray(representation) && representation.every((r) => typeof r === 'string')) {
    reps = representation as string[];
  } else {
    throw new AliasFormatError(`${where}.representation must be a string or a list of strings`, context);
  }
  if (matchMultiple !== undefined && matchMultiple !== null && typeof matchMultiple !== 'boolean') {
    throw new AliasFormatError(`${where}.match_multiple must be true or false`, context);
  }
  const shown = typeof display === 'string' && display !== '' ? display : reps[0];
  if (shown === undefined)
    throw new AliasFormatError(`${where} has neither display nor representation`, context);
  return {
    display: shown,
    representation: reps.length ? reps : [shown],
    matchMultiple: matchMultiple === true,
  };
}
