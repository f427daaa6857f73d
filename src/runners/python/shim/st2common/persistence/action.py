"""``st2common.persistence.action``: a pack's records (get_all/query/get_by_*/delete by pack) reach Squall's API
through squall_records; the rest says what to use in Squall instead."""

from squall_records import PackRecordModel
from squall_shim import St2DatabaseModel


class Action(PackRecordModel):
    pass


class ActionAlias(PackRecordModel):
    pass


class LiveAction(St2DatabaseModel):
    pass


class ActionExecution(St2DatabaseModel):
    pass
