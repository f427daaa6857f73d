"""``st2common.content.utils``: where packs live (the folders Squall loads packs from)."""

import os

import squall_shim

__all__ = ["get_pack_group", "get_system_packs_base_path", "get_packs_base_paths", "get_pack_base_path", "get_pack_directory", "get_pack_resource_file_abs_path"]


def get_pack_group():
    """The group with write permission on pack folders (st2's ``content.pack_group``)."""
    from oslo_config import cfg

    return cfg.CONF.content.pack_group


def get_system_packs_base_path():
    """The folder of the packs that come with Squall (st2: /opt/stackstorm/packs)."""
    bases = get_packs_base_paths()
    return bases[0] if bases else ""


def get_packs_base_paths():
    return list(squall_shim.PACKS_BASE_PATHS)


def get_pack_directory(pack_name):
    for base in get_packs_base_paths():
        candidate = os.path.join(base, pack_name)
        if os.path.isdir(candidate):
            return candidate
    return None


def get_pack_base_path(pack_name, include_trailing_slash=False, use_pack_cache=False):
    if not pack_name:
        return None
    found = get_pack_directory(pack_name)
    if not found:
        bases = get_packs_base_paths()
        found = os.path.join(bases[0], pack_name) if bases else pack_name
    return found + os.sep if include_trailing_slash else found


def get_pack_resource_file_abs_path(pack_ref, resource_type, file_path):
    folder = {"action": "actions", "sensor": "sensors", "rule": "rules"}.get(resource_type, "")
    return os.path.join(get_pack_base_path(pack_ref), folder, file_path)
