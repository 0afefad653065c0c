# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Kubernetes components on a node run with: their processes (argv, and etcd's ``ETCD_*`` environment)
and the static pod manifests the kubelet starts the control plane from.

Standard library only; shipped with the ``node_facts`` module. :class:`Running` answers the component collectors'
common question, "which value does this component run with": its running argv first, else its manifest's.
"""

from __future__ import annotations

import os
import re

from ansible_collections.secure_cluster.k8s.plugins.module_utils.etcd_flags import (
    parse_environ_bytes,
    public_env,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import (
    parse_argv,
    parse_cmdline_bytes,
)


# Executable basenames of argv[0] that identify each component.
COMPONENT_BINARIES = {
    "kube-apiserver": ("kube-apiserver",),
    "kube-controller-manager": ("kube-controller-manager",),
    "kube-scheduler": ("kube-scheduler",),
    "etcd": ("etcd",),
    "kubelet": ("kubelet",),
    "kube-proxy": ("kube-proxy",),
    "containerd": ("containerd",),
}


MANIFEST_DIR = "/etc/kubernetes/manifests"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".manifest", ".json")


def component_processes(node):
    """The processes of each component (by argv[0]'s basename), by pid; the collector's own pid is skipped."""
    found = dict((name, []) for name in COMPONENT_BINARIES)
    by_basename = {}
    for comp, names in COMPONENT_BINARIES.items():
        for name in names:
            by_basename[name] = comp
    own = os.getpid() if node.root in ("/", "") else None
    for entry in node.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid == own:
            continue
        argv = parse_cmdline_bytes(node.read_bytes("/proc/%s/cmdline" % entry))
        if not argv:
            continue
        comp = by_basename.get(os.path.basename(argv[0]))
        if comp is None:
            continue
        proc = {"pid": pid, "argv": argv}
        try:
            proc["exe"] = os.readlink(node.host("/proc/%s/exe" % entry))
        except OSError:
            proc["exe"] = None
        if comp == "etcd":
            # etcd reads every ETCD_<FLAG> variable as --<flag>; only those leave the node
            data = node.read_bytes("/proc/%s/environ" % entry)
            proc["environ"] = None if data is None else public_env(parse_environ_bytes(data))
        found[comp].append(proc)
    for procs in found.values():
        procs.sort(key=lambda p: p["pid"])
    return found


def static_pod_manifests(node):
    """The static pod manifests' text (stat'ed too)."""
    files = {}
    for name in node.listdir(MANIFEST_DIR):
        path = os.path.join(MANIFEST_DIR, name)
        if not name.endswith(MANIFEST_SUFFIXES) or node.isdir(path):
            continue
        text = node.read_text(path)
        files[name] = {"path": path, "text": text, "readable": text is not None}
        node.stat(path)
    return {"dir": MANIFEST_DIR, "exists": node.isdir(MANIFEST_DIR), "files": files}


def manifest_path(manifests, component):
    """The component's manifest by any suffix kubelet reads, else where kubeadm writes it."""
    for suffix in MANIFEST_SUFFIXES:
        name = component + suffix
        if name in manifests["files"]:
            return manifests["files"][name]["path"]
    return os.path.join(MANIFEST_DIR, component + ".yaml")


class Running(object):
    """The processes and static pod manifests of one collection run, asked per component."""

    def __init__(self, procs, manifests):
        self.procs = procs
        self.manifests = manifests

    def args(self, comp):
        """The parsed argv of the component's first process, None when it does not run."""
        plist = self.procs.get(comp) or []
        return parse_argv(plist[0]["argv"]) if plist else None

    def manifest_flag(self, comp, flag):
        """The value of ``--<flag>`` in the component's static pod manifest, None without one."""
        path = manifest_path(self.manifests, comp)
        info = self.manifests["files"].get(os.path.basename(path))
        if not info or not info.get("text"):
            return None
        match = re.search(r"--%s[= ]\s*[\"']?([^\s\"',\]]+)" % re.escape(flag), info["text"])
        return match.group(1) if match else None
