"""``st2common.models.db``: st2's MongoDB layer, which Squall does not expose to pack code."""

from squall_shim import not_in_squall

db_setup = not_in_squall("st2common.models.db.db_setup", "the Squall API (ST2_ACTION_API_URL)")
db_teardown = not_in_squall("st2common.models.db.db_teardown", "the Squall API (ST2_ACTION_API_URL)")
