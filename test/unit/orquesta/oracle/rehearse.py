"""Differential oracle: drives PyPI orquesta's conductor the way orquesta-rehearse does and prints
what happened as JSON, so the vitest suite can compare Squall's conductor against the real one.
PyPI only ships orquesta 1.2.0, which predates the orquesta-rehearse command, hence this driver."""
import json
import os
import sys

import yaml

# orquesta 1.2.0 and its networkx 1.x predate Python 3.10; restore the names they import.
import collections
import collections.abc
import fractions
import math

for _n in ('MutableSequence', 'MutableMapping', 'Mapping', 'Sequence', 'Iterable'):
    setattr(collections, _n, getattr(collections.abc, _n))
fractions.gcd = math.gcd
from orquesta import conducting, events, statuses
from orquesta.specs import native as native_specs


def main(path):
    with open(path) as f:
        case = yaml.safe_load(f)
    base = os.path.dirname(os.path.abspath(path))
    wf_path = case["workflow"]
    if isinstance(wf_path, dict):
        # An inline workflow (the specs generated from orquesta's own cases).
        spec = native_specs.WorkflowSpec(yaml.safe_dump(wf_path))
    else:
        if not os.path.isabs(wf_path):
            wf_path = os.path.normpath(os.path.join(base, wf_path))
        with open(wf_path) as f:
            spec = native_specs.WorkflowSpec(f.read())
    mocks = []
    for m in case.get("mock_action_executions") or []:
        m = dict(m)
        m["left"] = m.get("num_iter", 1)
        m.setdefault("status", "succeeded")
        mocks.append(m)

    def take(task_id, seq_id):
        # As orquesta-rehearse: a mock for this task's place in the sequence, else one for any.
        open_ = [m for m in mocks if m["task_id"] == task_id and m["left"] > 0]
        for m in [m for m in open_ if m.get("seq_id") == seq_id] + [
            m for m in open_ if m.get("seq_id") is None
        ]:
            m["left"] -= 1
            return m
        return {"task_id": task_id, "status": "succeeded", "result": None}

    errs = spec.inspect()
    if errs:
        return {"inspection": errs}
    conductor = conducting.WorkflowConductor(spec, inputs=case.get("inputs") or {})
    conductor.request_workflow_status(statuses.RUNNING)
    queue = list(conductor.get_next_tasks())
    accum = {}
    state = conductor.serialize()
    while queue:
        conductor = conducting.WorkflowConductor.deserialize(state)
        while queue:
            task = queue.pop(0)
            tid, route = task["id"], task["route"]
            tspec = spec.tasks.get_task(tid)
            conductor.update_task_state(tid, route, events.ActionExecutionEvent(statuses.RUNNING))
            m = take(tid, len(conductor.workflow_state.sequence) - 1)
            if tspec.has_items() and task.get("items_count") == 0:
                # st2 completes an empty with-items task at once with an empty list.
                ev = events.ActionExecutionEvent(statuses.SUCCEEDED, result=[])
            elif not tspec.has_items():
                ev = events.ActionExecutionEvent(m["status"], result=m.get("result"))
            else:
                acc = accum.setdefault(tid, [])
                item_id = m.get("item_id", len(acc))
                while len(acc) <= item_id:
                    acc.append(None)
                acc[item_id] = m.get("result")
                ev = events.TaskItemActionExecutionEvent(
                    item_id, m["status"], result=m.get("result"), accumulated_result=acc
                )
            conductor.update_task_state(tid, route, ev)
        queue.extend(conductor.get_next_tasks())
        state = conductor.serialize()
    if conductor.get_workflow_status() in statuses.COMPLETED_STATUSES:
        conductor.render_workflow_output()
    return {
        "task_sequence": ["%s__r%s" % (e["id"], e["route"]) for e in conductor.workflow_state.sequence],
        "routes": conductor.workflow_state.routes,
        "status": conductor.get_workflow_status(),
        "output": conductor.get_workflow_output(),
        "errors": conductor.errors,
    }


if __name__ == "__main__":
    # One JSON line per spec path, in order; a spec the old conductor cannot run reports why.
    for arg in sys.argv[1:]:
        try:
            out = main(arg)
        except Exception as exc:  # noqa: BLE001 - reported to the test, which decides
            out = {"exception": "%s: %s" % (type(exc).__name__, exc)}
        print(json.dumps(out, default=str))
