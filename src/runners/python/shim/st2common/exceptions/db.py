"""``st2common.exceptions.db``."""

from st2common.exceptions import StackStormBaseException


class StackStormDBObjectNotFoundError(StackStormBaseException):
    pass


class StackStormDBObjectMalformedError(StackStormBaseException):
    pass


class StackStormDBObjectConflictError(StackStormBaseException):
    def __init__(self, message, conflict_id=None, model_object=None):
        super(StackStormDBObjectConflictError, self).__init__(message)
        self.conflict_id = conflict_id
        self.model_object = model_object
