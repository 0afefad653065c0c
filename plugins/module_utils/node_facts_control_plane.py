# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control plane's files on the node: the static pod manifests, the kubeconfigs kubeadm writes (at the paths
the components are given), and the PKI directory.

Standard library only; shipped with the ``node_facts`` module. Each is stat'ed and named in a file set; the
kubeconfigs' and keys' text never leaves the node.
"""

from __future__ import annotations

import os

from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_running import manifest_path


PKI_DIR = "/etc/kubernetes/pki"
KUBECONFIGS = {
    "admin": "/etc/kubernetes/admin.conf",
    "super-admin": "/etc/kubernetes/super-admin.conf",
    "controller-manager": "/etc/kubernetes/controller-manager.conf",
    "scheduler": "/etc/kubernetes/scheduler.conf",
    "kubelet": "/etc/kubernetes/kubelet.conf",
    "bootstrap-kubelet": "/etc/kubernetes/bootstrap-kubelet.conf",
}


def manifest_sets(node, manifests):
    """The file sets of the static pod manifests the benchmark names (``manifest:<component>``)."""
    for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        node.add_set("manifest:%s" % comp, [manifest_path(manifests, comp)])
    etcd_manifests = [info["path"] for name, info in sorted(manifests["files"].items()) if "etcd" in name]
    node.add_set("manifest:etcd", etcd_manifests or [manifest_path(manifests, "etcd")])


def control_plane_kubeconfigs(running):
    """kubeadm's kubeconfig paths, the scheduler's and controller manager's as they are given (running, else in
    their manifests); the kubelet's and kube-proxy's collectors fill in theirs."""
    kubeconfigs = dict(KUBECONFIGS)
    sched = running.args("kube-scheduler")
    cm = running.args("kube-controller-manager")
    if sched is not None and sched.get("kubeconfig"):
        kubeconfigs["scheduler"] = sched.get("kubeconfig")
    elif running.manifest_flag("kube-scheduler", "kubeconfig"):
        kubeconfigs["scheduler"] = running.manifest_flag("kube-scheduler", "kubeconfig")
    if cm is not None and cm.get("kubeconfig"):
        kubeconfigs["controller-manager"] = cm.get("kubeconfig")
    elif running.manifest_flag("kube-controller-manager", "kubeconfig"):
        kubeconfigs["controller-manager"] = running.manifest_flag("kube-controller-manager", "kubeconfig")

    return kubeconfigs


def kubeconfig_sets(node, kubeconfigs):
    """Stat every kubeconfig; the file sets of the admin, scheduler and controller manager kubeconfigs."""
    for name, path in sorted(kubeconfigs.items()):
        node.stat(path)
    node.add_set("admin_kubeconfigs", [p for p in (kubeconfigs["admin"], kubeconfigs["super-admin"])
                                       if node.exists(p)])
    node.add_set("scheduler_kubeconfig", [kubeconfigs["scheduler"]])
    node.add_set("controller_manager_kubeconfig", [kubeconfigs["controller-manager"]])


def pki_facts(node):
    """The PKI directory and the files below it (file sets of all, of the certificates and of the keys)."""
    pki_all = node.walk(PKI_DIR)
    node.add_set("pki_all", pki_all)
    node.add_set("pki_crt", [p for p in pki_all if p.endswith(".crt")])
    node.add_set("pki_key", [p for p in pki_all if p.endswith(".key")])
    pki = {
        "dir": PKI_DIR,
        "exists": node.isdir(PKI_DIR),
        "files": [os.path.relpath(p, PKI_DIR) for p in pki_all[1:] if node.stats.get(p, {}).get("type") != "directory"],
    }

    return pki
