# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubelet as it runs on the node: its systemd service, config file and drop-ins, kubeconfig and client CA,
and the CNI configuration it hands pods' networks to.

Standard library only; shipped with the ``node_facts`` module. Each path is the kubelet's own choice: the running
process's flag, else the one its systemd unit starts it with, else the config file's, else kubeadm's default.
"""

from __future__ import annotations

import os

from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import parse_argv
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_systemd import systemd_service
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_yaml import yaml_lookup


CNI_DIRS = ("/etc/cni/net.d",)
CNI_STATE_DIR = "/var/lib/cni/networks"
KUBELET_DEFAULT_CONFIG = "/var/lib/kubelet/config.yaml"
KUBELET_DEFAULT_KUBECONFIG = "/etc/kubernetes/kubelet.conf"
KUBELET_DEFAULT_CLIENT_CA = "/etc/kubernetes/pki/ca.crt"
KUBELET_ENV_FILES = ("/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet", "/etc/sysconfig/kubelet")


def kubelet_service(node):
    """The kubelet's systemd unit and drop-ins, the env files kubeadm and the packages use, and the argv."""
    service = systemd_service(node, "kubelet.service", KUBELET_ENV_FILES)
    return {
        "unit": service["unit"],
        "files": service["files"],
        "env_files": service["env_files"],
        "exec_argv": service["rebuilt"]["argv"],
        "missing_environment_files": service["rebuilt"]["missing_environment_files"],
    }


def kubelet_facts(node, running):
    """``(kubelet, flag_sources)``: the kubelet's facts (its file sets are added), and its parsed argv, running
    then as its systemd unit starts it (each None when absent), for the collectors that follow its flags."""
    service = kubelet_service(node)
    kubelet_run = running.args("kubelet")
    kubelet_unit = parse_argv(service["exec_argv"]) if service["exec_argv"] else None
    config_path, config_source = None, "default"
    for source, parsed in (("argv", kubelet_run), ("unit", kubelet_unit)):
        if parsed is not None and parsed.get("config"):
            config_path, config_source = parsed.get("config"), source
            break
    if config_path is None:
        config_path = KUBELET_DEFAULT_CONFIG
    config_text = node.read_text(config_path)
    config_dir = None
    config_dropins = []
    for parsed in (kubelet_run, kubelet_unit):
        if parsed is not None and parsed.get("config-dir"):
            config_dir = parsed.get("config-dir")
            break
    if config_dir:
        for name in node.listdir(config_dir):
            if name.endswith(".conf"):
                path = os.path.join(config_dir, name)
                config_dropins.append({"path": path, "text": node.read_text(path)})
                node.stat(path)
    kubelet_kubeconfig = None
    for parsed in (kubelet_run, kubelet_unit):
        if parsed is not None and parsed.get("kubeconfig"):
            kubelet_kubeconfig = parsed.get("kubeconfig")
            break
    kubelet_kubeconfig = kubelet_kubeconfig or KUBELET_DEFAULT_KUBECONFIG
    client_ca, client_ca_source = None, "default"
    for source, parsed in (("argv", kubelet_run), ("unit", kubelet_unit)):
        if parsed is not None and parsed.get("client-ca-file"):
            client_ca, client_ca_source = parsed.get("client-ca-file"), source
            break
    if client_ca is None and config_text:
        value = yaml_lookup(config_text, ("authentication", "x509", "clientCAFile"))
        if isinstance(value, str) and value:
            client_ca, client_ca_source = value, "config"
    if client_ca is None:
        client_ca = KUBELET_DEFAULT_CLIENT_CA
    kubelet = {
        "present": bool(running.procs["kubelet"]) or bool(service["unit"]) or config_text is not None,
        "config": {
            "path": config_path,
            "source": config_source,
            "exists": node.exists(config_path),
            "text": config_text,
            "config_dir": config_dir,
            "dropins": config_dropins,
        },
        "service": service,
        "kubeconfig": kubelet_kubeconfig,
        "client_ca_file": {"path": client_ca, "source": client_ca_source},
    }
    node.add_set("kubelet_config", [config_path])
    node.add_set("kubelet_service", [f["path"] for f in service["files"]])
    node.add_set("kubelet_env_files", list(service["env_files"]))
    node.add_set("kubelet_kubeconfig", [kubelet_kubeconfig])
    node.add_set("kubelet_client_ca", [client_ca])
    return kubelet, (kubelet_run, kubelet_unit)


def cni_facts(node, kubelet_flags):
    """The CNI configuration directories (the kubelet's --cni-conf-dir first, as kube-bench does) and the files
    in them and in the IPAM state directory (a file set)."""
    cni_dirs = list(CNI_DIRS)
    for parsed in kubelet_flags:
        if parsed is not None and parsed.get("cni-conf-dir") and parsed.get("cni-conf-dir") not in cni_dirs:
            cni_dirs.insert(0, parsed.get("cni-conf-dir"))
    cni_files = []
    for cdir in cni_dirs:
        cni_files.extend(node.walk(cdir)[1:])
    cni_files.extend(p for p in node.walk(CNI_STATE_DIR)[1:] if not node.isdir(p))
    node.add_set("cni", cni_files)
    return {"dirs": cni_dirs, "files": cni_files}
