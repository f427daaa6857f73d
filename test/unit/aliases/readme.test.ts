import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AliasParseError, extractParameters } from '../../../aliases/index.js';

// The README is user documentation and the chat integration tests replay its examples through
// `squall alias parse`, so every example must stay true.
const readme = readFileSync(fileURLToPath(new URL('../../../aliases/README.md', import.meta.url)), 'utf8');

interface Example {
  format: string;
  command: string;
  parameters?: Record<string, unknown>;
  error?: string;
}

function examples(): Example[] {
  const found: Example[] = [];
  for (const block of readme.matchAll(/```alias-example\n([\s\S]*?)```/g)) {
    const fields: Record<string, string> = {};
    for (const line of block[1].split('\n')) {
      const m = /^(format|command|parameters|error):\s?(.*)$/.exec(line);
      if (m) fields[m[1]] = m[2];
    }
    found.push({
      format: fields.format,
      command: fields.command,
      parameters:
        fields.parameters === undefined
          ? undefined
          : (JSON.parse(fields.parameters) as Record<string, unknown>),
      error: fields.error,
    });
  }
  return found;
}

describe('aliases/README.md examples', () => {
  const all = examples();

  it('has examples, each with a format, a command and one expected outcome', () => {
    expect(all.length).toBeGreaterThanOrEqual(15);
    for (const e of all) {
      expect(typeof e.format).toBe('string');
      expect(typeof e.command).toBe('string');
      expect((e.parameters === undefined) !== (e.error === undefined)).toBe(true);
    }
  });

  it.each(all.map((e) => [e.format, e.command, e] as const))('format %j, command %j', (_f, _c, e) => {
    if (e.parameters) {
      expect(extractParameters(e.format, e.command)).toEqual(e.parameters);
    } else {
      let code: string | undefined;
      try {
        extractParameters(e.format, e.command);
      } catch (err) {
        expect(err).toBeInstanceOf(AliasParseError);
        code = (err as AliasParseError).code;
      }
      expect(code).toBe(e.error);
    }
  });
});
