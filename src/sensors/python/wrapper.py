"""Runs one st2 Python sensor for Squall's sensor host (src/sensors/host.ts).

Input (stdin, one JSON document): entry_point, class_name, ref, config, poll_interval, triggers,
log_level. Then setup(), add_trigger() for each trigger, run(). When run() returns the process
stays up (trigger changes still arrive) until the host says stop; then cleanup() and exit 0.
An exception in setup/run ends the process with exit code 1 (the host restarts it).
"""

# First of all: die with the sensor host (a SIGKILLed server must not leave its sensors running).
import signal

from squall_process import die_with_parent

die_with_parent()

# Ctrl-C in the terminal of `squall start` reaches its whole process group, this sensor too. The
# service stops its sensors itself (stop, then cleanup()); a KeyboardInterrupt here skipped
# cleanup() and logged a traceback of 25 lines at every Ctrl-C.
signal.signal(signal.SIGINT, signal.SIG_IGN)

# st2's sensor container monkey-patches every sensor process with eventlet before anything else
# (st2reactor/container/sensor_wrapper.py); sensors written for it rely on green sockets and
# sleeps. Without the st2 runtime site (no eventlet) the sensor runs unpatched.
from st2common.util.monkey_patch import monkey_patch

monkey_patch()

import inspect  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402

# Python puts this script's folder first on sys.path. st2's wrapper lives elsewhere, so pack code
# must not import this file: wmi-client-wrapper's py2-style `from wrapper import …` found it.
_HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != _HERE]

_stop_lock = threading.Lock()
_stopping = False

# How long cleanup() may take once the parent is gone: nobody is left to kill a cleanup that hangs.
_ORPHAN_CLEANUP_SECONDS = 5


def load_sensor_class(entry_point, class_name):
    from squall_process import load_module
    from st2reactor.sensor.base import BaseSensor

    module_name = "squall_sensor_" + os.path.splitext(os.path.basename(entry_point))[0].replace("-", "_")
    module = load_module(entry_point, module_name, register=True)
    cls = getattr(module, class_name, None) if class_name else None
    if cls is None:
        found = [
            c
            for _, c in inspect.getmembers(module, inspect.isclass)
            if issubclass(c, BaseSensor) and c.__module__ == module_name
        ]
        if not found:
            raise ImportError("%s defines no class %s (nor any st2reactor sensor class)" % (entry_point, class_name))
        cls = found[0]
    return cls


def main():
    from squall_sensor import Channel, SensorService
    from st2reactor.sensor.base import PollingSensor

    request = json.loads(sys.stdin.read() or "{}")
    state = {"sensor": None}

    def stop():
        global _stopping
        with _stop_lock:
            if _stopping:
                return
            _stopping = True
        code = 0
        try:
            if state["sensor"] is not None:
                state["sensor"].cleanup()
        except Exception:
            traceback.print_exc(file=sys.stderr)
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def on_command(message):
        kind = message.get("type")
        if kind == "stop":
            stop()
            return
        method = getattr(state["sensor"], kind, None) if kind in ("add_trigger", "update_trigger", "remove_trigger") else None
        if method is None:
            return
        try:
            method(message.get("trigger"))
        except Exception:
            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
            os._exit(1)

    def on_sigterm(signum, frame):
        # Sent by die_with_parent when the host dies (or by a user). A sensor blocked outside eventlet
        # never lets the channel's reader see EOF, so stop from here; the kernel's alarm (default
        # action: terminate) ends the process even if cleanup() or the sensor holds it.
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(_ORPHAN_CLEANUP_SECONDS)
        stop()

    signal.signal(signal.SIGTERM, on_sigterm)
    channel = Channel(on_command)
    service = SensorService(channel, request.get("ref") or "sensor", request.get("log_level") or "DEBUG")
    try:
        cls = load_sensor_class(request["entry_point"], request.get("class_name"))
        kwargs = {"sensor_service": service, "config": request.get("config") or {}}
        if issubclass(cls, PollingSensor) and request.get("poll_interval"):
            kwargs["poll_interval"] = request["poll_interval"]
        sensor = cls(**kwargs)
        state["sensor"] = sensor
        sensor.setup()
        for trigger in request.get("triggers") or []:
            sensor.add_trigger(trigger)
        channel.send({"type": "ready"})
        sensor.run()
    except Exception:
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        return 1
    sys.stdout.flush()
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
