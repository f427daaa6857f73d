"""``st2common.runners.utils``: the pieces of st2's python runner that actions and tests use."""

import logging
import sys

__all__ = ["PackConfigDict", "get_logger_for_python_runner_action", "get_action_class_instance"]

CONFIG_MISSING_ITEM_ERROR = (
    'Config for pack "%s" is missing key "%s". Make sure that the config file exists on disk '
    '(%s) and contains that key. Also make sure you run "st2ctl reload --register-configs" when '
    "you add a config and after every change you make to the config."
)


class PackConfigDict(dict):
    """A pack config that names the pack and the file when a key is missing (st2 raises ValueError)."""

    def __init__(self, pack_name, *args):
        super(PackConfigDict, self).__init__(*args)
        self._pack_name = pack_name

    def __getitem__(self, key):
        try:
            return super(PackConfigDict, self).__getitem__(key)
        except KeyError:
            import squall_shim

            raise ValueError(CONFIG_MISSING_ITEM_ERROR % (self._pack_name, key, squall_shim.config_path(self._pack_name)))


def get_logger_for_python_runner_action(action_name, log_level="debug"):
    logger = logging.getLogger("actions.python.%s" % action_name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [-] %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    level = str(log_level).upper()
    logger.setLevel(logging.CRITICAL if level == "AUDIT" else getattr(logging, level, logging.DEBUG))
    return logger


def get_action_class_instance(action_cls, config=None, action_service=None):
    try:
        return action_cls(config=config, action_service=action_service)
    except TypeError as exc:
        # Pre-2.0 actions take config only; st2 then sets the service afterwards.
        if "unexpected keyword argument 'action_service'" not in str(exc):
            raise
        instance = action_cls(config=config)
        instance.action_service = action_service
        return instance
