# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which hostPath mount of a static pod's container holds a path: the manifest editor checks the files new flags
name with it, and node_facts finds on the node the files the running components read. Standard library only and
small on purpose: node_facts ships it to every node audited."""

from __future__ import annotations

__all__ = ["resolve_mount", "under"]


def under(path, root):
    root = root.rstrip("/") or "/"
    return path == root or path.startswith(root if root == "/" else root + "/")


def resolve_mount(pod, container, path):
    """The hostPath mount of ``container`` that holds container path ``path``.

    Returns ``None`` when no mount holds it, else a dict ``mount_path``, ``read_only``, ``volume`` (name),
    ``host_path`` (the file's path on the node, or None when the volume is not a hostPath volume) and
    ``volume_type``.
    """
    volumes = dict((v.get("name"), v) for v in (pod.get("spec", {}).get("volumes") or []) if isinstance(v, dict))
    best = None
    for mount in container.get("volumeMounts") or []:
        mount_path = str(mount.get("mountPath") or "")
        if not mount_path or not under(path, mount_path):
            continue
        if best is None or len(mount_path.rstrip("/")) > len(str(best["mountPath"]).rstrip("/")):
            best = mount
    if best is None:
        return None
    volume = volumes.get(best.get("name")) or {}
    host = volume.get("hostPath") or {}
    host_path = None
    if host.get("path"):
        base = str(host["path"])
        if best.get("subPath"):
            base = base.rstrip("/") + "/" + str(best["subPath"]).strip("/")
        rest = path[len(str(best["mountPath"]).rstrip("/")):]
        host_path = (base.rstrip("/") + rest) if rest else base
    return {
        "mount_path": best.get("mountPath"),
        "read_only": bool(best.get("readOnly")),
        "volume": best.get("name"),
        "host_path": host_path,
        "volume_type": host.get("type") or "",
    }
