"""``st2common.persistence.action``: importable; using it says what to use in Squall instead."""

from squall_shim import St2DatabaseModel


class Action(St2DatabaseModel):
    pass


class ActionAlias(St2DatabaseModel):
    pass


class LiveAction(St2DatabaseModel):
    pass


class ActionExecution(St2DatabaseModel):
    pass
