"""``st2common.services.triggers``: trigger records live in Squall's store."""

from squall_shim import needs_st2_database

cleanup_trigger_db_for_rule = needs_st2_database(
    "st2common.services.triggers.cleanup_trigger_db_for_rule", "squall rule delete"
)
