"""``st2common.util.versioning``: st2's version helpers, written for Squall from st2's behaviour.

The StackStorm version is the release Squall answers as (``st2common.__version__``, the same one
``GET /api/v1/`` names and ``squall pack install`` checks against: src/content/semver.ts).
``complex_semver_match`` reads a pack.yaml ``stackstorm_version`` as st2 does with python-semver 3:
"all", or comma-separated ``<op>MAJOR.MINOR.PATCH`` parts (op one of < > <= >= == !=, none: ==) that
must all hold; a part it cannot read raises ValueError, as semver's does.
"""

import re
import sys

from st2common import __version__ as stackstorm_version

__all__ = ["get_stackstorm_version", "get_python_version", "complex_semver_match"]

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$"
)


def get_stackstorm_version():
    return stackstorm_version


def get_python_version():
    info = sys.version_info
    return "%s.%s.%s" % (info.major, info.minor, info.micro)


def _parse(version):
    m = _SEMVER.match(version)
    if not m:
        raise ValueError("%s is not valid SemVer string" % version)
    return tuple(int(m.group(i)) for i in (1, 2, 3)), (m.group(4).split(".") if m.group(4) else [])


def _compare(a, b):
    (nums_a, pre_a), (nums_b, pre_b) = _parse(a), _parse(b)
    if nums_a != nums_b:
        return -1 if nums_a < nums_b else 1
    # A pre-release sorts before its release; pre-releases compare identifier by identifier.
    if not pre_a or not pre_b:
        return (not pre_a) - (not pre_b)
    for x, y in zip(pre_a, pre_b):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit() != y.isdigit():
            return -1 if x.isdigit() else 1
        return -1 if x < y else 1
    return (len(pre_a) > len(pre_b)) - (len(pre_a) < len(pre_b))


def _match(version, expr):
    m = re.match(r"^(>=|<=|==|!=|>|<)?(.*)$", expr)
    op, against = m.group(1), m.group(2)
    if op is None and not against[:1].isdigit():
        raise ValueError(
            "match_expr parameter should be in format <op><ver>, where <op> is one of "
            "['<', '>', '==', '<=', '>=', '!=']. You provided: %r" % expr
        )
    c = _compare(version, against)
    return {
        ">=": c >= 0, "<=": c <= 0, "==": c == 0, None: c == 0, "!=": c != 0, ">": c > 0, "<": c < 0,
    }[op]


def complex_semver_match(version, version_specifier):
    if version_specifier == "all":
        return True
    parts = version_specifier.split(",")
    if len(parts) == 1:
        # As st2: a single spec goes to semver as written, so blanks inside the quotes are refused.
        return _match(version, version_specifier)
    return all(_match(version, part.strip()) for part in parts if part.strip())
