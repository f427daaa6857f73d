"""``st2common.exceptions.action``."""

from st2common.exceptions import StackStormBaseException


class ParameterRenderingFailedException(StackStormBaseException):
    pass


class InvalidActionReferencedException(StackStormBaseException):
    pass


class InvalidActionParameterException(StackStormBaseException):
    pass
