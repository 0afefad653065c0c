# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd on the node: its config file (the one it runs with) and its socket.

Standard library only; shipped with the ``node_facts`` module.
"""

from __future__ import annotations


CONTAINERD_DEFAULT_CONFIG = "/etc/containerd/config.toml"
CONTAINERD_SOCKET = "/run/containerd/containerd.sock"


def containerd_facts(node, running):
    """containerd's config path and text and its socket (its ``containerd`` file set)."""
    ctr_run = running.args("containerd")
    ctr_config = CONTAINERD_DEFAULT_CONFIG
    if ctr_run is not None and (ctr_run.get("config") or ctr_run.get("c")):
        ctr_config = ctr_run.get("config") or ctr_run.get("c")
    containerd = {
        "present": bool(running.procs["containerd"]) or node.exists(ctr_config),
        "config_path": ctr_config,
        "config_text": node.read_text(ctr_config),
        "socket": CONTAINERD_SOCKET,
    }
    node.add_set("containerd", [ctr_config, CONTAINERD_SOCKET])
    return containerd
