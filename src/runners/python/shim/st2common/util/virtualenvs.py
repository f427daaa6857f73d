"""``st2common.util.virtualenvs``: Squall builds pack virtualenvs itself when it installs a pack."""

from squall_shim import needs_st2_database

setup_pack_virtualenv = needs_st2_database(
    "st2common.util.virtualenvs.setup_pack_virtualenv", "squall pack install (it builds the virtualenv)"
)
