import { describe, expect, it } from 'vitest';
import { stackstormVersionMatches } from '../../../src/content/semver.js';

// The ranges pack.yaml files give (st2's fixtures and docs), read as st2's complex_semver_match does.
describe("a pack's stackstorm_version against a release", () => {
  it.each([
    ['all', '3.9.0', true],
    ['>=3.0.0', '3.9.0', true],
    ['>=3.10.0', '3.9.0', false],
    ['>=1.6.0, <2.2.0', '3.9.0', false],
    ['>=1.6.0, <2.2.0', '2.1.9', true],
    ['>1.6.0,<=3.9.0', '3.9.0', true],
    ['3.9.0', '3.9.0', true],
    ['==3.8.0', '3.9.0', false],
    ['!=3.8.0', '3.9.0', true],
    ['<3.9.0', '3.9.0-rc.1', true],
    ['>=3.9.0-rc.2', '3.9.0-rc.10', true],
  ])('%s with %s: %s', (spec, version, fits) => {
    expect(stackstormVersionMatches(spec, version)).toBe(fits);
  });

  it('refuses a part that is not <op><MAJOR.MINOR.PATCH>, naming it', () => {
    for (const spec of ['>=3.4', '~3.0.0', '=3.9.0', '>=3.0.0, latest'])
      expect(() => stackstormVersionMatches(spec, '3.9.0')).toThrow(
        expect.objectContaining({ code: 'STACKSTORM_VERSION_INVALID' }),
      );
  });
});
