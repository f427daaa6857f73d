"""Development-time tool: runs each rehearsal spec's first session on orquesta's own conductor
(orquesta-rehearse, from a mirror of StackStorm/orquesta's main branch) and prints one JSON line
per spec: its task sequence, routes, status, output and errors (or the exception it raised), or,
for a workflow orquesta's inspection rejects, its inspection errors.

Usage: python main-conductor.py ORQUESTA_MIRROR SPEC.yaml...   (compare-main.ts calls it)
"""
import json
import os
import sys
import tempfile

import yaml

sys.path.insert(0, sys.argv[1])
from orquesta import exceptions as exc  # noqa: E402
from orquesta import rehearsing  # noqa: E402
from orquesta.specs import native as native_specs  # noqa: E402

# Squall's extensions (src/workflows/orquesta/rehearsal.ts), which orquesta-rehearse rejects.
EXTENSIONS = ["reruns", "expected_actions"]

for path in sys.argv[2:]:
    with open(path) as f:
        spec = yaml.safe_load(f)
    workflow = spec["workflow"]
    if isinstance(workflow, str):
        # Our own specs name a workflow file next to them (test/fixtures/workflows).
        with open(os.path.join(os.path.dirname(os.path.abspath(path)), workflow)) as f:
            text = f.read()
    else:
        text = yaml.safe_dump(workflow)
    try:
        errors = native_specs.WorkflowSpec(text).inspect()
    except Exception as exc:  # reported by compare-main.ts
        print(json.dumps({"exception": repr(exc)[:300]}))
        continue
    if errors:
        print(json.dumps({"inspection": errors}, default=str))
        continue
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as wf:
        wf.write(text)
        wf.flush()
        try:
            rehearsal = rehearsing.load_test_spec(
                {**{k: v for k, v in spec.items() if k not in EXTENSIONS}, "workflow": wf.name}
            )
            try:
                rehearsal.assert_conducting_sequence()
            except (AssertionError, exc.WorkflowRehearsalError):
                # An expectation not met: report what happened (compare-main.ts compares it).
                if getattr(rehearsal, "conductor", None) is None:
                    raise
            c = rehearsal.conductor
            out = {
                "task_sequence": ["%s__r%s" % (e["id"], e["route"]) for e in c.workflow_state.sequence],
                "routes": c.workflow_state.routes,
                "status": c.get_workflow_status(),
                "output": c.get_workflow_output(),
                "errors": c.errors,
            }
        except Exception as exc:  # reported by compare-main.ts
            out = {"exception": repr(exc)[:300]}
    print(json.dumps(out, default=str))
