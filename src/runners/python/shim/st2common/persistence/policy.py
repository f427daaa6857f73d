"""``st2common.persistence.policy``: importable; using it says what to use in Squall instead."""

from squall_shim import St2DatabaseModel


class Policy(St2DatabaseModel):
    pass


class PolicyType(St2DatabaseModel):
    pass
