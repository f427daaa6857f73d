"""``st2common.persistence.trigger``: importable; using it says what to use in Squall instead."""

from squall_shim import St2DatabaseModel


class Trigger(St2DatabaseModel):
    pass


class TriggerType(St2DatabaseModel):
    pass


class TriggerInstance(St2DatabaseModel):
    pass
