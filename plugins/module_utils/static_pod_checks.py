# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The safety checks of a static pod manifest edit: values the component's release refuses, admission plugins and
authorizers that must not be lost or left unconfigured, probes an edit would break, and the files the flags name
(each must be on a hostPath mount of the container; ``node_checks`` for ``static_pod_node.check_node_paths`` to
verify on the node). Standard library only. Each check appends sentences to the ``static_pod.EditResult``'s
``errors`` (the edit is refused) or ``warnings``.
"""

from __future__ import annotations

import os

from ansible_collections.secure_cluster.k8s.plugins.module_utils import etcd_flags, k8s_flags
from ansible_collections.secure_cluster.k8s.plugins.module_utils.pod_mounts import resolve_mount
from ansible_collections.secure_cluster.k8s.plugins.module_utils.static_pod_values import (
    FILE_LIST_FLAGS,
    parse_flag_map,
    split_flag_list,
)

# Flags whose value names a file the component reads (comma lists for the "strings" ones).
FILE_FLAGS = frozenset((
    "admission-control-config-file", "allow-metric-labels-manifest", "audit-policy-file",
    "audit-webhook-config-file", "authentication-config", "authentication-kubeconfig",
    "authentication-token-webhook-config-file", "authorization-config", "authorization-kubeconfig",
    "authorization-webhook-config-file", "client-ca-file", "cloud-config",
    "cluster-signing-cert-file", "cluster-signing-key-file",
    "cluster-signing-kube-apiserver-client-cert-file", "cluster-signing-kube-apiserver-client-key-file",
    "cluster-signing-kubelet-client-cert-file", "cluster-signing-kubelet-client-key-file",
    "cluster-signing-kubelet-serving-cert-file", "cluster-signing-kubelet-serving-key-file",
    "cluster-signing-legacy-unknown-cert-file", "cluster-signing-legacy-unknown-key-file",
    "config", "egress-selector-config-file", "encryption-provider-config", "etcd-cafile", "etcd-certfile",
    "etcd-keyfile", "kubeconfig", "kubelet-certificate-authority", "kubelet-client-certificate",
    "kubelet-client-key", "oidc-ca-file", "proxy-client-cert-file", "proxy-client-key-file",
    "requestheader-client-ca-file", "root-ca-file", "service-account-key-file",
    "service-account-private-key-file", "service-account-signing-key-file", "tls-cert-file",
    "tls-private-key-file", "token-auth-file", "tracing-config-file",
))
# Flags naming a file the component writes: its directory must be on a writable hostPath mount.
WRITTEN_FILE_FLAGS = frozenset(("audit-log-path",))
# Admission plugins kube-apiserver refuses to start with unless --admission-control-config-file configures them.
PLUGINS_NEEDING_CONFIG = ("EventRateLimit", "ImagePolicyWebhook")
# Authorizers that must survive an edit of --authorization-mode when they were there.
KEEP_AUTHORIZERS = ("Node", "RBAC")


def _unauthenticated_http_probes(container):
    names = []
    for key in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = container.get(key)
        if not isinstance(probe, dict) or not isinstance(probe.get("httpGet"), dict):
            continue
        headers = probe["httpGet"].get("httpHeaders") or []
        if any(str(h.get("name", "")).lower() == "authorization" for h in headers if isinstance(h, dict)):
            continue
        names.append("%s (%s %s)" % (key, probe["httpGet"].get("scheme", "HTTP"), probe["httpGet"].get("path", "/")))
    return names


def _check_feature_gates(component, version, before, after, result):
    # Only gates this edit sets or changes: gates already in the manifest run as they are.
    old = parse_flag_map(before.get("feature-gates"))
    for gate, value in parse_flag_map(after.get("feature-gates")).items():
        if gate in old and old[gate] == value:
            continue
        problem = k8s_flags.check_feature_gate(component, version, gate, value)
        if problem:
            result.errors.append("--feature-gates: %s" % problem)


def check_invariants(pod, container, component, version, before, after, result, allow_probe_breaking):
    changed = set(result.flags_changed["added"]) | set(result.flags_changed["changed"])
    if "feature-gates" in changed:
        _check_feature_gates(component, version, before, after, result)
    # etcd names its TLS versions its own way (TLS1.2); etcd_flags judges etcd's values
    if "tls-min-version" in changed and component in k8s_flags.COMPONENTS:
        problem = k8s_flags.check_tls_min_version(after["tls-min-version"])
        if problem:
            result.errors.append("--tls-min-version: %s" % problem)
    if "tls-cipher-suites" in changed and component in k8s_flags.COMPONENTS:
        for suite in split_flag_list(after["tls-cipher-suites"]):
            problem, warning = k8s_flags.check_cipher_suite(suite)
            if problem:
                result.errors.append("--tls-cipher-suites: %s" % problem)
            elif warning:
                result.warnings.append("--tls-cipher-suites: %s" % warning)
    if component == "kube-apiserver":
        enabled = split_flag_list(after.get("enable-admission-plugins"))
        disabled = split_flag_list(after.get("disable-admission-plugins"))
        for plugin in enabled + disabled:
            problem = k8s_flags.check_admission_plugin(version, plugin)
            if problem and problem not in result.errors:
                result.errors.append(problem)
        both = [p for p in enabled if p in disabled]
        if both:
            result.errors.append("admission plugin%s %s would be both enabled (--enable-admission-plugins) and "
                                 "disabled (--disable-admission-plugins)"
                                 % ("s" if len(both) > 1 else "", ", ".join(both)))
        needs_config = [p for p in PLUGINS_NEEDING_CONFIG if p in enabled]
        if needs_config and not after.get("admission-control-config-file"):
            result.errors.append("admission plugin%s %s need%s a configuration in --admission-control-config-file "
                                 "(an AdmissionConfiguration naming %s); without it kube-apiserver refuses to start"
                                 % ("s" if len(needs_config) > 1 else "", ", ".join(needs_config),
                                    "" if len(needs_config) > 1 else "s", " and ".join(needs_config)))
        old_modes = split_flag_list(before.get("authorization-mode"))
        new_modes = split_flag_list(after.get("authorization-mode"))
        lost = [m for m in KEEP_AUTHORIZERS if m in old_modes and m not in new_modes]
        if lost:
            result.errors.append("--authorization-mode must keep %s: it was %s and would become %s"
                                 % (" and ".join(lost), ",".join(old_modes),
                                    ",".join(new_modes) if new_modes else "unset (AlwaysAllow)"))
        anonymous = after.get("anonymous-auth")
        if anonymous is not None and str(anonymous).lower() in ("false", "0", "f") and "anonymous-auth" in changed:
            probes = _unauthenticated_http_probes(container)
            if probes:
                message = ("--anonymous-auth=false on kube-apiserver would make its unauthenticated httpGet probes "
                           "(%s) get 401 Unauthorized: the kubelet would keep killing the API server and the pod "
                           "would restart-loop. Keep anonymous auth and restrict it with RBAC, or (1.32+) use an "
                           "AuthenticationConfiguration (--authentication-config) allowing anonymous requests only "
                           "to /livez, /readyz and /healthz; set allow_probe_breaking to do it anyway"
                           % ", ".join(probes))
                if allow_probe_breaking:
                    result.warnings.append(message)
                else:
                    result.errors.append(message)


def plan_file_checks(pod, container, after, result):
    cname = container.get("name")
    file_flags = etcd_flags.FILE_FLAGS if result.component == "etcd" else FILE_FLAGS
    for name in sorted(after):
        value = after[name]
        if value is None or value == "":
            continue
        if name in file_flags:
            paths = split_flag_list(value) if name in FILE_LIST_FLAGS else [value]
            for path in paths:
                if not path.startswith("/"):
                    result.errors.append("--%s=%s: the path must be absolute" % (name, path))
                    continue
                mount = resolve_mount(pod, container, path)
                if mount is None:
                    result.errors.append("--%s=%s: %s is not inside any volume mounted into container %s; add a "
                                         "hostPath volume for it (volumes)" % (name, value, path, cname))
                    continue
                if mount["host_path"] is None:
                    result.errors.append("--%s=%s: volume %s mounted at %s is not a hostPath volume"
                                         % (name, value, mount["volume"], mount["mount_path"]))
                    continue
                check = {"flag": name, "path": mount["host_path"], "kind": "file", "may_create": False}
                if name == "admission-control-config-file":
                    enabled = split_flag_list(after.get("enable-admission-plugins"))
                    mention = [p for p in PLUGINS_NEEDING_CONFIG if p in enabled]
                    if mention:
                        check["mentions"] = mention
                result.node_checks.append(check)
        elif name in WRITTEN_FILE_FLAGS:
            if value == "-":
                continue
            if not value.startswith("/"):
                result.errors.append("--%s=%s: the path must be absolute" % (name, value))
                continue
            directory = os.path.dirname(value.rstrip("/")) or "/"
            mount = resolve_mount(pod, container, directory)
            if mount is None:
                result.errors.append("--%s=%s: its directory %s is not inside any volume mounted into container %s; "
                                     "add a writable hostPath volume for it (volumes, readOnly: false)"
                                     % (name, value, directory, cname))
                continue
            if mount["read_only"]:
                result.errors.append("--%s=%s: its directory %s is on volume %s, which is mounted read-only at %s"
                                     % (name, value, directory, mount["volume"], mount["mount_path"]))
                continue
            if mount["host_path"] is None:
                result.errors.append("--%s=%s: volume %s mounted at %s is not a hostPath volume"
                                     % (name, value, mount["volume"], mount["mount_path"]))
                continue
            # the kubelet creates a DirectoryOrCreate volume's directory itself
            may_create = (mount["volume_type"] == "DirectoryOrCreate"
                          and directory.rstrip("/") == str(mount["mount_path"]).rstrip("/"))
            result.node_checks.append({"flag": name, "path": mount["host_path"], "kind": "writable_dir",
                                       "may_create": may_create})
