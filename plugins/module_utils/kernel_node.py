# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the kernel role's modules share on the node: container detection and the owned files they replace whole.

Standard library only::

    detect_container(root="/") -> str | None   "podman", "docker", ... (systemd-detect-virt --container's files)
    read_text(path) -> str | None
    owned_file(module, path, content, mode=0o644) -> {changed, before, after}   check mode and diff aware
"""

from __future__ import annotations

import os

from ansible_collections.secure_cluster.k8s.plugins.module_utils import owned_file as owned_file_writer


def read_text(path):
    try:
        with open(path, "r") as handle:
            return handle.read()
    except (IOError, OSError, UnicodeDecodeError):
        return None


def detect_container(root="/"):
    """The container manager's name when this runs in a container, else None."""
    value = read_text(os.path.join(root, "run/systemd/container"))
    if value and value.strip():
        return value.strip()
    if os.path.exists(os.path.join(root, "run/.containerenv")):
        return "podman"
    if os.path.exists(os.path.join(root, ".dockerenv")):
        return "docker"
    environ = read_text(os.path.join(root, "proc/1/environ")) or ""
    for item in environ.split("\0"):
        if item.startswith("container=") and item[len("container="):]:
            return item[len("container="):]
    return None


def owned_file(module, path, content, mode=0o644):
    """Replace the whole file when its content or mode differs (module_utils/owned_file.py; not in check mode)."""
    before = read_text(path)
    directory = os.path.dirname(path) or "."
    if not module.check_mode and not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    written = owned_file_writer.write(path, content, mode=mode, check_mode=module.check_mode)
    return {"changed": written["changed"], "before": before, "after": content}


# Options both kernel modules take; their documentation is in each module.
COMMON_ARGS = dict(
    node_kind=dict(type="str", choices=["auto", "host", "container"], default="auto"),
    strict=dict(type="bool", default=False),
)


def container_for(node_kind, root="/"):
    """The container's name (or "forced") when the node is to be treated as a container, else None."""
    if node_kind == "auto":
        return detect_container(root)
    return "forced" if node_kind == "container" else None
