import { SquallError } from '../errors.js';
import { STACKSTORM_VERSION } from '../version.js';

// semver.org's own grammar (MAJOR.MINOR.PATCH[-pre][+build]).
const SEMVER_RE =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
export function isSemver(v: string): boolean {
  return SEMVER_RE.test(v);
}

/**
 * Whether `version` satisfies a pack.yaml `stackstorm_version` ("all", ">=3.0.0", ">=1.6.0, <2.2.0"),
 * as st2's complex_semver_match reads it with python-semver 3's `match`: each comma-separated part
 * is `<op><MAJOR.MINOR.PATCH>` with op one of < > <= >= == != (no op: ==), and every part must hold.
 * A part st2 cannot read (">=3.4", "~3.0", " >=3.0.0") refuses the install there with a ValueError;
 * here with STACKSTORM_VERSION_INVALID, naming the part.
 */
export function stackstormVersionMatches(spec: string, version: string = STACKSTORM_VERSION): boolean {
  if (spec === 'all') return true;
  // st2 strips the parts of a comma-separated spec but hands a single one to semver as written, so
  // " >=3.0.0" or " all" (blanks inside the quotes) is refused there: not trimmed here either.
  const parts = spec.includes(',')
    ? spec
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '')
    : [spec];
  return parts.every((part) => {
    const m = /^(>=|<=|==|!=|>|<)?([\s\S]*)$/.exec(part)!;
    // python-semver's pattern ends in `$`, which lets one trailing newline through.
    const [op, against] = [m[1] ?? '==', m[2].replace(/\n$/, '')];
    if (!isSemver(against))
      throw new SquallError(
        'STACKSTORM_VERSION_INVALID',
        `stackstorm_version "${spec}": "${part}" is not <op><MAJOR.MINOR.PATCH> with op one of <, >, <=, >=, ==, !=`,
        { field: 'stackstorm_version', value: spec },
      );
    const c = compareSemver(version, against);
    return { '>=': c >= 0, '<=': c <= 0, '==': c === 0, '!=': c !== 0, '>': c > 0, '<': c < 0 }[op]!;
  });
}

/** semver.org precedence of two valid versions (build metadata ignored). */
function compareSemver(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.split('+')[0].split(/-(.*)/s);
    return { nums: core.split('.').map(Number), pre: pre ? pre.split('.') : [] };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) if (x.nums[i] !== y.nums[i]) return x.nums[i] - y.nums[i];
  // A pre-release sorts before its release; pre-releases compare identifier by identifier.
  if (x.pre.length === 0 || y.pre.length === 0) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const [p, q] = [x.pre[i], y.pre[i]];
    if (p === q) continue;
    const [pn, qn] = [/^\d+$/.test(p), /^\d+$/.test(q)];
    if (pn && qn) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return x.pre.length - y.pre.length;
}
