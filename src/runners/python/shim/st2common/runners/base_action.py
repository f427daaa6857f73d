"""``from st2common.runners.base_action import Action`` for actions written for StackStorm."""

import abc
import logging
import sys

from squall_shim import ActionService

__all__ = ["Action"]

AUDIT = logging.CRITICAL + 10
logging.addLevelName(AUDIT, "AUDIT")


def _logger(name, level="DEBUG"):
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [-] %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.getLevelName(level) if isinstance(level, str) else level)
    return logger


class Action(object):
    """Base class of st2 Python actions: ``config``, ``logger``, ``action_service`` (st2 §2.3)."""

    __metaclass__ = abc.ABCMeta

    def __init__(self, config=None, action_service=None):
        self.config = config or {}
        self.action_service = action_service if action_service is not None else ActionService(self)
        self.logger = _logger("actions.python.%s" % self.__class__.__name__, getattr(Action, "_squall_log_level", "DEBUG"))

    def run(self, **kwargs):
        raise NotImplementedError("%s must implement run()" % self.__class__.__name__)

    def get_action_service(self):
        return self.action_service
