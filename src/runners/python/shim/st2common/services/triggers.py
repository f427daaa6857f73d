"""``st2common.services.triggers``: trigger records live in Squall's store."""

from squall_shim import not_in_squall

cleanup_trigger_db_for_rule = not_in_squall(
    "st2common.services.triggers.cleanup_trigger_db_for_rule", "squall rule delete"
)
