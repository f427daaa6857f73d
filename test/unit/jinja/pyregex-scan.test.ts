import { describe, expect, it } from 'vitest';
import { leadingInlineFlags, translatePyRegex } from '../../../src/workflows/expressions/jinja/index.js';
import type { PyRegexTranslator } from '../../../src/workflows/expressions/jinja/index.js';

/** Copies what it is given, and lists what it was given, to show what the walk hands over. */
function recorder(): PyRegexTranslator & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    escape(nx, at) {
      seen.push(`esc:${nx}${at.inClass ? ':class' : ''}`);
      return '\\' + nx;
    },
    char(ch) {
      seen.push(ch);
      return ch;
    },
  };
}

describe('the Python regex scanner both translators share', () => {
  it('splits off a leading group of Python inline flags only', () => {
    expect(leadingInlineFlags('(?is)a.b')).toEqual({ flags: 'is', rest: 'a.b' });
    expect(leadingInlineFlags('(?Q)a')).toEqual({ flags: '', rest: '(?Q)a' });
    expect(leadingInlineFlags('a(?i)')).toEqual({ flags: '', rest: 'a(?i)' });
  });

  it('hands over escapes in and out of classes, and copies a class as it is', () => {
    const t = recorder();
    expect(translatePyRegex('a\\d[^]x\\]$]b\\', t)).toEqual({
      source: 'a\\d[^\\]x\\]$]b\\',
      unclosed: false,
    });
    expect(t.seen).toEqual(['a', 'esc:d', 'esc:]:class', 'b', 'esc:']);
  });

  it('reports a class left open, and lets a callback consume more or give up', () => {
    expect(translatePyRegex('[ab', recorder())).toEqual({ source: '[ab', unclosed: true });
    const skip: PyRegexTranslator = {
      escape: (nx) => '\\' + nx,
      char(ch, at) {
        if (ch === '?') return null;
        if (!at.src.startsWith('(?P<', at.i)) return ch;
        at.i += 3;
        return '(?<';
      },
    };
    expect(translatePyRegex('(?P<n>a)', skip)?.source).toBe('(?<n>a)');
    expect(translatePyRegex('a?', skip)).toBeNull();
  });
});
