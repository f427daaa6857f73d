"""Squall's side of the st2 Python action API.

The runner gives the action process an extra pipe on fd 3. Each request is one JSON line
``{"type": "rpc", "id": n, "method": ..., "args": {...}}``; each answer is one JSON line
``{"id": n, "result": ...}`` or ``{"id": n, "error": "..."}``. The final result of the action is
sent on the same pipe as ``{"type": "result", ...}``, so nothing the action prints can be taken
for its result.
"""

import json
import os
import threading

from squall_process import DatastoreCalls, KeyValuePair, encode, open_channel  # noqa: F401 (KeyValuePair: st2's shape)

# Set by the wrapper from the runner's request: the action's pack and the folders packs live in.
PACK = None
PACKS_BASE_PATHS = []
# st2's [system_user]: the user and SSH key Squall's remote runners use (linux's wait_for_ssh reads them).
SYSTEM_USER = {}


def configure(pack=None, packs_base_paths=None, system_user=None):
    global PACK, PACKS_BASE_PATHS, SYSTEM_USER
    PACK = pack
    PACKS_BASE_PATHS = list(packs_base_paths or [])
    SYSTEM_USER = dict(system_user or {})
    _register_st2_options()


def _register_st2_options():
    """The st2.conf settings pack code reads through oslo.config (``cfg.CONF.system.base_path``,
    ``cfg.CONF.content.packs_base_paths``…), with Squall's values. Without oslo.config (no st2
    runtime site) there is nothing to register."""
    try:
        from oslo_config import cfg
    except ImportError:
        return
    first = PACKS_BASE_PATHS[0] if PACKS_BASE_PATHS else ""
    options = {
        "system": [cfg.StrOpt("base_path", default=os.path.dirname(first) if first else "")],
        "content": [
            cfg.StrOpt("packs_base_paths", default=":".join(PACKS_BASE_PATHS)),
            cfg.StrOpt("system_packs_base_path", default=first),
            cfg.StrOpt("pack_group", default="st2packs"),
        ],
        # st2's defaults (st2common/config.py) when the runner sends none.
        "system_user": [
            cfg.StrOpt("user", default=SYSTEM_USER.get("user") or "stanley"),
            cfg.StrOpt("ssh_key_file", default=SYSTEM_USER.get("ssh_key_file") or "/home/stanley/.ssh/stanley_rsa"),
        ],
        # Read by actions that then call st2's db_setup, which the shim answers with what to use instead.
        "database": [
            cfg.StrOpt(name)
            for name in (
                "host", "port", "db_name", "username", "password", "authentication_mechanism", "ssl_cert_reqs",
                "ssl_match_hostname", "tls", "tls_allow_invalid_certificates", "tls_ca_file",
                "tls_certificate_key_file", "tls_certificate_key_file_password",
            )
        ],
    }
    for group, opts in options.items():
        for opt in opts:
            try:
                cfg.CONF.register_opt(opt, group=group)
            except cfg.DuplicateOptError:
                pass


def config_path(pack):
    return "<data_dir>/configs/%s.yaml" % pack


def _not_in_squall_message(name, instead):
    return (
        "%s is StackStorm's own machinery (its database or pack installer), which Squall does not "
        "give pack code (Squall's st2common shim); use %s instead" % (name, instead)
    )


def not_in_squall(name, instead):
    """A stand-in for an st2common function of st2's database or installer: importable, and says so when called."""

    def unavailable(*args, **kwargs):
        raise NotImplementedError(_not_in_squall_message(name, instead))

    unavailable.__name__ = name.rsplit(".", 1)[-1]
    return unavailable


class _DatabaseModelMeta(type):
    def __getattr__(cls, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return not_in_squall("%s.%s" % (cls.__module__ + "." + cls.__name__, attr), "the Squall API (ST2_ACTION_API_URL)")


class St2DatabaseModel(object, metaclass=_DatabaseModelMeta):
    """A stand-in for an st2common.persistence class: every class method says it needs st2's database."""

_lock = threading.Lock()
_reader = None
_writer = None
_next_id = 0


class SquallRPCError(Exception):
    pass


def _open():
    global _reader, _writer
    if _writer is None:
        _reader, _writer = open_channel(
            SquallRPCError(
                "the Squall runner channel (fd 3) is not available; "
                "this code must be started by Squall's python-script runner"
            )
        )
    return _reader, _writer


def send(message):
    _, writer = _open()
    writer.write(encode(message))


def call(method, **args):
    global _next_id
    with _lock:
        reader, _ = _open()
        _next_id += 1
        request_id = _next_id
        send({"type": "rpc", "id": request_id, "method": method, "args": args})
        line = reader.readline()
        if not line:
            raise SquallRPCError("the Squall runner closed the channel during %s" % method)
        answer = json.loads(line.decode("utf-8"))
        if answer.get("id") != request_id:
            raise SquallRPCError("answer for request %r received while waiting for %r" % (answer.get("id"), request_id))
        if "error" in answer:
            raise SquallRPCError("%s failed: %s" % (method, answer["error"]))
        return answer.get("result")


class ActionDatastoreService(DatastoreCalls):
    """st2's ``action_service.datastore_service``: the datastore calls, and an st2client ``Client``
    for the API with the execution's token (st2's ``get_api_client``)."""

    def __init__(self):
        self._client = None

    def _rpc(self, method, **args):
        return call(method, **args)

    def get_api_client(self):
        if self._client is None:
            from st2client.client import Client

            self._client = Client(
                api_url=os.environ.get("ST2_ACTION_API_URL"), token=os.environ.get("ST2_ACTION_AUTH_TOKEN")
            )
        return self._client

    # The name before st2 2.9 made it public; packs written for both call either.
    _get_api_client = get_api_client


class ActionService(DatastoreCalls):
    """``self.action_service`` of an st2 Action: datastore access (st2 §2.3)."""

    def __init__(self, action=None):
        self._action = action
        self.datastore_service = ActionDatastoreService()

    def _rpc(self, method, **args):
        return call(method, **args)
