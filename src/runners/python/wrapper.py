"""Runs one st2 Python action for Squall's python-script runner.

Input (stdin, one JSON document): entry_point, parameters, config, log_level.
Output: whatever the action prints goes to stdout/stderr untouched; the result travels on fd 3
as ``{"type": "result", "status": true|false|null, "result": ...}`` (see squall_shim).
Exit code 0 when run() returned, 1 when it raised or could not be loaded.
"""

import importlib.util
import inspect
import json
import os
import sys
import traceback


def load_action_class(entry_point):
    from st2common.runners.base_action import Action

    module_name = "squall_action_" + os.path.splitext(os.path.basename(entry_point))[0].replace("-", "_")
    spec = importlib.util.spec_from_file_location(module_name, entry_point)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load %s as a Python module" % entry_point)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)

    candidates = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Action) and cls is not Action and not inspect.isabstract(cls)
    ]
    # Prefer classes defined in the entry point itself over ones it imported.
    own = [cls for cls in candidates if cls.__module__ == module_name]
    chosen = own or candidates
    if not chosen:
        raise ImportError("%s defines no subclass of st2common.runners.base_action.Action" % entry_point)
    return chosen[0]


def instantiate(action_cls, config):
    from squall_shim import ActionService

    service = ActionService()
    try:
        return action_cls(config=config, action_service=service)
    except TypeError as exc:
        # Older actions define __init__(self, config) only; st2 then sets the service afterwards.
        if "action_service" not in str(exc):
            raise
        instance = action_cls(config=config)
        instance.action_service = service
        return instance


def main():
    import squall_shim
    from st2common.runners.base_action import Action

    request = json.loads(sys.stdin.read() or "{}")
    entry_point = request["entry_point"]
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
