"""``st2common.constants.pack`` (values as in StackStorm)."""

COMMON_LIB_DIR = "lib"
PACK_CONFIG_CONTEXT_KV_PREFIX = "config_context"
PACK_REF_WHITELIST_REGEX = r"^[a-z0-9_]+$"
RESERVED_PACK_LIST = ["_global"]
PACK_VERSION_REGEX = (
    r"^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
    r"(?:-[\da-z\-]+(?:\.[\da-z\-]+)*)?(?:\+[\da-z\-]+(?:\.[\da-z\-]+)*)?$"
)
PACK_RESERVED_CHARACTERS = ["."]
PACK_VERSION_SEPARATOR = "="
ST2_VERSION_REGEX = r"^((>?>|>=|=|<=|<?<)\s*[0-9]+\.[0-9]+\.[0-9]+?(\s*,)?\s*)+$"
SYSTEM_PACK_NAME = "core"
PACKS_PACK_NAME = "packs"
LINUX_PACK_NAME = "linux"
DEFAULT_PACK_NAME = "default"
CHATOPS_PACK_NAME = "chatops"
SYSTEM_PACK_NAMES = [CHATOPS_PACK_NAME, SYSTEM_PACK_NAME, PACKS_PACK_NAME, LINUX_PACK_NAME]
USER_PACK_NAME_BLACKLIST = [SYSTEM_PACK_NAME, PACKS_PACK_NAME]
BASE_PACK_REQUIREMENTS = ["six>=1.9.0,<2.0"]
MANIFEST_FILE_NAME = "pack.yaml"
CONFIG_SCHEMA_FILE_NAME = "config.schema.yaml"
