# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node side of the static pod manifest editor (``secure_cluster.k8s.static_pod_manifest``): read the manifest,
check the files the edited flags name, write the new text. Standard library only; the module ships this to the node
without the flag tables (the edit itself is ``static_pod.edit_pod``, on the controller)::

    read_manifest(path) -> {exists, content, sha256, mode, uid, gid}
    check_node_paths(node_checks) -> [problem sentences]
    write_manifest(path, content, expected_sha256, backup_dir, backup_keep, check_mode) -> {changed, backup_path}

The options users set (``USER_ARGUMENT_SPEC``) are here too: the action plugin validates them, the module adds its
internal options to them.
"""

from __future__ import annotations

import os
import re

from ansible_collections.secure_cluster.k8s.plugins.module_utils import owned_file
from ansible_collections.secure_cluster.k8s.plugins.module_utils.pod_mounts import under as _under

DEFAULT_BACKUP_DIR = "/var/lib/secure_cluster/backups/manifests"

# The options users set; the action plugin validates them, the module adds its internal options to them.
USER_ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    container=dict(type="str"),
    flags=dict(type="dict", default={}),
    remove_flags=dict(type="list", elements="str", default=[]),
    replace=dict(type="list", elements="str", default=[]),
    volumes=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        hostPath=dict(type="str", required=True),
        mountPath=dict(type="str"),
        readOnly=dict(type="bool", default=True),
        type=dict(type="str", default="DirectoryOrCreate"),
    )),
    version=dict(type="str"),
    backup_dir=dict(type="path", default=DEFAULT_BACKUP_DIR),
    backup_keep=dict(type="int", default=5),
    preflight=dict(type="bool", default=True),
    allow_probe_breaking=dict(type="bool", default=False),
)


class ManifestError(ValueError):
    """The manifest is not a Pod this module can edit (malformed, no such container, ...)."""


def read_manifest(path):
    """The manifest's text and metadata; ``exists`` False when there is no such file."""
    try:
        current = owned_file.read(path)
    except owned_file.OwnedFileError as exc:
        raise ManifestError(str(exc))
    if not current["exists"]:
        return current
    try:
        current["content"] = current["content"].decode("utf-8")
    except UnicodeDecodeError:
        raise ManifestError("%s is not UTF-8 text" % path)
    return current


def check_node_paths(node_checks):
    """Problems with the files the flags name, as sentences (empty when all is well)."""
    problems = []
    for check in node_checks or []:
        flag, path, kind = check.get("flag"), check.get("path"), check.get("kind")
        if kind == "writable_dir":
            if not os.path.exists(path):
                if not check.get("may_create"):
                    problems.append("--%s: directory %s does not exist on the node" % (flag, path))
            elif not os.path.isdir(path):
                problems.append("--%s: %s is not a directory" % (flag, path))
            elif not os.access(path, os.W_OK | os.X_OK):
                problems.append("--%s: directory %s is not writable" % (flag, path))
            continue
        if not os.path.exists(path):
            problems.append("--%s: file %s does not exist on the node" % (flag, path))
        elif not os.path.isfile(path):
            problems.append("--%s: %s is not a regular file" % (flag, path))
        elif not os.access(path, os.R_OK):
            problems.append("--%s: file %s is not readable" % (flag, path))
        elif check.get("mentions"):
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8", "replace")
            for name in check["mentions"]:
                if not re.search(r"\bname:\s*[\"']?%s\b" % re.escape(name), text):
                    problems.append("--%s: %s has no configuration for admission plugin %s (no plugins entry "
                                    "with name: %s)" % (flag, path, name, name))
    return problems


def write_manifest(path, content, expected_sha256, backup_dir, backup_keep=5, check_mode=False):
    """Back the current file up into ``backup_dir``, then replace it atomically with ``content``
    (module_utils/owned_file.py: staged outside the manifest directory, so the kubelet never sees a partial pod).

    Refuses when the file changed since it was read (``expected_sha256``; None means "must not exist") or when
    ``backup_dir`` is inside the manifest's directory. Mode and ownership of the old file are kept (0600
    root:root for a new one). Returns ``{changed, backup_path}``.
    """
    directory = os.path.dirname(os.path.abspath(path))
    backup_dir = os.path.abspath(backup_dir)
    if _under(backup_dir, directory):
        raise ManifestError("backup_dir %s is inside %s: a backup there would run as a second static pod"
                            % (backup_dir, directory))
    try:
        written = owned_file.write(path, content, expected_sha256=expected_sha256, backup_dir=backup_dir,
                                   backup_keep=backup_keep, check_mode=check_mode)
    except owned_file.OwnedFileError as exc:
        raise ManifestError(str(exc))
    return {"changed": written["changed"], "backup_path": written["backup_path"]}
