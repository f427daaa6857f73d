"""Development-time tool: prints, as JSON, the rehearsal specs of orquesta's native conducting tests.

Usage: python extract.py ORQUESTA_MIRROR_DIR > cases.json   (needs orquesta's requirements installed)

Every test method of orquesta/tests/unit/conducting/native runs for real (they pass on orquesta's
main branch) while we record what it checks:
- a rehearsal (load_test_spec, or a WorkflowRehearsal built by hand): its spec. A re-run session
  (a spec with `workflow_state`) is recorded as a stage of the test's previous spec, with its
  rerun_tasks; the serialised state is not kept (the stages before it rebuild it).
- a test that drives the conductor by hand (test_task_rendering_for_with_items): the workflow it
  builds, the task requests it expects (assert_task_list), and the conductor's status and errors.
  Such a test stops after its first requests; the whole run (every action succeeds) is then
  rehearsed on orquesta itself, so the sequence and status recorded for it are orquesta's.
"""
import importlib
import inspect
import json
import os
import sys
import tempfile
import textwrap
import unittest

root = os.path.abspath(sys.argv[1])
sys.path.insert(0, root)

from orquesta import conducting, rehearsing  # noqa: E402
from orquesta.specs import native as native_specs  # noqa: E402
from orquesta.tests.unit import base as unit_base  # noqa: E402

captured = []
current = {}
by_hand = {}

_rehearsal_init = rehearsing.WorkflowRehearsal.__init__


recording = True


def _record_rehearsal(self, session, *args, **kwargs):
    if not recording:
        return _rehearsal_init(self, session, *args, **kwargs)
    spec = dict(session.spec)
    if "workflow_state" in spec:
        del spec["workflow_state"]
        previous = captured[-1]
        assert previous.get("test") == current["test"], "a re-run without a first run"
        previous.setdefault("reruns", []).append(spec)
    else:
        captured.append({**current, "spec": spec})
    _rehearsal_init(self, session, *args, **kwargs)


rehearsing.WorkflowRehearsal.__init__ = _record_rehearsal

_wf_spec_init = native_specs.WorkflowSpec.__init__


def _record_wf_def(self, definition, *args, **kwargs):
    if isinstance(definition, str):
        by_hand["workflow"] = definition
    _wf_spec_init(self, definition, *args, **kwargs)


native_specs.WorkflowSpec.__init__ = _record_wf_def

_conductor_init = conducting.WorkflowConductor.__init__


def _record_conductor(self, *args, **kwargs):
    by_hand["conductor"] = self
    _conductor_init(self, *args, **kwargs)


conducting.WorkflowConductor.__init__ = _record_conductor

_assert_task_list = unit_base.WorkflowConductorTest.assert_task_list


def _record_task_list(self, conductor, actual, expected):
    by_hand.setdefault("requests", []).extend(
        {"id": t["id"], "route": t["route"], "actions": t["actions"]} for t in expected
    )
    _assert_task_list(self, conductor, actual, expected)


unit_base.WorkflowConductorTest.assert_task_list = _record_task_list

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
            by_hand.clear()
            before = len(captured)
            try:
                getattr(cls(name), name)()
            except Exception as exc:
                captured[before:] = []
                captured.append({**current, "skipped": "the test fails: " + repr(exc)[:200]})
                continue
            if len(captured) > before:
                continue
            if "workflow" in by_hand and "conductor" in by_hand:
                conductor = by_hand["conductor"]
                wf_def = textwrap.dedent(by_hand["workflow"])
                requests = by_hand.get("requests", [])
                run = {
                    "expected_task_sequence": list(dict.fromkeys(t["id"] for t in requests)),
                    "expected_workflow_status": (
                        "failed" if conductor.get_workflow_status() == "failed" else "succeeded"
                    ),
                }
                if conductor.errors:
                    run["expected_errors"] = conductor.errors
                with tempfile.NamedTemporaryFile("w", suffix=".yaml") as wf_file:
                    wf_file.write(wf_def)
                    wf_file.flush()
                    recording = False
                    try:
                        rehearsing.load_test_spec(
                            {"workflow": wf_file.name, **run}
                        ).assert_conducting_sequence()
                    finally:
                        recording = True
                captured.append(
                    {**current, "by_hand": {"workflow": wf_def, "requests": requests, "run": run}}
                )
            else:
                captured.append({**current, "skipped": "no rehearsal spec"})

json.dump(captured, sys.stdout, indent=1, default=str)
