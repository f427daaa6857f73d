"""``st2common.models.db``: st2's MongoDB connection. In Squall pack code reaches a pack's records
through Squall's API instead (st2common.persistence, squall_records), so there is nothing to
connect to: ``db_setup`` and ``db_teardown`` accept st2's arguments and do nothing, as
``packs.unload`` calls them before it uses the persistence classes."""


def db_setup(db_name=None, db_host=None, db_port=None, username=None, password=None, ensure_indexes=True, **kwargs):
    return None


def db_teardown():
    return None
