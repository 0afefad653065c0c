# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The input of the cluster audit: a cluster's API objects by kind, from ``kubectl get -o json``/``k8s_info`` results or
a directory of dump files, and the accessors the rules read them with. Standard library only.
"""

from __future__ import annotations

import json
import os

# kind -> the plural resource name kubectl and k8s_info use (and what a dump file may be named after).
KINDS = {
    "Namespace": "namespaces", "Node": "nodes", "ServiceAccount": "serviceaccounts",
    "ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings", "Role": "roles",
    "RoleBinding": "rolebindings", "Pod": "pods", "Deployment": "deployments", "ReplicaSet": "replicasets",
    "StatefulSet": "statefulsets", "DaemonSet": "daemonsets", "Job": "jobs", "CronJob": "cronjobs",
    "ReplicationController": "replicationcontrollers", "NetworkPolicy": "networkpolicies",
    "Service": "services", "ConfigMap": "configmaps", "Secret": "secrets", "Endpoints": "endpoints",
    "EndpointSlice": "endpointslices", "Ingress": "ingresses", "PersistentVolumeClaim": "persistentvolumeclaims",
}


def as_dict(value):
    return value if isinstance(value, dict) else {}


def as_list(value):
    return value if isinstance(value, list) else []


def metadata(obj):
    return as_dict(obj.get("metadata"))


_KIND_BY_NAME = {}
for _kind, _plural in KINDS.items():
    for _alias in (_kind, _kind.lower(), _plural):
        _KIND_BY_NAME[_alias] = _kind


def kind_name(name):
    """``pods`` / ``pod`` / ``Pod`` / ``pods.v1`` -> ``Pod`` (None when not a kind this audit knows)."""
    text = str(name or "").strip()
    if text in _KIND_BY_NAME:
        return _KIND_BY_NAME[text]
    base = text.split(".", maxsplit=1)[0]
    for cand in (base, base.lower(), base.lower().rstrip("s"), base.lower() + "s"):
        if cand in _KIND_BY_NAME:
            return _KIND_BY_NAME[cand]
    return None


class Inventory(object):
    """The cluster's objects by kind, and which kinds the input has at all (an empty list counts)."""

    def __init__(self):
        self.objects = {}
        self.present = set()
        self.messages = []
        self.version = None  # serverVersion of `kubectl version -o json`, when given
        self._uids = set()

    def declare(self, kind):
        if kind:
            self.present.add(kind)
            self.objects.setdefault(kind, [])

    def add(self, obj, kind_hint=None):
        if not isinstance(obj, dict):
            return
        okind = str(obj.get("kind") or "")
        if isinstance(obj.get("items"), list) and (not okind or okind.endswith("List")):
            list_kind = kind_name(okind[:-4]) if okind not in ("", "List") else kind_hint
            self.declare(list_kind)
            for item in as_list(obj.get("items")):
                self.add(item, list_kind)
            return
        kind = obj.get("kind") or kind_hint
        if kind not in KINDS:
            kind = kind_name(kind) if kind else None
        if kind is None:
            return
        uid = metadata(obj).get("uid")
        key = uid or (kind, metadata(obj).get("namespace"), metadata(obj).get("name"))
        if key in self._uids:
            return
        self._uids.add(key)
        self.declare(kind)
        if obj.get("kind") != kind:
            obj = dict(obj, kind=kind)
        self.objects[kind].append(obj)

    def get(self, kind):
        return self.objects.get(kind, [])


def load(source, inventory=None):
    """Fill an Inventory from any of: a dict kind -> list of objects (or -> a k8s_info result with
    ``resources``); a kubectl List; a single object; a k8s_info result (``resources``); a looped k8s_info
    result (``results``, each with ``item`` naming the kind); a list of any of these."""
    inv = inventory or Inventory()
    if isinstance(source, list):
        for entry in source:
            load(entry, inv)
        return inv
    if not isinstance(source, dict):
        return inv
    if isinstance(source.get("serverVersion"), dict):  # kubectl version -o json
        inv.version = str(source["serverVersion"].get("gitVersion") or "").lstrip("v") or None
        return inv
    if isinstance(source.get("results"), list) and "kind" not in source:
        for entry in source["results"]:
            load(entry, inv)
        return inv
    if isinstance(source.get("resources"), list) and "kind" not in source:
        hint = source.get("item")
        if isinstance(hint, dict):
            hint = hint.get("kind")
        if not isinstance(hint, str):
            hint = as_dict(as_dict(source.get("invocation")).get("module_args")).get("kind")
        kind = kind_name(hint) if hint else None
        if source.get("failed"):
            inv.messages.append("listing %s failed: %s" % (hint or "objects", source.get("msg")))
            return inv
        inv.declare(kind)
        for obj in source["resources"]:
            inv.add(obj, kind)
        return inv
    if "kind" in source or "items" in source or "metadata" in source:
        inv.add(source)
        return inv
    for key, value in source.items():  # kind -> list / k8s_info result
        kind = kind_name(key)
        if kind is None:
            inv.messages.append("input key %r is not a kind this audit reads; ignored" % key)
            continue
        inv.declare(kind)
        if isinstance(value, dict) and isinstance(value.get("resources"), list):
            value = value["resources"]
        if isinstance(value, dict) and "items" in value:
            value = value["items"]
        for obj in as_list(value):
            inv.add(obj, kind)
    return inv


def read_dump_dir(path, parse_yaml_all=None):
    """An Inventory from a directory of ``*.json`` (and, with ``parse_yaml_all`` such as PyYAML's
    ``safe_load_all``, ``*.yaml``/``*.yml``) files: kubectl Lists or single objects. A file named after a
    resource (``networkpolicies.json``) declares that kind even when its List is empty."""
    inv = Inventory()
    names = sorted(n for n in os.listdir(path) if n.endswith((".json", ".yaml", ".yml")))
    for name in names:
        full = os.path.join(path, name)
        if not os.path.isfile(full):
            continue
        stem = name.rsplit(".", 1)[0]
        with open(full) as handle:
            text = handle.read()
        try:
            if name.endswith(".json"):
                docs = [json.loads(text)]
            elif parse_yaml_all is None:
                inv.messages.append("%s: YAML but no YAML parser available; skipped" % name)
                continue
            else:
                docs = [d for d in parse_yaml_all(text) if d is not None]
        except Exception as exc:  # pylint: disable=broad-except
            fmt = "JSON" if name.endswith(".json") else "YAML"
            inv.messages.append("%s: not valid %s: %s" % (name, fmt, " ".join(str(exc).split())[:200]))
            continue
        hint = kind_name(stem)
        for doc in docs:
            if isinstance(doc, dict) and ("kind" in doc or "items" in doc):
                inv.add(doc, hint)
            else:
                load(doc, inv)
    if not names:
        inv.messages.append("%s has no *.json or *.yaml files" % path)
    return inv


def kubernetes_version(inv):
    """The API server's version (``kubectl version -o json`` in the input), else the kubelet version of a
    control-plane node (else of any node), or None."""
    if inv.version:
        return inv.version
    nodes = inv.get("Node")
    ranked = sorted(nodes, key=lambda n: 0 if "node-role.kubernetes.io/control-plane" in as_dict(
        metadata(n).get("labels")) else 1)
    for node in ranked:
        ver = as_dict(as_dict(node.get("status")).get("nodeInfo")).get("kubeletVersion")
        if ver:
            return str(ver).lstrip("v")
    return None
