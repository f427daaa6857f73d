"""``from st2common.runners.base_action import Action`` for actions written for StackStorm."""

import abc

import squall_shim
from st2common.runners.utils import PackConfigDict, get_logger_for_python_runner_action

__all__ = ["Action"]


class Action(object, metaclass=abc.ABCMeta):
    """Base class of st2 Python actions: ``config``, ``logger``, ``action_service`` (st2 §2.3)."""

    description = None

    def __init__(self, config=None, action_service=None):
        self.action_service = action_service if action_service is not None else squall_shim.ActionService(self)
        self.config = PackConfigDict(squall_shim.PACK or "unknown", config or {})
        self.logger = get_logger_for_python_runner_action(
            action_name=self.__class__.__name__, log_level=getattr(Action, "_squall_log_level", "DEBUG")
        )

    @abc.abstractmethod
    def run(self, **kwargs):
        pass

    def get_action_service(self):
        return self.action_service
