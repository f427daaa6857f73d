import { SquallError } from '../src/errors.js';
import { hasDisplay, normaliseFormats } from './formats.js';
import { compileSearchRegex } from './regex.js';
import { isEnabled, type AliasLike } from './types.js';

export interface HelpString {
  pack: string;
  display: string;
  description: string;
}

export interface HelpResult {
  /** How many help strings matched the filter and pack (before limit/offset). */
  available: number;
  helpstrings: HelpString[];
}

export interface HelpOptions {
  /** Case-insensitive regular expression searched in each display string. */
  filter?: string;
  pack?: string;
  /** 0 = no limit. */
  limit?: number;
  offset?: number;
}

/**
 * `GET /actionalias/help` (st2-reference.md §5.6, st2's `generate_helpstring_result`): one help
 * string per format that has a display, disabled aliases skipped, in alias order. `available`
 * counts every match; `limit`/`offset` select the page returned.
 */
export function buildHelp(aliases: AliasLike[], options: HelpOptions = {}): HelpResult {
  const limit = options.limit ?? 0;
  const offset = options.offset ?? 0;
  for (const [name, value] of [
    ['limit', limit],
    ['offset', offset],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) {
      throw new SquallError(
        'ALIAS_HELP_PAGING',
        `Help "${name}" must be a whole number of 0 or more, got ${value}`,
        {
          [name]: value,
        },
      );
    }
  }
  const filter = compileSearchRegex(options.filter ?? '', 'Help filter');
  const helpstrings: HelpString[] = [];
  let available = 0;
  for (const alias of aliases) {
    if (!isEnabled(alias)) continue;
    if (options.pack && options.pack !== alias.pack) continue;
    normaliseFormats(alias).forEach((format, index) => {
      if (!hasDisplay(alias.formats[index]) || !filter.test(format.display)) return;
      if (available >= offset && (limit === 0 || available < offset + limit)) {
        helpstrings.push({ pack: alias.pack, display: format.display, description: alias.description ?? '' });
      }
      available++;
    });
  }
  return { available, helpstrings };
}

export interface HelpTextOptions {
  /** What users type before a command in this chat (default `!`). */
  prefix?: string;
  /** 1-based page of `help.helpstrings` to show (default 1). */
  page?: number;
  /** Commands per page (default 20). */
  pageSize?: number;
}

/**
 * A display string as people read it in chat: a required `{{app}}` becomes `<app>`, one with a
 * default (`{{stage=staging}}`) becomes `[stage]`. The API keeps st2's raw display.
 */
export function humanDisplay(display: string): string {
  return display.replace(/\{\{\s*([\w.-]+)\s*(=[^}]*)?\}\}/g, (_m, name: string, dflt?: string) =>
    dflt === undefined ? `<${name}>` : `[${name}]`,
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Plain-text help for chat: commands grouped by pack (packs in name order, commands in alias
 * order), one page at a time, with a footer saying how to see the next page.
 */
export function renderHelpText(help: HelpResult, options: HelpTextOptions = {}): string {
  const prefix = options.prefix ?? '!';
  const pageSize = Math.max(1, Math.floor(options.pageSize ?? 20));
  const page = Math.max(1, Math.floor(options.page ?? 1));
  const items = help.helpstrings
    .map((h, order) => ({ h, order }))
    .sort((a, b) => compare(a.h.pack, b.h.pack) || a.order - b.order)
    .map((x) => x.h);
  if (items.length === 0) return 'No commands match.';
  const pages = Math.ceil(items.length / pageSize);
  if (page > pages)
    return `There is no page ${page}: ${items.length} commands fit on ${pages} page${pages === 1 ? '' : 's'}.`;

  const shown = items.slice((page - 1) * pageSize, page * pageSize);
  const lines: string[] = [];
  lines.push(
    pages > 1
      ? `Available commands (${items.length}), page ${page} of ${pages}:`
      : `Available commands (${items.length}):`,
  );
  let pack: string | undefined;
  for (const item of shown) {
    if (item.pack !== pack) {
      pack = item.pack;
      lines.push('', `[${pack}]`);
    }
    lines.push(`  ${prefix}${humanDisplay(item.display)}${item.description ? ` - ${item.description}` : ''}`);
  }
  if (page < pages) lines.push('', `More: ${prefix}help page ${page + 1}`);
  return lines.join('\n');
}
