# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kube-system ConfigMaps ``kubeadm upgrade`` regenerates a node from, read on the node with kubectl.

Standard library only; shipped with the ``node_facts`` module. One GET per kubeconfig tried, with a short request
timeout: the audit must not hang on an API server that does not answer.
"""

from __future__ import annotations

import json
import shutil

from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_control_plane import KUBECONFIGS


# What `kubeadm upgrade` regenerates the node from (kube-system ConfigMap -> key), read so that the audit can say
# whether the next upgrade keeps what the node runs. admin.conf first; kubeadm's RBAC also lets every node's kubelet
# identity (kubelet.conf) get both ConfigMaps, which `kubeadm upgrade node` itself relies on.
KUBEADM_CONFIGMAPS = {"kubeadm-config": "ClusterConfiguration", "kubelet-config": "kubelet"}
KUBEADM_KUBECONFIGS = (KUBECONFIGS["admin"], KUBECONFIGS["kubelet"])
KUBECTL_PATHS = ("/usr/local/bin/kubectl", "/usr/bin/kubectl")
KUBECTL_TIMEOUT = "10s"


def find_kubectl(node):
    """kubectl where the packages install it, else on PATH (on a real node only)."""
    for path in KUBECTL_PATHS:
        if node.exists(path):
            return path
    return shutil.which("kubectl") if node.root in ("/", "") else None


def kubeadm_configmaps(node, enabled=True):
    """The ConfigMaps ``kubeadm upgrade`` regenerates this node from, read with kubectl (a single GET each)
    as the first of KUBEADM_KUBECONFIGS that works. ``present`` is false on a node kubeadm did not set up."""
    found = {"present": False, "source": None, "configmaps": {}, "error": None}
    kubeconfigs = [k for k in KUBEADM_KUBECONFIGS if node.exists(k)]
    if not kubeconfigs or not enabled:
        return found
    found["present"] = True
    kubectl = find_kubectl(node)
    if node.run_command is None or kubectl is None:
        found["error"] = "kubectl not found (%s or in PATH)" % ", ".join(KUBECTL_PATHS)
        return found
    errors = []
    for kubeconfig in kubeconfigs:
        argv = [kubectl, "--kubeconfig", kubeconfig, "--request-timeout", KUBECTL_TIMEOUT, "--namespace",
                "kube-system", "get", "configmap"] + sorted(KUBEADM_CONFIGMAPS) + ["--output", "json"]
        try:
            rc, out, err = node.run_command(argv)
        except Exception as exc:  # pylint: disable=broad-except
            errors.append("%s: %s" % (kubeconfig, exc))
            continue
        try:
            doc = json.loads(out or "{}")
        except ValueError:
            doc = {}
        items = doc.get("items") if doc.get("kind") == "List" else [doc] if doc.get("kind") == "ConfigMap" else []
        for item in items or []:
            name = ((item or {}).get("metadata") or {}).get("name")
            key = KUBEADM_CONFIGMAPS.get(name)
            text = ((item or {}).get("data") or {}).get(key) if key else None
            if isinstance(text, str) and len(text) <= node.max_text:
                found["configmaps"][name] = {key: text}
        if found["configmaps"]:
            found["source"] = "kubectl --kubeconfig %s" % kubeconfig
            missing = sorted(set(KUBEADM_CONFIGMAPS) - set(found["configmaps"]))
            if missing:
                found["error"] = "%s: %s" % (", ".join(missing), " ".join((err or "").split())[:300] or "not found")
            return found
        errors.append("%s: %s" % (kubeconfig, " ".join((err or out or "rc %s" % rc).split())[:300]))
    found["error"] = "; ".join(errors)
    return found
