"""Squall's side of the st2 sensor API: the channel to the sensor host and ``sensor_service``.

The host gives the sensor process an extra pipe on fd 3 carrying JSON lines both ways:
requests ``{"type": "rpc", "id": n, "method": ..., "args": {...}}`` answered by
``{"type": "rpc-result", "id": n, "result": ...}`` or ``{..., "error": "..."}``, and commands from
the host: ``{"type": "add_trigger" | "update_trigger" | "remove_trigger", "trigger": {...}}`` and
``{"type": "stop"}``.
"""

import json
import logging
import os
import select
import sys
import threading

from squall_process import DatastoreCalls, KeyValuePair, encode, open_channel  # noqa: F401 (KeyValuePair: st2's shape)


class SquallChannelError(Exception):
    pass


class Channel(object):
    def __init__(self, on_command):
        self._reader, self._writer = open_channel(
            SquallChannelError(
                "the Squall sensor channel (fd 3) is not available; sensors must be started by Squall's sensor host"
            )
        )
        self._on_command = on_command
        self._write_lock = threading.Lock()
        self._id_lock = threading.Lock()
        self._next_id = 0
        self._waiting = {}
        self._closed = False
        thread = threading.Thread(target=self._read_loop, name="squall-sensor-channel", daemon=True)
        thread.start()

    def send(self, message):
        data = encode(message)
        with self._write_lock:
            self._writer.write(data)

    def call(self, method, **args):
        with self._id_lock:
            self._next_id += 1
            request_id = self._next_id
        slot = {"event": threading.Event()}
        self._waiting[request_id] = slot
        self.send({"type": "rpc", "id": request_id, "method": method, "args": args})
        slot["event"].wait()
        answer = slot.get("answer")
        if answer is None:
            raise SquallChannelError("the sensor host closed the channel during %s" % method)
        if "error" in answer:
            raise SquallChannelError("%s failed: %s" % (method, answer["error"]))
        return answer.get("result")

    def _lines(self):
        """Lines from the host. select() first, so that under eventlet (st2 monkey-patches sensor
        processes) the wait is green and the sensor's own green threads keep running."""
        fd = self._reader.fileno()
        pending = b""
        while True:
            select.select([fd], [], [])
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                yield line

    def _read_loop(self):
        for line in self._lines():
            try:
                message = json.loads(line.decode("utf-8"))
            except ValueError:
                sys.stderr.write("ERROR squall: the sensor host sent a line that is not JSON\n")
                continue
            if message.get("type") == "rpc-result":
                slot = self._waiting.pop(message.get("id"), None)
                if slot is not None:
                    slot["answer"] = message
                    slot["event"].set()
            else:
                self._on_command(message)
        # The host went away: wake every caller, then let the command handler stop the sensor.
        for slot in list(self._waiting.values()):
            slot["event"].set()
        self._waiting.clear()
        self._on_command({"type": "stop"})


def _trigger_ref(trigger):
    if isinstance(trigger, str):
        return trigger
    if isinstance(trigger, dict):
        if trigger.get("ref"):
            return trigger["ref"]
        if trigger.get("pack") and trigger.get("name"):
            return "%s.%s" % (trigger["pack"], trigger["name"])
    raise ValueError("dispatch: trigger must be a ref string or a dict with pack and name, got %r" % (trigger,))


class SensorService(DatastoreCalls):
    """``self.sensor_service`` of an st2 sensor (st2-reference.md §3.3)."""

    def __init__(self, channel, sensor_ref, log_level="DEBUG"):
        self._channel = channel
        self._ref = sensor_ref
        self._log_level = log_level

    def get_logger(self, name):
        logger = logging.getLogger("%s.%s" % (self._ref, name) if name else self._ref)
        if not logger.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            logger.addHandler(handler)
            logger.propagate = False
        logger.setLevel(self._log_level)
        return logger

    def get_user_info(self):
        return self._channel.call("get_user_info")

    def dispatch(self, trigger, payload=None, trace_tag=None):
        return self._dispatch(trigger, payload, {"trace_tag": trace_tag} if trace_tag else {})

    def dispatch_with_context(self, trigger, payload=None, trace_context=None):
        return self._dispatch(trigger, payload, {"trace_context": trace_context} if trace_context else {})

    def _dispatch(self, trigger, payload, extra):
        ref = _trigger_ref(trigger)
        try:
            return self._channel.call("dispatch", trigger=ref, payload=payload or {}, **extra)
        except SquallChannelError as exc:
            # st2's dispatch does not raise: a rejected trigger instance is logged (here and by the host).
            self.get_logger("dispatch").error("dispatch of %s failed: %s", ref, exc)
            return None

    def _rpc(self, method, **args):
        return self._channel.call(method, **args)
