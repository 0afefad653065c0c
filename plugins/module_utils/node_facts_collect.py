# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only collection of everything the CIS Kubernetes Benchmark looks at on one node.

Standard library only; runs on the target inside the ``node_facts`` module. Every absolute path is read under
``root`` (``/`` on a real node, a fake tree in unit tests); the paths reported back are the node's own paths.
Nothing here writes, and a missing or unreadable file is reported, never raised.

Secrets stay on the node: kubeconfigs, keys and the encryption configuration are stat'ed but their text is not
returned (only the encryption provider names are). Of the API server's AuthorizationConfiguration only the
authorizers' types and names leave the node, of its AuthenticationConfiguration only the anonymous section's
``enabled`` and the number of its path conditions.

This module composes the collectors, one per component (``node_facts_<component>``), which all read the node
through the one :class:`~node_facts_node.NodeReader` so that the stats, file sets and errors of the run are
shared. The order of the calls below is the order of the stats, file sets and errors in the facts.
"""

from __future__ import annotations

import time

from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_apiserver import apiserver_config_facts
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_containerd import containerd_facts
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_control_plane import (
    control_plane_kubeconfigs,
    kubeconfig_sets,
    manifest_sets,
    pki_facts,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_etcd import etcd_facts
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_kernel import (
    DEFAULT_SYSCTLS,
    kernel_modules,
    sysctl_values,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_kubeadm import kubeadm_configmaps
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_kube_proxy import kube_proxy_facts
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_kubelet import cni_facts, kubelet_facts
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_node import MAX_TEXT, NodeReader
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_running import (
    Running,
    component_processes,
    static_pod_manifests,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_version import kubernetes_version

SCHEMA_VERSION = 1


class Collector(NodeReader):
    """One collection run. ``run_command(argv) -> (rc, stdout, stderr)`` is optional (used for ``--version`` and
    kubectl)."""

    def __init__(self, root="/", run_command=None, sysctls=None, extra_paths=None, max_text=MAX_TEXT,
                 version_from_binaries=True, kubeadm_config=True):
        super(Collector, self).__init__(root=root, run_command=run_command, max_text=max_text)
        self.kubeadm_config = kubeadm_config
        self.sysctls = list(DEFAULT_SYSCTLS if sysctls is None else sysctls)
        self.extra_paths = list(extra_paths or [])
        self.version_from_binaries = version_from_binaries

    def processes(self):
        """The components' processes; a method so that a test can stand in for /proc."""
        return component_processes(self)

    def collect(self):
        started = time.time()
        cpu_started = time.process_time() if hasattr(time, "process_time") else None
        procs = self.processes()
        running = Running(procs, static_pod_manifests(self))
        manifest_sets(self, running.manifests)
        kubeconfigs = control_plane_kubeconfigs(running)
        kubelet, kubelet_flags = kubelet_facts(self, running)
        kubeconfigs["kubelet"] = kubelet["kubeconfig"]
        kube_proxy = kube_proxy_facts(self, running)
        if kube_proxy["kubeconfig"]["path"]:
            kubeconfigs["kube-proxy"] = kube_proxy["kubeconfig"]["path"]
        kubeconfig_sets(self, kubeconfigs)
        pki = pki_facts(self)
        cni = cni_facts(self, kubelet_flags)
        etcd = etcd_facts(self, running)
        encryption, authorization, authentication = apiserver_config_facts(self, running)
        containerd = containerd_facts(self, running)
        for path in self.extra_paths:
            self.stat(path)

        facts = {
            "schema_version": SCHEMA_VERSION,
            "hostname": self.hostname(),
            "processes": procs,
            "manifests": running.manifests,
            "kubelet": kubelet,
            "kube_proxy": kube_proxy,
            "etcd": etcd,
            "kubeconfigs": kubeconfigs,
            "pki": pki,
            "cni": cni,
            "encryption": encryption,
            "authorization": authorization,
            "authentication": authentication,
            "kubeadm": kubeadm_configmaps(self, enabled=self.kubeadm_config),
            "containerd": containerd,
            "sysctls": sysctl_values(self, self.sysctls),
            "modules": kernel_modules(self),
            "version": kubernetes_version(self, running.manifests, procs, from_binaries=self.version_from_binaries),
            "file_sets": self.file_sets,
            "stats": self.stats,
        }
        facts["collector"] = {
            "root": self.root,
            "errors": self.errors,
            "wall_seconds": round(time.time() - started, 4),
            "cpu_seconds": round(time.process_time() - cpu_started, 4) if cpu_started is not None else None,
        }
        return facts


def collect(root="/", run_command=None, sysctls=None, extra_paths=None, version_from_binaries=True,
            kubeadm_config=True):
    """Collect the node facts; see :class:`Collector`."""
    return Collector(root=root, run_command=run_command, sysctls=sysctls, extra_paths=extra_paths,
                     version_from_binaries=version_from_binaries, kubeadm_config=kubeadm_config).collect()
