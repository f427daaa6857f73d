"""``st2common.util.jinja``: the Jinja environment st2 renders with, and its common filters."""

import datetime
import json
import os
import re

import jinja2
import yaml

__all__ = ["get_jinja_environment", "get_filters", "render_values", "is_jinja_expression"]

JINJA_EXPRESSIONS_REGEX = r"({{.*?}}|{%.*?%}|{#.*?#})"


def _regex_match(value, pattern, ignorecase=False):
    return re.match(pattern, value, re.IGNORECASE if ignorecase else 0) is not None


def _regex_search(value, pattern, ignorecase=False):
    return re.search(pattern, value, re.IGNORECASE if ignorecase else 0) is not None


def _regex_replace(value, pattern, replacement, ignorecase=False):
    return re.sub(pattern, replacement, value, flags=re.IGNORECASE if ignorecase else 0)


def _regex_substring(value, pattern, result_index=0, ignorecase=False):
    return re.findall(pattern, value, re.IGNORECASE if ignorecase else 0)[result_index]


def _to_human_time_from_seconds(seconds):
    """st2's fuzzy duration ("1m5s", "2d3h0m1s"): years and days are read off datetime(1, 1, 1) plus the
    seconds, as st2 does, so days count within a month; below a second it prints the value in \u03bcs."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        raise TypeError("to_human_time_from_seconds expects a number of seconds, got %r" % (seconds,))
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return "%s\u03bcs" % seconds
    if isinstance(seconds, float):
        seconds = int(round(seconds))
    at = datetime.datetime(1, 1, 1) + datetime.timedelta(seconds=seconds)
    parts = [at.year - 1, at.day - 1, at.hour, at.minute, at.second]
    while parts and not parts[0]:
        parts.pop(0)
    if not parts:
        return "0s"
    return "".join("%s%s" % (n, unit) for n, unit in zip(parts, "ydhms"[5 - len(parts):]))


def get_filters():
    return {
        "to_json_string": lambda value, indent=None, sort_keys=False, separators=(",", ": "): json.dumps(
            value, indent=indent, sort_keys=sort_keys, separators=separators),
        "to_yaml_string": lambda value, indent=None, allow_unicode=True: yaml.safe_dump(
            value, indent=indent, allow_unicode=allow_unicode, default_flow_style=False),
        "from_json_string": json.loads,
        "from_yaml_string": yaml.safe_load,
        "to_complex": lambda value: json.dumps(value),
        "json_escape": lambda value: json.dumps(value)[1:-1],
        "regex_match": _regex_match,
        "regex_search": _regex_search,
        "regex_replace": _regex_replace,
        "regex_substring": _regex_substring,
        "to_human_time_from_seconds": _to_human_time_from_seconds,
        "use_none": lambda value: "%*****__%NONE%__*****%" if value is None else value,
        "basename": os.path.basename,
        "dirname": os.path.dirname,
    }


def get_jinja_environment(allow_undefined=False, trim_blocks=True, lstrip_blocks=True):
    undefined = jinja2.Undefined if allow_undefined else jinja2.StrictUndefined
    env = jinja2.Environment(undefined=undefined, trim_blocks=trim_blocks, lstrip_blocks=lstrip_blocks)
    env.filters.update(get_filters())
    env.tests["in"] = lambda item, seq: item in seq
    return env


def render_values(mapping=None, context=None, allow_undefined=False):
    if not context or not mapping:
        return mapping
    env = get_jinja_environment(allow_undefined=allow_undefined)
    rendered = {}
    for key, value in mapping.items():
        if isinstance(value, str):
            rendered[key] = env.from_string(value).render(context)
        else:
            rendered[key] = value
    return rendered


def is_jinja_expression(value):
    return isinstance(value, str) and re.search(JINJA_EXPRESSIONS_REGEX, value) is not None
