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
    // The strings the Exchange packs of README's acceptance table give (bitbucket, vsphere,
    // cisco_spark): each installs on st2 3.9 (python-semver 3.0.4's match, checked 2026-12-07).
    ['>=2.1.0', '3.9.0', true],
    ['>=2.9.0', '3.9.0', true],
    ['>=3.0.0,<4.0.0', '3.9.0', true],
    ['>=3.0.0,', '3.9.0', true],
    // The parts of a comma-separated spec are stripped (st2 too); python-semver's `$` takes one
    // trailing newline.
    [' >=3.0.0, <4.0.0', '3.9.0', true],
    ['>=3.0.0\n', '3.9.0', true],
  ])('%s with %s: %s', (spec, version, fits) => {
    expect(stackstormVersionMatches(spec, version)).toBe(fits);
  });

  it('refuses a part that is not <op><MAJOR.MINOR.PATCH>, naming it', () => {
    // st2's own fixture dummy_pack_10 gives `wrongstackstormversion`; the others are spellings other
    // tools accept that python-semver's match refuses with a ValueError (st2 refuses the install).
    for (const spec of [
      '>=3.4',
      '~3.0.0',
      '=3.9.0',
      '>=3.0.0, latest',
      'wrongstackstormversion',
      '>=3.0.0,<4',
      '^3.1',
      '3.x',
      '>= 3.0.0',
      // A single spec goes to semver as written: st2 refuses blanks inside the quotes.
      ' >=3.0.0',
      '>=3.0.0 ',
      ' all',
      'all ',
    ])
      expect(() => stackstormVersionMatches(spec, '3.9.0')).toThrow(
        expect.objectContaining({ code: 'STACKSTORM_VERSION_INVALID' }),
      );
  });
});
