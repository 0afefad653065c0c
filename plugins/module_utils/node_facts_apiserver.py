# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API server's config files on the node: encryption provider, authorization and authentication
configuration, found by the path the API server is given and read where the node keeps them.

Standard library only; shipped with the ``node_facts`` module. These files hold secrets or name credentials, so
only what the benchmark judges leaves the node: the encryption providers' names, each authorizer's type and name,
and the anonymous section's ``enabled`` and number of path conditions.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_running import manifest_path
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_yaml import (
    block_list_items,
    static_pod_spec,
    yaml_lookup,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.pod_mounts import resolve_mount


def apiserver_config_facts(node, running):
    """``(encryption, authorization, authentication)``: each config file's path as the API server is given it
    (running, else its manifest) and what may leave the node of it; the encryption config is stat'ed too."""
    procs = running.procs
    manifests = running.manifests
    api_run = running.args("kube-apiserver")
    api_manifest = manifests["files"].get(os.path.basename(manifest_path(manifests, "kube-apiserver")))
    api_manifest_text = (api_manifest or {}).get("text")

    def apiserver_file(flag):
        path = None
        if api_run is not None and api_run.get(flag):
            path = api_run.get(flag)
        elif running.manifest_flag("kube-apiserver", flag):
            path = running.manifest_flag("kube-apiserver", flag)
        if not path:
            return None, None
        read_path, _via = pod_file(node, api_manifest_text, "kube-apiserver", path, procs["kube-apiserver"])
        return path, read_path

    # encryption provider config (only the provider names leave the node)
    enc_path, read_path = apiserver_file("encryption-provider-config")
    encryption = {"path": enc_path, "providers": None}
    if enc_path:
        encryption["providers"] = encryption_providers(node, read_path)
        node.stat(enc_path)
    authz_path, read_path = apiserver_file("authorization-config")
    authorization = {"path": authz_path, "read_path": read_path, "authorizers": None, "error": None}
    if authz_path:
        authorization["authorizers"], authorization["error"] = authorizers(node, read_path)
    authn_path, read_path = apiserver_file("authentication-config")
    authentication = {"path": authn_path, "read_path": read_path, "anonymous": None, "error": None}
    if authn_path:
        authentication["anonymous"], authentication["error"] = anonymous_auth(node, read_path)
    return encryption, authorization, authentication


def pod_file(node, manifest_text, container, path, procs):
    """Where to read a static pod container's file ``path`` on the node: ``(path, via)``.

    The manifest's hostPath mounts map the container path to the node's (the API server may see
    /etc/kubernetes/authz as /authz); without a mount the path is read as is, else inside the running
    process's mount namespace."""
    pod, cont = static_pod_spec(manifest_text, container)
    mount = resolve_mount(pod, cont, path) if path else None
    if mount and mount.get("host_path") and node.exists(mount["host_path"]):
        return mount["host_path"], "hostPath"
    return node.proc_path(path, procs)


def config_doc(node, path):
    """``(text, doc)`` of an API server config file: ``doc`` is the mapping when the file is JSON, else None
    (the caller reads the YAML line by line); ``(None, None)`` when it cannot be read."""
    text = node.read_text(path) if path else None
    try:
        doc = json.loads(text) if text is not None else None
    except ValueError:
        return text, None
    return text, doc if isinstance(doc, dict) else {}


def encryption_providers(node, path):
    """Names of the providers listed in an EncryptionConfiguration, in order (keys are not returned)."""
    text = node.read_text(path) if path else None
    if text is None:
        return None
    providers = []
    try:
        doc = json.loads(text)
        for res in doc.get("resources", []) or []:
            for prov in res.get("providers", []) or []:
                providers.extend(list(prov.keys()))
        return providers
    except (ValueError, AttributeError):
        pass
    in_providers = None
    for line in text.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        stripped = line.strip()
        if re.match(r"^-?\s*providers:\s*$", stripped):
            in_providers = indent
            continue
        if in_providers is not None:
            if indent <= in_providers and not stripped.startswith("-"):
                in_providers = None
                continue
            match = re.match(r"^-\s*([A-Za-z]+):", stripped)
            if match and indent <= in_providers + 4:
                providers.append(match.group(1))
    return providers


def authorizers(node, path):
    """``(authorizers, error)``: type and name of each authorizer of an AuthorizationConfiguration, in order
    (webhook connection details, which may name credentials, are left out)."""
    text, doc = config_doc(node, path)
    if text is None:
        return None, "cannot be read"
    items = block_list_items(text, "authorizers") if doc is None else doc.get("authorizers")
    if not isinstance(items, list):
        return None, "no authorizers list"
    return [{"type": str(i.get("type")), "name": i.get("name")} for i in items if isinstance(i, dict)], None


def anonymous_auth(node, path):
    """``(anonymous, error)`` of an AuthenticationConfiguration: ``{"enabled": bool, "conditions": n}``, or
    None when it has no anonymous section (the API server's default then applies)."""
    text, doc = config_doc(node, path)
    if text is None:
        return None, "cannot be read"
    if doc is not None:
        anon = doc.get("anonymous")
        if not isinstance(anon, dict) or not isinstance(anon.get("enabled"), bool):
            return None, None
        return {"enabled": anon["enabled"], "conditions": len(anon.get("conditions") or [])}, None
    enabled = yaml_lookup(text, ("anonymous", "enabled"))
    if str(enabled).lower() not in ("true", "false"):
        return None, None
    conditions = [i for i in block_list_items(text, "conditions") if i.get("path")]
    return {"enabled": str(enabled).lower() == "true", "conditions": len(conditions)}, None
