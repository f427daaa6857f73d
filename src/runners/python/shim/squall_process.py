"""What Squall's Python action process (squall_shim) and sensor process (squall_sensor) share.

Both talk to their Node parent over a pipe on fd 3 carrying JSON lines, both load the pack's class
from its entry point file, and both give the pack st2's datastore calls (get_value, set_value,
delete_value, list_values), sent over that pipe. The sensor host puts this folder on the sensor's
PYTHONPATH too.
"""

import ctypes
import importlib.util
import json
import os
import signal
import sys

CHANNEL_FD = 3

# <linux/prctl.h>
_PR_SET_PDEATHSIG = 1


def die_with_parent(sig=signal.SIGTERM):
    """Asks Linux to send ``sig`` to this process when its parent (the Squall process that started
    it) dies, so that a SIGKILLed server or runner leaves no action or sensor running on its own.
    Without it the process only notices through fd 3, and a process that never reads fd 3 (an action
    in a long call, a sensor blocked outside eventlet) outlives its parent. Elsewhere a no-op: macOS
    has no prctl."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        failed = libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0
    except (OSError, AttributeError) as exc:
        sys.stderr.write("WARNING squall: cannot ask to die with the parent process: %s\n" % exc)
        return
    if failed:
        sys.stderr.write(
            "WARNING squall: prctl(PR_SET_PDEATHSIG) failed: %s\n" % os.strerror(ctypes.get_errno())
        )
        return
    # The parent may have died before prctl: then nothing will ever send the signal.
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)


def open_channel(error):
    """The reader and writer of the pipe on fd 3; raises ``error`` when the process was not given one."""
    try:
        writer = os.fdopen(os.dup(CHANNEL_FD), "wb", buffering=0)
        reader = os.fdopen(CHANNEL_FD, "rb")
    except OSError as exc:
        raise error from exc
    return reader, writer


def encode(message):
    """One message as the JSON line the parent reads."""
    return (json.dumps(message, default=_fallback) + "\n").encode("utf-8")


def _fallback(value):
    """What json cannot encode is sent as text, as st2 does for odd results."""
    for attr in ("to_dict", "__json__"):
        fn = getattr(value, attr, None)
        if callable(fn):
            return fn()
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def load_module(entry_point, module_name, register=False):
    """Executes the file ``entry_point`` as module ``module_name``; ``register`` also puts it in
    sys.modules (under that name, so pick one that shadows nothing)."""
    spec = importlib.util.spec_from_file_location(module_name, entry_point)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load %s as a Python module" % entry_point)
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def _scope(scope):
    scope = scope or "system"
    return scope[len("st2kv."):] if scope.startswith("st2kv.") else scope


class KeyValuePair(object):
    """The shape st2's list_values returns: objects with ``name`` and ``value``."""

    def __init__(self, name, value, scope="system"):
        self.name = name
        self.value = value
        self.scope = scope

    def __repr__(self):
        return "KeyValuePair(name=%r, scope=%r)" % (self.name, self.scope)


class DatastoreCalls(object):
    """st2's datastore methods of ``action_service`` and ``sensor_service`` (st2 §2.3, §3.3).

    A subclass sends each call to the parent with ``_rpc(method, **args)``.
    """

    def _rpc(self, method, **args):
        raise NotImplementedError

    def get_value(self, name, local=True, scope="system", decrypt=False):
        return self._rpc("get_value", name=name, local=local, scope=_scope(scope), decrypt=decrypt)

    def set_value(self, name, value, ttl=None, local=True, scope="system", encrypt=False):
        if not isinstance(value, str):
            value = str(value)
        self._rpc("set_value", name=name, value=value, ttl=ttl, local=local, scope=_scope(scope), encrypt=encrypt)
        return True

    def delete_value(self, name, local=True, scope="system"):
        return bool(self._rpc("delete_value", name=name, local=local, scope=_scope(scope)))

    def list_values(self, local=True, prefix=None, limit=None, offset=0, scope="system"):
        items = self._rpc("list_values", local=local, prefix=prefix, scope=_scope(scope)) or []
        start = offset or 0
        end = start + limit if limit else None
        return [KeyValuePair(i["name"], i["value"], _scope(scope)) for i in items[start:end]]
