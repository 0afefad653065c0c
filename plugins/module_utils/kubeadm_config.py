# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubeadm ClusterConfiguration as the place hardening must also live so that ``kubeadm upgrade`` keeps it.

``kubeadm upgrade apply`` and ``kubeadm upgrade node`` regenerate the control-plane static pod manifests from the
``kubeadm-config`` ConfigMap (kube-system, key ``ClusterConfiguration``): kubeadm's own flags, overridden by each
component's ``extraArgs``, plus its ``extraVolumes``. A flag set only in the manifest is lost at the next upgrade.

Pure functions on the parsed document (the caller parses and dumps the YAML); ``kubeadm.k8s.io/v1beta4`` (kubeadm
1.31 and later; what 1.34-1.37 store) has ``extraArgs`` as a list of ``{name, value}``, ``v1beta3`` as a map.

``kubeadm upgrade node`` also rewrites every kubelet's ``/var/lib/kubelet/config.yaml`` from the ``kubelet-config``
ConfigMap (key ``kubelet``, a KubeletConfiguration); the kubelet's settings are kept there.

:func:`regenerate` is the other direction, for the audit: what the next ``kubeadm upgrade`` would write for a
component, from kubeadm's own defaults of that release (``kubeadm_manifests`` of data/k8s_release_flags.json, read from the real
kubeadm) and the ClusterConfiguration.
"""
from __future__ import annotations

import copy

from ansible_collections.secure_cluster.k8s.plugins.module_utils import kubelet_config, static_pod_node
from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_flag_data, k8s_version

API_VERSIONS = ("kubeadm.k8s.io/v1beta4", "kubeadm.k8s.io/v1beta3")
# Where each static pod's settings live in the ClusterConfiguration.
SECTIONS = {
    "kube-apiserver": ("apiServer",),
    "kube-controller-manager": ("controllerManager",),
    "kube-scheduler": ("scheduler",),
    "etcd": ("etcd", "local"),
}
# The ConfigMap (kube-system) and key kubeadm upgrade reads each component from.
CONFIGMAPS = dict([(c, ("kubeadm-config", "ClusterConfiguration")) for c in SECTIONS],
                  kubelet=("kubelet-config", "kubelet"))
# Flags whose value is the node's own (its addresses, its member name): one ClusterConfiguration serves every
# control-plane node, so these cannot go there (kubeadm patches per node can).
NODE_SPECIFIC = {
    "kube-apiserver": {"advertise-address"},
    "kube-controller-manager": set(),
    "kube-scheduler": set(),
    "etcd": {"name", "advertise-client-urls", "initial-advertise-peer-urls", "initial-cluster", "listen-client-urls",
             "listen-peer-urls", "listen-metrics-urls"},
}

# What the user gives the action (the static_pod_manifest edit, which the ClusterConfiguration must keep).
USER_ARGUMENT_SPEC = dict(
    component=dict(type="str", required=True, choices=sorted(CONFIGMAPS)),
    manifest=dict(type="path"),
    flags=static_pod_node.USER_ARGUMENT_SPEC["flags"],
    remove_flags=static_pod_node.USER_ARGUMENT_SPEC["remove_flags"],
    replace=static_pod_node.USER_ARGUMENT_SPEC["replace"],
    volumes=static_pod_node.USER_ARGUMENT_SPEC["volumes"],
    version=static_pod_node.USER_ARGUMENT_SPEC["version"],
    settings=dict(type="dict", default={}),
    kubeconfig=dict(type="path", default="/etc/kubernetes/admin.conf"),
    kubectl=dict(type="str", default="kubectl"),
)


class ConfigError(ValueError):
    """The ClusterConfiguration cannot take the settings; nothing is written."""


def _section(config, component, create):
    if component not in SECTIONS:
        raise ConfigError("no ClusterConfiguration section for %s" % component)
    if component == "etcd" and isinstance(config.get("etcd"), dict) and "external" in config["etcd"]:
        raise ConfigError("the cluster uses external etcd: kubeadm writes no etcd manifest to keep settings for")
    node = config
    for key in SECTIONS[component]:
        if not isinstance(node.get(key), dict):
            if not create:
                return {}
            node[key] = {}
        node = node[key]
    return node


def check(config):
    """Refuse what is not a kubeadm ClusterConfiguration this module knows how to edit."""
    if not isinstance(config, dict) or config.get("kind") != "ClusterConfiguration":
        raise ConfigError("the document is not a kubeadm ClusterConfiguration")
    if config.get("apiVersion") not in API_VERSIONS:
        raise ConfigError("ClusterConfiguration %s is not one of %s" % (config.get("apiVersion"), ", ".join(API_VERSIONS)))


def extra_args(config, component):
    """[(name, value)] of a component's extraArgs, in order (v1beta3's map as its items)."""
    check(config)
    raw = _section(config, component, create=False).get("extraArgs") or []
    if isinstance(raw, dict):
        return [(str(k), str(v)) for k, v in raw.items()]
    return [(str(item.get("name")), str(item.get("value", ""))) for item in raw if isinstance(item, dict)]


def extra_volumes(config, component):
    check(config)
    return [dict(v) for v in _section(config, component, create=False).get("extraVolumes") or []]


def host_path_mount(volume):
    """kubeadm's HostPathMount for a static_pod_manifest volume (same defaults as that module)."""
    return {"name": volume["name"], "hostPath": volume["hostPath"],
            "mountPath": volume.get("mountPath") or volume["hostPath"],
            "readOnly": bool(volume.get("readOnly", True)),
            "pathType": volume.get("type") or volume.get("pathType") or "DirectoryOrCreate"}


def sync(config, component, args, volumes=()):
    """A copy of ``config`` whose ``component`` keeps ``args`` and ``volumes`` across ``kubeadm upgrade``.

    ``args``: {flag name without dashes: value string, or None to drop it from extraArgs}. ``volumes``:
    static_pod_manifest volume specs. Returns ``(new config, changes, skipped)``: ``changes`` a sentence per change,
    ``skipped`` {flag: why} for flags that cannot be kept cluster-wide. Other extraArgs and extraVolumes stay as
    they are, in their order.
    """
    check(config)
    new = copy.deepcopy(config)
    section = _section(new, component, create=True)
    v1beta3 = new["apiVersion"].endswith("v1beta3")
    current = extra_args(config, component)
    changes, skipped = [], {}
    for name, value in args.items():
        name = name.lstrip("-")
        if name in NODE_SPECIFIC[component]:
            skipped[name] = "the value is this node's own; one ClusterConfiguration serves every control-plane node"
            continue
        have = [v for n, v in current if n == name]
        if value is None:
            if have:
                current = [(n, v) for n, v in current if n != name]
                changes.append("extraArgs: %s removed" % name)
            continue
        value = str(value)
        if have == [value]:
            continue
        if have:
            index = [n for n, _v in current].index(name)
            current = [(n, v) for n, v in current if n != name]
            current.insert(index, (name, value))
            changes.append("extraArgs: %s=%s (was %s)" % (name, value, ",".join(have)))
        else:
            current.append((name, value))
            changes.append("extraArgs: %s=%s" % (name, value))
    if changes:
        if v1beta3:
            section["extraArgs"] = dict(current)
        else:
            section["extraArgs"] = [{"name": n, "value": v} for n, v in current]
        if not current:
            del section["extraArgs"]
    mounts = extra_volumes(config, component)
    volume_changes = []
    for volume in volumes:
        wanted = host_path_mount(volume)
        same_name = [i for i, m in enumerate(mounts) if m.get("name") == wanted["name"]]
        clash = [m for m in mounts if m.get("name") != wanted["name"] and m.get("mountPath") == wanted["mountPath"]]
        if clash:
            raise ConfigError("extraVolumes of %s: %s and %s both mount %s"
                              % (component, clash[0].get("name"), wanted["name"], wanted["mountPath"]))
        if same_name and mounts[same_name[0]] == wanted:
            continue
        if same_name:
            mounts[same_name[0]] = wanted
            volume_changes.append("extraVolumes: %s changed to %s" % (wanted["name"], wanted["hostPath"]))
        else:
            mounts.append(wanted)
            volume_changes.append("extraVolumes: %s (%s)" % (wanted["name"], wanted["hostPath"]))
    if volume_changes:
        section["extraVolumes"] = mounts
    return new, ["%s %s" % (component, c) for c in changes + volume_changes], skipped


def sync_kubelet(config, settings):
    """A copy of the kubelet-config ConfigMap's KubeletConfiguration with ``settings`` deep-merged as the kubelet
    role merges them into each node's file (dicts key by key, None removes). Returns ``(new config, changes)``."""
    if not isinstance(config, dict) or config.get("kind") != "KubeletConfiguration":
        raise ConfigError("the kubelet-config ConfigMap does not hold a KubeletConfiguration")
    new = kubelet_config.deep_merge(config, settings)
    return new, ["kubelet %s" % key for key in kubelet_config.changed_keys(config, new)]


def kubeadm_manifests():
    """{minor: {component: {"args", "volumes"}}}: what each release's kubeadm writes into the static pods, read on
    first use from the generated flag data (never on a node: the kubeadm_config module only syncs the ConfigMap)."""
    return k8s_flag_data.load("k8s_release_flags")["kubeadm_manifests"]


def kubeadm_defaults(version):
    """``(minor, {component: {"args", "volumes"}}, note)``: kubeadm's defaults of the release ``version`` (a
    ``1.37.2``/``v1.37.2`` string, or None), the nearest known minor when that one is not in the data (``note``
    says so)."""
    manifests = kubeadm_manifests()
    known = sorted(manifests, key=k8s_version.minor_key)
    try:
        minor = k8s_version.minor(version, supported=None)
    except ValueError:
        return known[-1], manifests[known[-1]], "Kubernetes version unknown: kubeadm %s's defaults used" % known[-1]
    if minor in manifests:
        return minor, manifests[minor], None
    wanted = k8s_version.minor_key(minor)
    nearest = min(known, key=lambda m: (abs(k8s_version.minor_key(m)[1] - wanted[1])
                                        if k8s_version.minor_key(m)[0] == wanted[0] else 99))
    return nearest, manifests[nearest], ("kubeadm's defaults of %s are not known: those of %s used" % (minor, nearest))


def host_path_volumes(pod, container):
    """{volume name: (hostPath, mountPath, readOnly)} of a static pod container's hostPath mounts."""
    paths = {}
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if isinstance(volume, dict) and isinstance(volume.get("hostPath"), dict):
            paths[volume.get("name")] = volume["hostPath"].get("path")
    return {m.get("name"): (paths[m.get("name")], m.get("mountPath"), bool(m.get("readOnly")))
            for m in container.get("volumeMounts") or [] if isinstance(m, dict) and m.get("name") in paths}


def regenerate(config, component, occurrences, volumes, defaults):
    """What ``kubeadm upgrade`` writes for static pod ``component``, beside what its manifest has now.

    kubeadm builds the command from its own flags (``defaults``: one component of one minor of
    kubeadm_manifests()), each replaced by the extraArgs of that name, then the other extraArgs; the volumes from its
    own hostPath mounts plus the extraVolumes. A default kubeadm derives from the node's or the cluster's
    configuration (None in the data: addresses, certificate paths, the pod CIDR) is taken from the manifest now,
    where kubeadm wrote it from the same configuration: present when it is present there.

    ``occurrences``: [(flag, value)] of the manifest's command now; ``volumes``: :func:`host_path_volumes` of it.
    Returns ``{"args": [(flag, value)] sorted as kubeadm writes them, "volumes": {...}, "lost": [flag],
    "changed": [(flag, now, after)], "added": [flag], "lost_volumes": [(name, hostPath, mountPath)]}``.
    Raises ConfigError for an external etcd or a document that is not a ClusterConfiguration.
    """
    check(config)
    _section(config, component, create=False)
    now = {}
    for name, value in occurrences:
        now.setdefault(name, []).append("true" if value is None else str(value))
    extra = {}
    for name, value in extra_args(config, component):
        extra.setdefault(name, []).append(value)
    args = {}
    for name, value in defaults["args"].items():
        if name in extra:
            continue
        if component == "kube-apiserver" and name == "authorization-mode" and "authorization-config" in extra:
            continue  # kubeadm leaves its Node,RBAC out when the user gives a structured authorization config
        if value is not None:
            args[name] = [value]
        elif name in now:
            args[name] = now[name]
    args.update(extra)
    after = {}
    for name, (host, mount, read_only) in defaults["volumes"].items():
        have = volumes.get(name)
        if (host is None or mount is None) and have is None:
            continue
        after[name] = (host if host is not None else have[0], mount if mount is not None else have[1], read_only)
    for volume in extra_volumes(config, component):  # kubeadm's HostPathMount: readOnly defaults to false
        after[volume.get("name")] = (volume.get("hostPath"), volume.get("mountPath"), bool(volume.get("readOnly")))
    kept = set((h, m) for h, m, _ro in after.values())
    return {
        "args": [(name, value) for name in sorted(args) for value in args[name]],
        "volumes": after,
        "lost": sorted(n for n in now if n not in args),
        "changed": [(n, ",".join(now[n]), ",".join(args[n])) for n in sorted(now) if n in args and args[n] != now[n]],
        "added": sorted(n for n in args if n not in now),
        "lost_volumes": sorted((name, h, m) for name, (h, m, _ro) in volumes.items() if (h, m) not in kept),
    }
