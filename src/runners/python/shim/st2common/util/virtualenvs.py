"""``st2common.util.virtualenvs``: Squall builds pack virtualenvs itself when it installs a pack."""

from squall_shim import not_in_squall

setup_pack_virtualenv = not_in_squall(
    "st2common.util.virtualenvs.setup_pack_virtualenv", "squall pack install (it builds the virtualenv)"
)
