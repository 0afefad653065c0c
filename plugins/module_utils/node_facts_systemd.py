# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A systemd service on the node as systemd loads it: the unit, its drop-ins, the environment files they name,
the argv it starts, and whether it is enabled.

Standard library only; shipped with the ``node_facts`` module. The kubelet and an external etcd member run as
systemd services; the unit files are read here, the argv is rebuilt by ``k8s_args.systemd_exec_argv``.
"""

from __future__ import annotations

import os

from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import systemd_exec_argv


# systemd unit search path, highest priority first.
SYSTEMD_DIRS = (
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
)


def systemd_service(node, name, env_file_paths=(), specifiers=None):
    """A unit and its drop-ins as systemd loads them, the env files they name, and the argv they start."""
    unit = None
    seen_real = set()
    for base in SYSTEMD_DIRS:
        path = os.path.join(base, name)
        if node.exists(path) and not node.isdir(path):
            unit = path
            break
    dropins = {}
    for base in SYSTEMD_DIRS:
        ddir = os.path.join(base, name + ".d")
        real_dir = node.realpath(ddir)
        if real_dir in seen_real or not node.isdir(ddir):
            continue
        seen_real.add(real_dir)
        for entry in node.listdir(ddir):
            if entry.endswith(".conf") and entry not in dropins:
                dropins[entry] = os.path.join(ddir, entry)
    files = []
    if unit:
        files.append({"path": unit, "kind": "unit", "text": node.read_text(unit)})
    for entry in sorted(dropins):
        files.append({"path": dropins[entry], "kind": "dropin", "text": node.read_text(dropins[entry])})
    env_files = {}
    for path in env_file_paths:
        text = node.read_text(path)
        if text is not None:
            env_files[path] = text
    texts = [f["text"] for f in files]
    rebuilt = systemd_exec_argv(texts, env_files, specifiers)
    # EnvironmentFile= entries the unit names but we did not read above
    for path in rebuilt["missing_environment_files"]:
        text = node.read_text(path)
        if text is not None:
            env_files[path] = text
    if any(p not in env_file_paths for p in env_files):
        rebuilt = systemd_exec_argv(texts, env_files, specifiers)
    return {"unit": unit, "files": files, "env_files": env_files, "rebuilt": rebuilt}


def unit_enabled(node, name):
    """True when a ``*.wants``/``*.requires`` directory under /etc/systemd/system links the unit."""
    base = SYSTEMD_DIRS[0]
    for entry in node.listdir(base):
        if entry.endswith((".wants", ".requires")) and node.exists(os.path.join(base, entry, name)):
            return True
    return False
