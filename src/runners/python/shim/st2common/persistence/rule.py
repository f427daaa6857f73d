"""``st2common.persistence.rule``: a pack's records (get_all/query/get_by_*/delete by pack) reach Squall's API
through squall_records; the rest says what to use in Squall instead."""

from squall_records import PackRecordModel


class Rule(PackRecordModel):
    pass
