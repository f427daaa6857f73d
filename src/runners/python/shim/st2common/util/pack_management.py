"""``st2common.util.pack_management``: Squall installs packs itself."""

from squall_shim import not_in_squall

download_pack = not_in_squall("st2common.util.pack_management.download_pack", "squall pack install")
