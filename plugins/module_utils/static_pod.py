# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Structured edits of kubeadm static pod manifests (``spec.containers[N].command``), with the safety checks.

Standard library only. The controller side of ``secure_cluster.k8s.static_pod_manifest``, pure (the action plugin
parses and dumps the YAML with PyYAML); the flag values are read and merged by ``static_pod_values``, the edit is
checked by ``static_pod_checks``, and the node side (``static_pod_node``) reads and writes the file::

    edit_pod(pod, flags=None, remove_flags=None, replace=None, volumes=None, container=None, version=None,
             allow_probe_breaking=False) -> EditResult
        # EditResult: pod (edited deep copy), changed, flags_changed {added, changed, removed}, component,
        # version, container, errors [sentences], warnings, node_checks [{flag, path, kind, may_create}]
    detect_version(image) -> "1.33.5" | None
    pod_flags(pod, container=None, version=None) -> {component, version, supported, container, flags}

Nothing here writes; ``edit_pod`` reports every refusal in ``errors`` and the caller must not write when there is
one. ``ManifestError`` is the node side's: one error for a manifest that cannot be edited, read or written.
"""

from __future__ import annotations

import copy
import os
import re

from ansible_collections.secure_cluster.k8s.plugins.module_utils import etcd_flags, k8s_flags
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import tokenize
from ansible_collections.secure_cluster.k8s.plugins.module_utils.static_pod_checks import (
    check_invariants,
    plan_file_checks,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.static_pod_node import ManifestError
from ansible_collections.secure_cluster.k8s.plugins.module_utils.static_pod_values import (
    desired_value,
    flag_values,
    normalize_flag,
)

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def _segments(target, flag_types, is_etcd):
    """The container's ``command`` (without the program) and ``args``, tokenized: ``[(field, occurrences)]``.
    etcd does not fold ``_`` into ``-`` in flag names; the Kubernetes components do."""
    segments = []
    if isinstance(target.get("command"), list):
        segments.append(("command", tokenize(target["command"][1:], flag_types, normalize=not is_etcd)))
    if isinstance(target.get("args"), list):
        segments.append(("args", tokenize(target["args"], flag_types, normalize=not is_etcd)))
    return segments


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

    segments = _segments(target, flag_types, is_etcd)
    if not segments:
        raise ManifestError("container %s has no command or args list" % result.container)
    before = flag_values(segments)

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
        wanted[name] = desired_value(name, value, before.get(name), name in replace)

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
    after = flag_values(segments)
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
    check_invariants(new_pod, target, component, version, before, after, result, allow_probe_breaking)
    plan_file_checks(new_pod, target, after, result)

    result.pod = new_pod
    result.changed = new_pod != pod
    return result


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
    segments = _segments(target, flag_types, is_etcd)
    version_text = str(version).lstrip("v") if version else None
    try:
        supported = bool(version_text) and bool((etcd_flags if is_etcd else k8s_flags).minor(version_text))
    except ValueError:
        supported = False
    return {"component": component, "version": version_text, "supported": supported,
            "container": target.get("name"), "flags": flag_values(segments)}
