"""Runs one st2 Python action for Squall's python-script runner.

Input (stdin, one JSON document): entry_point, pack, packs_base_paths, system_user, parameters, config,
log_level.
Output: whatever the action prints goes to stdout/stderr untouched; the result travels on fd 3
as ``{"type": "result", "status": true|false|null, "result": ...}`` (see squall_shim).
Exit code 0 when run() returned, 1 when it raised or could not be loaded.
"""

import inspect
import json
import os
import sys
import traceback

# Python puts this script's folder first on sys.path. st2's wrapper lives elsewhere, so pack code
# must not import this file: wmi-client-wrapper's py2-style `from wrapper import …` found it.
_HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != _HERE]

# A SIGKILLed runner must not leave its action running on its own (SIGTERM's default action ends it).
from squall_process import die_with_parent  # noqa: E402

die_with_parent()


def load_action_class(entry_point):
    """Picks the action class as st2's loader does (st2common/util/loader.py register_plugin).

    st2 takes the classes defined in the entry point itself, in name order, and registers each
    with the abstract ``Action`` that implements every abstract method (``run``). So a class
    with a ``run`` method is an action whatever its base chain: packs such as jira define their
    own ``Action`` base class and never import st2's.
    """
    from squall_process import load_module
    from st2common.runners.base_action import Action

    # st2 appends the action's folder to sys.path (after the pack's site and st2's own).
    folder = os.path.dirname(os.path.realpath(entry_point))
    if folder not in sys.path and folder + os.sep not in sys.path:
        sys.path.append(folder)
    module_name = os.path.splitext(os.path.basename(entry_point))[0]
    module = load_module(entry_point, module_name)

    required = getattr(Action, "__abstractmethods__", frozenset(["run"]))
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ != module.__name__:
            continue
        methods = {
            name
            for name, fn in inspect.getmembers(cls, inspect.isfunction)
            if not getattr(fn, "__isabstractmethod__", False)
        }
        if required <= methods:
            return cls
    raise ImportError(
        'Found no classes in plugin file "%s" matching requirements: none defines %s'
        % (entry_point, ", ".join(sorted(required)))
    )


def instantiate(action_cls, config):
    from squall_shim import ActionService
    from st2common.runners.utils import get_action_class_instance

    return get_action_class_instance(action_cls, config=config, action_service=ActionService())


def main():
    import squall_shim
    from st2common.runners.base_action import Action

    request = json.loads(sys.stdin.read() or "{}")
    entry_point = request["entry_point"]
    squall_shim.configure(
        pack=request.get("pack"),
        packs_base_paths=request.get("packs_base_paths"),
        system_user=request.get("system_user"),
    )
    Action._squall_log_level = request.get("log_level") or "DEBUG"
    if Action._squall_log_level == "AUDIT":
        Action._squall_log_level = "CRITICAL"

    try:
        action_cls = load_action_class(entry_point)
        action = instantiate(action_cls, request.get("config") or {})
        value = action.run(**(request.get("parameters") or {}))
    except Exception:
        sys.stdout.flush()
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        squall_shim.send({"type": "result", "status": False, "result": None, "raised": True})
        return 1

    status = None
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], bool):
        status, value = value
    sys.stdout.flush()
    sys.stderr.flush()
    squall_shim.send({"type": "result", "status": status, "result": value})
    return 0


if __name__ == "__main__":
    sys.exit(main())
