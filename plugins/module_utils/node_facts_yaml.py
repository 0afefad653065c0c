# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The few YAML reads node_facts needs on a node without PyYAML: a nested scalar, the items of a block list, and
a static pod's volumes and volumeMounts.

Standard library only; shipped with the ``node_facts`` module. JSON is read as JSON; YAML only in the block style
kubeadm and the API server's config files use. The controller re-parses everything that leaves the node with
PyYAML, so these readers only pick the paths and names the collectors must follow on the node.
"""


from __future__ import annotations

import json
import re


def yaml_lookup(text, keys):
    """Look up a nested scalar in a simple block-style YAML (or JSON) document without PyYAML.

    Enough for the few values the collector needs on the target (kubelet ``authentication.x509.clientCAFile``,
    kube-proxy ``clientConnection.kubeconfig``); the controller re-parses everything with PyYAML. Returns the
    scalar as a string (quotes removed), or ``None``.
    """
    if not text:
        return None
    try:
        doc = json.loads(text)
        for key in keys:
            doc = doc[key]
        return doc if isinstance(doc, (str, int, float, bool)) else None
    except (ValueError, KeyError, TypeError, IndexError):
        pass
    keys = list(keys)
    depth = 0
    parent_indent = -1
    want_indent = None
    for raw in text.splitlines():
        if raw.strip() in ("---", "...") and depth > 0:
            return None
        line = raw.split(" #")[0].rstrip() if " #" in raw else raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent <= parent_indent:
            return None
        if want_indent is not None and indent != want_indent:
            if indent < want_indent:
                return None
            continue
        match = re.match(r"^\s*([\"']?)([A-Za-z0-9_.\-]+)\1\s*:(?:\s+(.*))?$", line)
        if not match:
            continue
        key, value = match.group(2), (match.group(3) or "").strip()
        if key != keys[depth]:
            want_indent = indent
            continue
        if depth == len(keys) - 1:
            if value[:1] in ("\"", "'") and value[-1:] == value[:1] and len(value) >= 2:
                value = value[1:-1]
            return value if value not in ("", "~", "null") else None
        depth += 1
        parent_indent = indent
        want_indent = None
    return None


def static_pod_spec(text, container):
    """``(pod, container)`` dicts of a static pod manifest with just enough for ``resolve_mount``: the pod's
    volumes and the named container's (else every container's) volumeMounts. JSON, or the block-style YAML
    kubeadm writes; ``({}, {})`` when there is no text."""
    if not text:
        return {}, {}
    try:
        pod = json.loads(text)
        conts = [c for c in ((pod.get("spec") or {}).get("containers") or []) if isinstance(c, dict)]
        named = [c for c in conts if c.get("name") == container]
        return pod, (named or conts or [{}])[0]
    except (ValueError, AttributeError):
        pass
    volumes = []
    for item in block_list_items(text, "volumes"):
        volume = {"name": item.get("name")}
        if item.get("hostPath.path"):
            volume["hostPath"] = {"path": item["hostPath.path"], "type": item.get("hostPath.type") or ""}
        volumes.append(volume)
    mounts = [dict((k, v) for k, v in item.items() if "." not in k) for item in block_list_items(text, "volumeMounts")]
    return {"spec": {"volumes": volumes}}, {"volumeMounts": mounts}


def _yaml_scalar(value):
    value = value.strip()
    if value[:1] in ("\"", "'") and value[-1:] == value[:1] and len(value) >= 2:
        return value[1:-1]
    return value


def block_list_items(text, key):
    """The items of every block-style YAML list under ``key:``, each a flat dict of its scalar fields, nested
    mappings as dotted keys (``hostPath.path``); lists nested inside an item are skipped.

    Enough for kubeadm's manifests and the API server's config files on a node without PyYAML; flow-style
    (``[...]``/``{...}``) lists are not read."""
    items = []
    key_re = re.compile(r"^([\"']?)%s\1\s*:\s*$" % re.escape(key))
    key_indent = item_indent = None
    item = stack = None
    for raw in text.splitlines():
        line = raw.split(" #")[0].rstrip() if " #" in raw else raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "..."):
            continue
        indent = len(line) - len(line.lstrip(" "))
        is_item = stripped == "-" or stripped.startswith("- ")
        if key_indent is not None and item_indent is None and not (is_item and indent >= key_indent):
            key_indent = None
        elif item_indent is not None and (indent < item_indent or (indent == item_indent and not is_item)):
            key_indent = item_indent = None
        if key_indent is None:
            if key_re.match(stripped):
                key_indent = indent
            continue
        if is_item and (item_indent is None or indent == item_indent):
            item_indent = indent
            item, stack = {}, []
            items.append(item)
            stripped, indent = stripped[1:].strip(), indent + 2
            if not stripped:
                continue
        elif is_item:
            continue
        match = re.match(r"^([\"']?)([A-Za-z0-9_.\-]+)\1\s*:(?:\s+(.*))?$", stripped)
        if not match:
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        name, value = match.group(2), (match.group(3) or "").strip()
        if not value:
            stack.append((indent, name))
        else:
            item[".".join([k for dummy, k in stack] + [name])] = _yaml_scalar(value)
    return items
