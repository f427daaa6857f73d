"""Development-time tool: runs each rehearsal spec's first session on orquesta's own conductor
(orquesta-rehearse, from a mirror of StackStorm/orquesta's main branch) and prints one JSON line
per spec: its task sequence, routes, status, output and errors (or the exception it raised).

Usage: python main-conductor.py ORQUESTA_MIRROR SPEC.yaml...   (compare-main.ts calls it)
"""
import json
import sys
import tempfile

import yaml

sys.path.insert(0, sys.argv[1])
from orquesta import rehearsing  # noqa: E402

# Squall's extensions (src/workflows/orquesta/rehearsal.ts), which orquesta-rehearse rejects.
EXTENSIONS = ["reruns", "expected_actions"]

for path in sys.argv[2:]:
    with open(path) as f:
        spec = yaml.safe_load(f)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as wf:
        yaml.safe_dump(spec["workflow"], wf)
        wf.flush()
        try:
            rehearsal = rehearsing.load_test_spec(
                {**{k: v for k, v in spec.items() if k not in EXTENSIONS}, "workflow": wf.name}
            )
            rehearsal.assert_conducting_sequence()
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
