# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Structured edits of kubeadm static pod manifests (``spec.containers[N].command``), with the safety checks.

Standard library only. Two halves, used by ``secure_cluster.k8s.static_pod_manifest``:

* controller side, pure (the action plugin, which parses and dumps the YAML with PyYAML)::

    edit_pod(pod, flags=None, remove_flags=None, replace=None, volumes=None, container=None, version=None,
             allow_probe_breaking=False) -> EditResult
        # EditResult: pod (edited deep copy), changed, flags_changed {added, changed, removed}, component,
        # version, container, errors [sentences], warnings, node_checks [{flag, path, kind, may_create}]
    detect_version(image) -> "1.33.5" | None

* target side (the module, which runs on the node)::

    read_manifest(path) -> {exists, content, sha256, mode, uid, gid}
    check_node_paths(node_checks) -> [problem sentences]
    write_manifest(path, content, expected_sha256, backup_dir, backup_keep, check_mode) -> {changed, backup_path}

Nothing here writes unless ``write_manifest`` is called with ``check_mode=False``; ``edit_pod`` reports every
refusal in ``errors`` and the caller must not write when there is one.
"""

from __future__ import annotations

import copy
import os
import re

from ansible_collections.secure_cluster.k8s.plugins.module_utils import etcd_flags
from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_flags, owned_file
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import tokenize
from ansible_collections.secure_cluster.k8s.plugins.module_utils.pod_mounts import resolve_mount, under as _under

# Comma-list flags whose members are merged (existing members kept, new ones appended) unless replaced.
DEFAULT_BACKUP_DIR = "/var/lib/secure_cluster/backups/manifests"

# The options users set; the action plugin validates them, the module adds its internal options to them.
USER_ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    container=dict(type="str"),
    flags=dict(type="dict", default={}),
    remove_flags=dict(type="list", elements="str", default=[]),
    replace=dict(type="list", elements="str", default=[]),
    volumes=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        hostPath=dict(type="str", required=True),
        mountPath=dict(type="str"),
        readOnly=dict(type="bool", default=True),
        type=dict(type="str", default="DirectoryOrCreate"),
    )),
    version=dict(type="str"),
    backup_dir=dict(type="path", default=DEFAULT_BACKUP_DIR),
    backup_keep=dict(type="int", default=5),
    preflight=dict(type="bool", default=True),
    allow_probe_breaking=dict(type="bool", default=False),
)

MERGE_LIST_FLAGS = frozenset((
    "enable-admission-plugins", "disable-admission-plugins", "authorization-mode", "tls-cipher-suites",
))
# K=V map flags merged key by key (a null value removes the key).
MERGE_MAP_FLAGS = frozenset(("feature-gates",))

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
# File flags that may be given several times / as a comma list.
FILE_LIST_FLAGS = frozenset(("service-account-key-file",))
# Flags naming a file the component writes: its directory must be on a writable hostPath mount.
WRITTEN_FILE_FLAGS = frozenset(("audit-log-path",))
# Admission plugins kube-apiserver refuses to start with unless --admission-control-config-file configures them.
PLUGINS_NEEDING_CONFIG = ("EventRateLimit", "ImagePolicyWebhook")
# Authorizers that must survive an edit of --authorization-mode when they were there.
KEEP_AUTHORIZERS = ("Node", "RBAC")

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


class ManifestError(ValueError):
    """The manifest is not a Pod this module can edit (malformed, no such container, ...)."""


class EditResult(object):
    def __init__(self):
        self.pod = None
        self.changed = False
        self.flags_changed = {"added": {}, "changed": {}, "removed": {}}
        self.volumes_added = []
        self.component = None
        self.version = None
        self.container = None
        self.errors = []
        self.warnings = []
        self.node_checks = []


# ------------------------------------------------------------------------------------------------------------
# values
# ------------------------------------------------------------------------------------------------------------


def normalize_flag(name):
    """``--audit_log_path=x`` -> ``audit-log-path`` (leading dashes and any value dropped, "_" read as "-")."""
    text = str(name).strip().lstrip("-")
    return text.partition("=")[0].replace("_", "-")


def _scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _split(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            out.extend(_split(item))
        return out
    return [part.strip() for part in _scalar(value).split(",") if part.strip()]


def _parse_map(value):
    """``K=V,K2=V2`` / dict -> dict (order kept); a dict value of None means "remove this key"."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict((str(k), v) for k, v in value.items())
    out = {}
    for item in _split(value):
        key, dummy, val = item.partition("=")
        out[key.strip()] = val.strip()
    return out


def _format_map(mapping):
    return ",".join("%s=%s" % (k, _scalar(v)) for k, v in mapping.items())


def format_value(name, value):
    """A requested value as the string written after ``--name=``."""
    if isinstance(value, dict):
        return _format_map(value)
    if isinstance(value, (list, tuple)):
        return ",".join(_split(value))
    return _scalar(value)


def detect_version(image):
    """``registry.k8s.io/kube-apiserver:v1.33.5`` -> ``1.33.5`` (None when the tag is not a version)."""
    if not image:
        return None
    ref = str(image).split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    match = _VERSION_RE.match(last.rsplit(":", 1)[1])
    if not match:
        return None
    return ".".join(g for g in match.groups() if g is not None)


# ------------------------------------------------------------------------------------------------------------
# command line items
# ------------------------------------------------------------------------------------------------------------


def _effective(items, name):
    values = [("true" if value is None else value) for n, value, dummy in items if n == name]
    if not values:
        return None
    if name in MERGE_LIST_FLAGS or name in FILE_LIST_FLAGS:
        return ",".join(_split(values))
    if name in MERGE_MAP_FLAGS:
        merged = {}
        for value in values:
            merged.update(_parse_map(value))
        return _format_map(merged)
    return values[-1]


def _flag_values(segments):
    """{name: effective value} over every segment's items, in order of first appearance."""
    all_items = [item for dummy, items in segments for item in items]
    names = []
    for name, dummy, dummy2 in all_items:
        if name is not None and name not in names:
            names.append(name)
    return dict((name, _effective(all_items, name)) for name in names)


def _desired_value(name, requested, before, replace):
    """The new value string of a flag set to ``requested`` (merging with ``before`` where that applies)."""
    if name in MERGE_LIST_FLAGS and not replace:
        members = _split(before)
        for member in _split(requested):
            if member not in members:
                members.append(member)
        return ",".join(members)
    if name in MERGE_MAP_FLAGS:
        merged = {} if replace else _parse_map(before)
        for key, val in _parse_map(requested).items():
            if val is None:
                merged.pop(key, None)
            else:
                merged[key] = _scalar(val)
        return _format_map(merged) if merged else None
    return format_value(name, requested)


# ------------------------------------------------------------------------------------------------------------
# mounts
# ------------------------------------------------------------------------------------------------------------


def _add_volumes(pod, container, volumes, result):
    spec = pod.setdefault("spec", {})
    pod_volumes = spec.get("volumes")
    if pod_volumes is None:
        pod_volumes = spec["volumes"] = []
    mounts = container.get("volumeMounts")
    if mounts is None:
        mounts = container["volumeMounts"] = []
    for wanted in volumes or []:
        name = wanted.get("name")
        host_path = wanted.get("hostPath") or wanted.get("host_path")
        if not name or not host_path:
            result.errors.append("volumes: every entry needs name and hostPath (got %r)" % (wanted,))
            continue
        mount_path = wanted.get("mountPath") or wanted.get("mount_path") or host_path
        read_only = wanted.get("readOnly", wanted.get("read_only", True))
        read_only = True if read_only is None else bool(read_only)
        kind = wanted.get("type") or "DirectoryOrCreate"
        new_volume = {"hostPath": {"path": host_path, "type": kind}, "name": name}
        existing = [v for v in pod_volumes if isinstance(v, dict) and v.get("name") == name]
        if existing:
            have = existing[0].get("hostPath") or {}
            if have.get("path") != host_path:
                result.errors.append("volumes: pod volume %s already exists with hostPath %s, not %s"
                                     % (name, have.get("path"), host_path))
                continue
        else:
            pod_volumes.append(new_volume)
            result.volumes_added.append(name)
        new_mount = {"mountPath": mount_path, "name": name}
        if read_only:
            new_mount["readOnly"] = True
        have_mounts = [m for m in mounts if isinstance(m, dict) and m.get("name") == name]
        if have_mounts:
            if have_mounts[0].get("mountPath") != mount_path:
                result.errors.append("volumes: container %s already mounts volume %s at %s, not %s"
                                     % (container.get("name"), name, have_mounts[0].get("mountPath"), mount_path))
            elif bool(have_mounts[0].get("readOnly")) != read_only:
                have_mounts[0].pop("readOnly", None)
                if read_only:
                    have_mounts[0]["readOnly"] = True
            continue
        clash = [m for m in mounts if isinstance(m, dict) and m.get("mountPath") == mount_path]
        if clash:
            result.errors.append("volumes: container %s already mounts volume %s at %s"
                                 % (container.get("name"), clash[0].get("name"), mount_path))
            continue
        mounts.append(new_mount)


# ------------------------------------------------------------------------------------------------------------
# the edit
# ------------------------------------------------------------------------------------------------------------


def _select_container(pod, container):
    if not isinstance(pod, dict) or pod.get("kind") != "Pod" or not isinstance(pod.get("spec"), dict):
        raise ManifestError("the manifest is not a Pod object (kind: Pod with a spec)")
    containers = pod["spec"].get("containers")
    if not isinstance(containers, list) or not containers or not all(isinstance(c, dict) for c in containers):
        raise ManifestError("the manifest has no spec.containers list")
    if container is None:
        return containers[0]
    for item in containers:
        if item.get("name") == container:
            return item
    raise ManifestError("the manifest has no container named %s (it has %s)"
                        % (container, ", ".join(str(c.get("name")) for c in containers)))


def _component_of(container):
    command = container.get("command") or []
    if command:
        base = os.path.basename(str(command[0]))
        if base in k8s_flags.COMPONENTS:
            return base
    if container.get("name") in k8s_flags.COMPONENTS:
        return container.get("name")
    # etcd (kubeadm's stacked etcd): its own flag set and version scheme, see etcd_flags
    if (command and os.path.basename(str(command[0])) == "etcd") or container.get("name") == "etcd":
        return "etcd"
    return None


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


def edit_pod(pod, flags=None, remove_flags=None, replace=None, volumes=None, container=None, version=None,
             allow_probe_breaking=False):
    """Apply the requested changes to a deep copy of ``pod``; see the module docstring for the result.

    Raises :class:`ManifestError` when the manifest itself cannot be edited; refusals of the request are
    returned in ``errors``.
    """
    result = EditResult()
    new_pod = copy.deepcopy(pod)
    target = _select_container(new_pod, container)
    result.container = target.get("name")
    component = _component_of(target)
    result.component = component
    if component is None:
        raise ManifestError("container %s does not run a component this module knows (%s)"
                            % (target.get("name"), ", ".join(k8s_flags.COMPONENTS)))
    version = version or detect_version(target.get("image"))
    is_etcd = component == "etcd"
    if not version:
        raise ManifestError("cannot tell the %s version from image %r; set version"
                            % ("etcd" if is_etcd else "Kubernetes", target.get("image")))
    try:
        if is_etcd:
            etcd_flags.minor(version)
        else:
            k8s_flags.minor(version)
    except ValueError as exc:
        raise ManifestError("unsupported %s version %s: %s" % ("etcd" if is_etcd else "Kubernetes", version, exc))
    result.version = str(version).lstrip("v")
    flag_types = etcd_flags.flags_for(version) if is_etcd else k8s_flags.flags_for(component, version)

    segments = []
    if isinstance(target.get("command"), list):
        segments.append(("command", tokenize(target["command"][1:], flag_types, normalize=not is_etcd)))
    if isinstance(target.get("args"), list):
        segments.append(("args", tokenize(target["args"], flag_types, normalize=not is_etcd)))
    if not segments:
        raise ManifestError("container %s has no command or args list" % result.container)
    before = _flag_values(segments)

    requested = {}
    for name, value in (flags or {}).items():
        requested[normalize_flag(name)] = value
    for name in remove_flags or []:
        requested[normalize_flag(name)] = None
    replace = set(normalize_flag(n) for n in (replace or []))

    wanted = {}  # name -> new string value or None (remove)
    for name, value in requested.items():
        if value is None:
            wanted[name] = None
            continue
        problem = (etcd_flags.check_value(version, name, value) if is_etcd
                   else k8s_flags.check_flag(component, version, name))
        if problem:
            result.errors.append(problem)
            continue
        wanted[name] = _desired_value(name, value, before.get(name), name in replace)

    # rewrite the items
    new_flags = {}
    for name, value in wanted.items():
        if value is None:
            if name in before:
                for dummy, items in segments:
                    items[:] = [item for item in items if item[0] != name]
            continue
        occurrences = sum(1 for dummy, items in segments for item in items if item[0] == name)
        if occurrences == 0:
            new_flags[name] = value
            continue
        if occurrences == 1 and before.get(name) == value:
            continue
        seen = False
        for dummy, items in segments:
            kept = []
            for item in items:
                if item[0] == name:
                    if seen:
                        continue
                    seen = True
                    item = [name, value, ["--%s=%s" % (name, value)]]
                kept.append(item)
            items[:] = kept
    appended = ["--%s=%s" % (name, new_flags[name]) for name in sorted(new_flags)]
    for key, items in segments:
        tokens = [tok for item in items for tok in item[2]]
        if key == segments[0][0]:
            tokens.extend(appended)
        if key == "command":
            target["command"] = [target["command"][0]] + tokens
        else:
            target["args"] = tokens
    after = _flag_values(segments)
    if appended:
        for name in new_flags:
            after[name] = new_flags[name]

    for name in sorted(set(before) | set(after)):
        if name not in after:
            result.flags_changed["removed"][name] = before[name]
        elif name not in before:
            result.flags_changed["added"][name] = after[name]
        elif before[name] != after[name]:
            result.flags_changed["changed"][name] = {"before": before[name], "after": after[name]}

    _add_volumes(new_pod, target, volumes, result)
    _check_invariants(new_pod, target, component, version, before, after, result, allow_probe_breaking)
    _plan_file_checks(new_pod, target, after, result)

    result.pod = new_pod
    result.changed = new_pod != pod
    return result


def _check_feature_gates(component, version, before, after, result):
    # Only gates this edit sets or changes: gates already in the manifest run as they are.
    old = _parse_map(before.get("feature-gates"))
    for gate, value in _parse_map(after.get("feature-gates")).items():
        if gate in old and old[gate] == value:
            continue
        problem = k8s_flags.check_feature_gate(component, version, gate, value)
        if problem:
            result.errors.append("--feature-gates: %s" % problem)


def _check_invariants(pod, container, component, version, before, after, result, allow_probe_breaking):
    changed = set(result.flags_changed["added"]) | set(result.flags_changed["changed"])
    if "feature-gates" in changed:
        _check_feature_gates(component, version, before, after, result)
    # etcd names its TLS versions its own way (TLS1.2); etcd_flags judges etcd's values
    if "tls-min-version" in changed and component in k8s_flags.COMPONENTS:
        problem = k8s_flags.check_tls_min_version(after["tls-min-version"])
        if problem:
            result.errors.append("--tls-min-version: %s" % problem)
    if "tls-cipher-suites" in changed and component in k8s_flags.COMPONENTS:
        for suite in _split(after["tls-cipher-suites"]):
            problem, warning = k8s_flags.check_cipher_suite(suite)
            if problem:
                result.errors.append("--tls-cipher-suites: %s" % problem)
            elif warning:
                result.warnings.append("--tls-cipher-suites: %s" % warning)
    if component == "kube-apiserver":
        enabled = _split(after.get("enable-admission-plugins"))
        disabled = _split(after.get("disable-admission-plugins"))
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
        old_modes = _split(before.get("authorization-mode"))
        new_modes = _split(after.get("authorization-mode"))
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


def _plan_file_checks(pod, container, after, result):
    cname = container.get("name")
    file_flags = etcd_flags.FILE_FLAGS if result.component == "etcd" else FILE_FLAGS
    for name in sorted(after):
        value = after[name]
        if value is None or value == "":
            continue
        if name in file_flags:
            paths = _split(value) if name in FILE_LIST_FLAGS else [value]
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
                    enabled = _split(after.get("enable-admission-plugins"))
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


# ------------------------------------------------------------------------------------------------------------
# target side
# ------------------------------------------------------------------------------------------------------------


def read_manifest(path):
    """The manifest's text and metadata; ``exists`` False when there is no such file."""
    try:
        current = owned_file.read(path)
    except owned_file.OwnedFileError as exc:
        raise ManifestError(str(exc))
    if not current["exists"]:
        return current
    try:
        current["content"] = current["content"].decode("utf-8")
    except UnicodeDecodeError:
        raise ManifestError("%s is not UTF-8 text" % path)
    return current


def check_node_paths(node_checks):
    """Problems with the files the flags name, as sentences (empty when all is well)."""
    problems = []
    for check in node_checks or []:
        flag, path, kind = check.get("flag"), check.get("path"), check.get("kind")
        if kind == "writable_dir":
            if not os.path.exists(path):
                if not check.get("may_create"):
                    problems.append("--%s: directory %s does not exist on the node" % (flag, path))
            elif not os.path.isdir(path):
                problems.append("--%s: %s is not a directory" % (flag, path))
            elif not os.access(path, os.W_OK | os.X_OK):
                problems.append("--%s: directory %s is not writable" % (flag, path))
            continue
        if not os.path.exists(path):
            problems.append("--%s: file %s does not exist on the node" % (flag, path))
        elif not os.path.isfile(path):
            problems.append("--%s: %s is not a regular file" % (flag, path))
        elif not os.access(path, os.R_OK):
            problems.append("--%s: file %s is not readable" % (flag, path))
        elif check.get("mentions"):
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8", "replace")
            for name in check["mentions"]:
                if not re.search(r"\bname:\s*[\"']?%s\b" % re.escape(name), text):
                    problems.append("--%s: %s has no configuration for admission plugin %s (no plugins entry "
                                    "with name: %s)" % (flag, path, name, name))
    return problems


def write_manifest(path, content, expected_sha256, backup_dir, backup_keep=5, check_mode=False):
    """Back the current file up into ``backup_dir``, then replace it atomically with ``content``
    (module_utils/owned_file.py: staged outside the manifest directory, so the kubelet never sees a partial pod).

    Refuses when the file changed since it was read (``expected_sha256``; None means "must not exist") or when
    ``backup_dir`` is inside the manifest's directory. Mode and ownership of the old file are kept (0600
    root:root for a new one). Returns ``{changed, backup_path}``.
    """
    directory = os.path.dirname(os.path.abspath(path))
    backup_dir = os.path.abspath(backup_dir)
    if _under(backup_dir, directory):
        raise ManifestError("backup_dir %s is inside %s: a backup there would run as a second static pod"
                            % (backup_dir, directory))
    try:
        written = owned_file.write(path, content, expected_sha256=expected_sha256, backup_dir=backup_dir,
                                   backup_keep=backup_keep, check_mode=check_mode)
    except owned_file.OwnedFileError as exc:
        raise ManifestError(str(exc))
    return {"changed": written["changed"], "backup_path": written["backup_path"]}


def pod_flags(pod, container=None, version=None):
    """Read-only view of a Pod's flags: ``{component, version, supported, container, flags: {name: value}}``.

    ``supported`` says whether k8s_flags knows the flags of that version (k8s_flags.SUPPORTED_MINORS).

    The same parsing as :func:`edit_pod` (used by roles that compute a flag from the value already there, e.g. to
    drop one member of a list flag). Raises :class:`ManifestError` like :func:`edit_pod`.
    """
    target = _select_container(pod, container)
    component = _component_of(target)
    version = version or detect_version(target.get("image"))
    is_etcd = component == "etcd"
    flag_types = {}
    if component and version:
        flag_types = etcd_flags.flags_for(version) if is_etcd else k8s_flags.flags_for(component, version)
    segments = []
    if isinstance(target.get("command"), list):
        segments.append(("command", tokenize(target["command"][1:], flag_types, normalize=not is_etcd)))
    if isinstance(target.get("args"), list):
        segments.append(("args", tokenize(target["args"], flag_types, normalize=not is_etcd)))
    version_text = str(version).lstrip("v") if version else None
    supported = bool(version_text) and ".".join(version_text.split(".")[:2]) in k8s_flags.SUPPORTED_MINORS
    if is_etcd and version_text:
        try:
            supported = bool(etcd_flags.minor(version_text))
        except ValueError:
            supported = False
    return {"component": component, "version": version_text, "supported": supported,
            "container": target.get("name"), "flags": _flag_values(segments)}
