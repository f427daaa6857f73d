"""``st2common.models.db``: st2's MongoDB layer, which Squall does not expose to pack code."""

from squall_shim import needs_st2_database

db_setup = needs_st2_database("st2common.models.db.db_setup", "the Squall API (ST2_ACTION_API_URL)")
db_teardown = needs_st2_database("st2common.models.db.db_teardown", "the Squall API (ST2_ACTION_API_URL)")
