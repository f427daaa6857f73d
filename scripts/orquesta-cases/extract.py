"""Development-time tool: prints, as JSON, the rehearsal specs of orquesta's native conducting tests.

Usage: python extract.py ORQUESTA_MIRROR_DIR > cases.json   (needs orquesta's requirements installed)

Each test method builds a spec dict and hands it to rehearsing.load_test_spec; we replace that
function with one that records the dict, run every test method, and print what was recorded
(the test module, method and spec; the workflow path is absolute, into the mirror).
"""
import importlib
import inspect
import json
import os
import sys
import unittest

root = os.path.abspath(sys.argv[1])
sys.path.insert(0, root)

from orquesta import rehearsing  # noqa: E402

captured = []
current = {}


class _Recorded:
    def assert_conducting_sequence(self):
        pass

    def assert_spec_inspection(self):
        pass


def _record(spec):
    captured.append({**current, "spec": spec})
    return _Recorded()


rehearsing.load_test_spec = _record

pkg = "orquesta.tests.unit.conducting.native"
folder = os.path.join(root, *pkg.split("."))
for fname in sorted(os.listdir(folder)):
    if not (fname.startswith("test_") and fname.endswith(".py")):
        continue
    mod = importlib.import_module(pkg + "." + fname[:-3])
    for _, cls in inspect.getmembers(mod, inspect.isclass):
        if not issubclass(cls, unittest.TestCase) or cls.__module__ != mod.__name__:
            continue
        cls.setUpClass()
        for name in sorted(n for n in dir(cls) if n.startswith("test_")):
            current = {"module": fname[:-3], "test": name}
            before = len(captured)
            try:
                getattr(cls(name), name)()
            except Exception as exc:  # a test that drives the conductor by hand
                captured[before:] = []
                captured.append({**current, "skipped": repr(exc)[:200]})
                continue
            if len(captured) == before:
                captured.append({**current, "skipped": "no rehearsal spec"})

json.dump(captured, sys.stdout, indent=1, default=str)
