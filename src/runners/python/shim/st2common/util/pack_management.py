"""``st2common.util.pack_management``: Squall installs packs itself."""

from squall_shim import needs_st2_database

download_pack = needs_st2_database("st2common.util.pack_management.download_pack", "squall pack install")
