"""``st2common.util.pack_management``: st2's pack download, as the ``packs.download`` action uses it.

Written for Squall from st2's behaviour: a pack name is looked up in the index, a URL or
``owner/repo`` is cloned with git (a ``file://`` directory that is not a git repository is
copied), ``=VERSION`` checks out a branch, tag, commit or ``vVERSION`` tag, and the pack ends up in
``abs_repo_base/<ref>`` (an existing copy is replaced; its ``config.yaml`` is kept). st2's default
base, /opt/stackstorm/packs, is Squall's folder of installed packs here, as ``cfg.CONF.content``
is. Downloading only places files: ``squall pack register`` (``packs.load``) registers them and
``squall pack install`` also builds the virtualenv.
"""

import os
import re
import shutil
import subprocess
import tempfile

from st2common.constants.pack import MANIFEST_FILE_NAME, PACK_RESERVED_CHARACTERS, PACK_VERSION_REGEX, PACK_VERSION_SEPARATOR
from st2common.util.pack import get_pack_metadata, get_pack_ref_from_metadata, get_pack_warnings
from st2common.util.versioning import complex_semver_match, get_python_version, get_stackstorm_version

__all__ = ["download_pack", "verify_pack_version", "get_repo_url", "eval_repo_url", "is_desired_pack", "get_pack_ref", "clone_repo", "move_pack"]

ST2_DEFAULT_PACKS_BASE = "/opt/stackstorm/packs"
CONFIG_FILE = "config.yaml"


def _packs_base(abs_repo_base):
    if os.path.normpath(abs_repo_base or ST2_DEFAULT_PACKS_BASE) == ST2_DEFAULT_PACKS_BASE:
        from st2common.content.utils import get_system_packs_base_path

        return get_system_packs_base_path() or abs_repo_base
    return abs_repo_base


def eval_repo_url(repo_url):
    if not repo_url:
        raise Exception("No valid repo_url provided or could be inferred.")
    if repo_url.startswith("gitlab@") or repo_url.startswith("file://"):
        return repo_url
    if len(repo_url.split("/")) == 2 and "git@" not in repo_url:
        return "https://github.com/{}".format(repo_url)
    return repo_url


def get_repo_url(pack, proxy_config=None):
    name_or_url, _, version = pack.partition(PACK_VERSION_SEPARATOR)
    if len(name_or_url.split("/")) == 1:
        from st2common.services.packs import get_pack_from_index

        found = get_pack_from_index(name_or_url, proxy_config=proxy_config)
        if not found:
            raise Exception('No record of the "%s" pack in the index.' % (name_or_url))
        return (found["repo_url"], version or found["version"])
    return (eval_repo_url(name_or_url), version or None)


def _git(args, cwd=None):
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="/bin/echo")
    done = subprocess.run(["git"] + args, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise Exception("git %s failed: %s" % (" ".join(args), (done.stderr or done.stdout).strip()))
    return done.stdout.strip()


def _resolve(repo_dir, ref):
    try:
        return _git(["rev-parse", "--verify", "--quiet", ref + "^{commit}"], cwd=repo_dir)
    except Exception:
        return None


def clone_repo(temp_dir, repo_url, verify_ssl=True, ref="master"):
    if not verify_ssl:
        os.environ["GIT_SSL_NO_VERIFY"] = "true"
    _git(["clone", "--quiet", repo_url, temp_dir])
    if not ref:
        return temp_dir
    commit = _resolve(temp_dir, "origin/%s" % ref) or _resolve(temp_dir, ref)
    if not commit and re.match(PACK_VERSION_REGEX, ref):
        commit = _resolve(temp_dir, "v%s" % ref)
    if not commit:
        msg = '"%s" is not a valid version, hash, tag or branch in %s.' % (ref, repo_url)
        tags = [t for t in _git(["tag", "--list"], cwd=temp_dir).split() if re.match(PACK_VERSION_REGEX, t.lstrip("v"))]
        if tags:
            msg += " Available versions are: %s." % ", ".join(t.lstrip("v") for t in tags)
        raise ValueError(msg)
    _git(["checkout", "--quiet", commit], cwd=temp_dir)
    return temp_dir


def _refuse_escaping_links(root, label):
    """A pack's files stay inside it, as ``squall pack install`` has them (src/content/install.ts):
    a link such as ``actions/x.yaml -> /home/squall/.ssh/id_rsa`` would be read as pack content.
    Links within the pack are kept; one that leads (or dangles) outside it stops the download."""
    real_root = os.path.realpath(root)
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == root and ".git" in dirnames:
            dirnames.remove(".git")
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                continue
            resolved = os.path.realpath(path)
            if resolved != real_root and not resolved.startswith(real_root + os.sep):
                raise ValueError(
                    "%s: %s is a symbolic link to %s, outside the pack; a pack may link only to its own files"
                    % (label, os.path.relpath(path, root), os.readlink(path))
                )


def is_desired_pack(abs_pack_path, pack_name):
    if not os.path.exists(abs_pack_path):
        return (False, 'Pack "%s" not found or it\'s missing a "pack.yaml" file.' % (pack_name))
    for character in PACK_RESERVED_CHARACTERS:
        if character in pack_name:
            return (False, 'Pack name "%s" contains reserved character "%s"' % (pack_name, character))
    if not os.path.isfile(os.path.join(abs_pack_path, MANIFEST_FILE_NAME)):
        return (False, "Pack is missing a manifest file (%s)." % (MANIFEST_FILE_NAME))
    return (True, "")


def get_pack_ref(pack_dir):
    return get_pack_ref_from_metadata(metadata=get_pack_metadata(pack_dir=pack_dir), pack_directory_name=None)


def move_pack(abs_repo_base, pack_name, abs_local_path, pack_metadata, logger=None, **_ignored):
    desired, message = is_desired_pack(abs_local_path, pack_name)
    if not desired:
        return (False, "Failure : %s" % message if message else message)
    dest = os.path.join(abs_repo_base, pack_name)
    if os.path.exists(dest):
        old_config = os.path.join(dest, CONFIG_FILE)
        if os.path.isfile(old_config):
            shutil.move(old_config, os.path.join(abs_local_path, CONFIG_FILE))
        shutil.rmtree(dest)
    os.makedirs(abs_repo_base, exist_ok=True)
    shutil.move(abs_local_path, dest)
    warning = get_pack_warnings(pack_metadata)
    if warning and logger is not None:
        logger.warning(warning)
    return (True, "Success.")


def verify_pack_version(pack_metadata):
    """Raises ValueError, with st2's message, when the pack's ``stackstorm_version`` excludes the
    release Squall answers as or its ``python_versions`` is Python 2 only."""
    name = pack_metadata.get("name", None)
    required = pack_metadata.get("stackstorm_version", None)
    if required and not complex_semver_match(get_stackstorm_version(), required):
        raise ValueError(
            'Pack "%s" requires StackStorm "%s", but current version is "%s". You can override this '
            'restriction by providing the "force" flag, but the pack is not guaranteed to work.'
            % (name, required, get_stackstorm_version())
        )
    pythons = pack_metadata.get("python_versions", None)
    if pythons and set(str(v) for v in pythons) == set(["2"]):
        raise ValueError(
            'Pack "%s" requires Python 2.x, but current Python version is "%s". You can override this '
            'restriction by providing the "force" flag, but the pack is not guaranteed to work.'
            % (name, get_python_version())
        )
    return True


def download_pack(pack, abs_repo_base=ST2_DEFAULT_PACKS_BASE, verify_ssl=True, force=False, proxy_config=None,
                  force_owner_group=True, force_permissions=True, logger=None):
    """Answers ``(pack_url, pack_ref, (success, message))`` as st2's does."""
    try:
        pack_url, pack_version = get_repo_url(pack, proxy_config=proxy_config or {})
    except Exception as exc:
        return [None, pack, (False, str(exc))]
    result = [pack_url, None, None]
    work = tempfile.mkdtemp(prefix="st2pack-")
    local = os.path.join(work, "pack")
    try:
        local_dir = os.path.abspath(pack_url.split("file://", 1)[1]) if pack_url.startswith("file://") else None
        if local_dir and not os.path.isdir(os.path.join(local_dir, ".git")):
            if not os.path.isdir(local_dir):
                raise ValueError('Local pack directory "%s" doesn\'t exist' % (local_dir))
            # Links copied as links (copytree follows them by default: a link to a secret outside
            # the pack became a copy of it), then checked as those of a clone are.
            shutil.copytree(local_dir, local, symlinks=True)
        else:
            clone_repo(temp_dir=local, repo_url=pack_url, verify_ssl=verify_ssl, ref=pack_version)
        _refuse_escaping_links(local, pack)
        metadata = get_pack_metadata(pack_dir=local)
        pack_ref = get_pack_ref(pack_dir=local)
        result[1] = pack_ref
        # As st2: the version check is what force skips.
        if not force:
            verify_pack_version(pack_metadata=metadata)
        result[2] = move_pack(_packs_base(abs_repo_base), pack_ref, local, metadata, logger=logger)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tuple(result)
