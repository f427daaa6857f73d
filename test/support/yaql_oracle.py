"""Reads JSON lines {"id", "expr", "data"} on stdin and prints JSON lines {"id", "ok", "value"|"error"}.

Evaluates each expression the way orquesta's YAQLEvaluator does: its engine, its root context (the
yaql standard library plus orquesta's functions such as ctx()), `contextualize(data)` for `__vars`,
generators turned into lists. `$` is also bound to the data so both styles of reference work.
"""
import inspect
import json
import sys

import yaql.language.utils as yaql_utils
from orquesta.expressions.yql import YAQLEvaluator


def encode(value):
    if isinstance(value, (set, frozenset)):
        return {"$set": [encode(v) for v in value]}
    if isinstance(value, yaql_utils.MappingType):
        return {str(k) if not isinstance(k, str) else k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, float) and value != value:
        return {"$nan": True}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return {"$repr": type(value).__name__}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        out = {"id": req.get("id")}
        try:
            data = req.get("data") or {}
            ctx = YAQLEvaluator.contextualize(data)
            result = YAQLEvaluator._engine(req["expr"]).evaluate(data=data, context=ctx)
            if inspect.isgenerator(result):
                result = list(result)
            out["ok"] = True
            out["value"] = encode(result)
        except Exception as e:  # every failure is an answer: the test compares "both error"
            out["ok"] = False
            out["error"] = "%s: %s" % (type(e).__name__, e)
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
