"""``st2common.util.pack``: reading a pack's pack.yaml as st2 does."""

import os
import re

import yaml

from st2common.constants.pack import MANIFEST_FILE_NAME

__all__ = ["get_pack_metadata", "get_pack_warnings", "get_pack_ref_from_metadata", "normalize_pack_version"]


def get_pack_metadata(pack_dir):
    manifest_path = os.path.join(pack_dir, MANIFEST_FILE_NAME)
    if not os.path.isfile(manifest_path):
        raise ValueError('Pack "%s" is missing %s file' % (pack_dir, MANIFEST_FILE_NAME))
    with open(manifest_path) as f:
        content = yaml.safe_load(f)
    if not content:
        raise ValueError('Pack metadata file "%s" is empty' % manifest_path)
    return content


def get_pack_warnings(pack_metadata):
    """st2 warns about packs that do not declare Python 3 support."""
    versions = pack_metadata.get("python_versions", None)
    if isinstance(versions, list) and "3" not in [str(v) for v in versions]:
        return "DEPRECATION WARNING: Pack %s only supports Python 2.x." % pack_metadata.get("name")
    return None


def get_pack_ref_from_metadata(metadata, pack_directory_name=None):
    ref = metadata.get("ref") or pack_directory_name or metadata.get("name")
    if not ref or not re.match(r"^[a-z0-9_]+$", ref):
        raise ValueError('Pack ref "%s" contains invalid characters; use lowercase letters, digits and _' % ref)
    return ref


def normalize_pack_version(version):
    version = str(version)
    return version + ".0" if version.count(".") == 1 else version
