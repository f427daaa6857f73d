"""st2common.exceptions."""


class StackStormBaseException(Exception):
    pass


class StackStormPluginException(StackStormBaseException):
    pass
