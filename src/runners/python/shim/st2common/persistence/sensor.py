"""``st2common.persistence.sensor``: importable; using it says what to use in Squall instead."""

from squall_shim import St2DatabaseModel


class SensorType(St2DatabaseModel):
    pass
