import { describe, expect, it } from 'vitest';
import {
  checkPatches,
  PATCH_PROBES,
  renderTemplate,
} from '../../../src/workflows/expressions/jinja/index.js';
import { nunjucksMethod } from '../../../src/workflows/expressions/jinja/patches.js';
import { SquallError } from '../../../src/errors.js';

// Each of Squall's changes to nunjucks, proved by one template Jinja2 renders otherwise than
// nunjucks alone: if a nunjucks upgrade made a patch stop applying, its probe fails here.
describe('the nunjucks patches still apply', () => {
  it.each(PATCH_PROBES)('$patch: $template renders $expected', ({ template, expected }) => {
    expect(renderTemplate(template, {})).toBe(expected);
  });

  it('a probe that renders otherwise fails with the name of its patch', () => {
    const probes = [{ patch: 'loop scope', template: '{{ 1 }}', expected: '2' }];
    let caught: unknown;
    try {
      checkPatches((t) => renderTemplate(t, {}), probes);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SquallError);
    expect((caught as SquallError).code).toBe('JINJA_PATCH_MISMATCH');
    expect((caught as SquallError).message).toContain("the Jinja patch 'loop scope' no longer applies");
    expect((caught as SquallError).message).toContain("('2', not '1')");
  });

  it('a nunjucks method a patch needs and nunjucks lacks is named', () => {
    expect(() => nunjucksMethod({}, 'compileFor', 'loop scope')).toThrow(
      "the Jinja patch 'loop scope' no longer applies to this nunjucks version: it did not find nunjucks' compileFor()",
    );
  });
});
