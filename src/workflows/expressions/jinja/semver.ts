/**
 * Semantic versions as python-semver (used by st2's version_* filters) reads and compares them.
 */
import { SquallError } from '../../../errors.js';

export interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string | null;
  build: string | null;
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export function parseVersion(value: unknown): Version {
  const text = String(value ?? '');
  const m = SEMVER.exec(text);
  // python-semver's words (st2's version_* filters let its ValueError through).
  if (!m) throw new SquallError('VERSION_INVALID', `${text} is not valid SemVer string`, { value: text });
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    prerelease: m[4] ?? null,
    build: m[5] ?? null,
  };
}

function comparePrerelease(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] === undefined) return -1;
    if (pb[i] === undefined) return 1;
    const na = /^\d+$/.test(pa[i]);
    const nb = /^\d+$/.test(pb[i]);
    if (na && nb) {
      const d = Number(pa[i]) - Number(pb[i]);
      if (d !== 0) return Math.sign(d);
    } else if (na !== nb) return na ? -1 : 1;
    else if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  }
  return 0;
}

/** -1, 0 or 1 like semver.compare (build metadata ignored). */
export function compareVersions(a: unknown, b: unknown): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (va[k] !== vb[k]) return va[k] < vb[k] ? -1 : 1;
  }
  return comparePrerelease(va.prerelease, vb.prerelease);
}

/**
 * python-semver 3's match: `expr` is an operator (<, >, <=, >=, ==, !=) and a version, or a bare
 * version (==). Nothing is trimmed: `>= 1.2.3` names the version ' 1.2.3', which is not one.
 */
export function matchVersion(value: unknown, expr: unknown): boolean {
  const text = String(expr ?? '');
  const m = /^(<=|>=|==|!=|<|>)(.*)$/s.exec(text) ?? (/^\d/.test(text) ? ['', '==', text] : null);
  if (!m) {
    throw new SquallError(
      'VERSION_INVALID',
      `match_expr parameter should be in format <op><ver>, where <op> is one of ['<', '>', '==', '<=', '>=', '!=']. You provided: '${text}'`,
      { expr },
    );
  }
  const c = compareVersions(value, m[2]);
  switch (m[1]) {
    case '<':
      return c < 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    case '>=':
      return c >= 0;
    case '==':
      return c === 0;
    default:
      return c !== 0;
  }
}

export function bumpVersion(value: unknown, part: 'major' | 'minor' | 'patch'): string {
  const v = parseVersion(value);
  if (part === 'major') return `${v.major + 1}.0.0`;
  if (part === 'minor') return `${v.major}.${v.minor + 1}.0`;
  return `${v.major}.${v.minor}.${v.patch + 1}`;
}
