"""``st2common.persistence.pack``: importable; using it says what to use in Squall instead."""

from squall_shim import St2DatabaseModel


class Pack(St2DatabaseModel):
    pass


class ConfigSchema(St2DatabaseModel):
    pass


class Config(St2DatabaseModel):
    pass
