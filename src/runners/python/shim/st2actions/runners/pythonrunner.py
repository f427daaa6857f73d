"""The pre-2.0 import path ``from st2actions.runners.pythonrunner import Action``."""

from st2common.runners.base_action import Action

__all__ = ["Action"]
