# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kube-proxy on the node: its config file and kubeconfig.

Standard library only; shipped with the ``node_facts`` module. kube-proxy usually runs as a DaemonSet pod, so the
files its flags name are looked up on the host first, else inside its container's mount namespace.
"""

from __future__ import annotations

from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_yaml import yaml_lookup


def kube_proxy_facts(node, running):
    """kube-proxy's config (path, where it was found, text) and kubeconfig (its ``proxy_kubeconfig`` file set)."""
    procs = running.procs
    proxy_run = running.args("kube-proxy")
    proxy_config, proxy_config_via = None, None
    proxy_config_text = None
    if proxy_run is not None and proxy_run.get("config"):
        proxy_config, proxy_config_via = node.proc_path(proxy_run.get("config"), procs["kube-proxy"])
        proxy_config_text = node.read_text(proxy_config) if proxy_config_via != "missing" else None
    proxy_kubeconfig, proxy_kc_source = None, None
    if proxy_run is not None and proxy_run.get("kubeconfig"):
        proxy_kubeconfig, proxy_kc_source = proxy_run.get("kubeconfig"), "argv"
    elif proxy_config_text:
        value = yaml_lookup(proxy_config_text, ("clientConnection", "kubeconfig"))
        if isinstance(value, str) and value:
            proxy_kubeconfig, proxy_kc_source = value, "config"
    proxy_kc_path, proxy_kc_via = (None, None)
    if proxy_kubeconfig:
        proxy_kc_path, proxy_kc_via = node.proc_path(proxy_kubeconfig, procs["kube-proxy"])
    kube_proxy = {
        "present": bool(procs["kube-proxy"]),
        "config": {"path": proxy_config, "via": proxy_config_via, "text": proxy_config_text},
        "kubeconfig": {"path": proxy_kubeconfig, "source": proxy_kc_source, "stat_path": proxy_kc_path,
                       "via": proxy_kc_via},
    }
    node.add_set("proxy_kubeconfig", [proxy_kc_path] if proxy_kc_path else [])
    return kube_proxy
