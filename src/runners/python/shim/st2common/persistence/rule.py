"""``st2common.persistence.rule``: importable; using it says what to use in Squall instead."""

from squall_shim import St2DatabaseModel


class Rule(St2DatabaseModel):
    pass
