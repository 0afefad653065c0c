#!/usr/bin/env python
"""Turn a test-node container into a fresh kubeadm node (testbed only, see tests/testbed/README.md).

``node_init.py init`` (run once by testbed-init.service at first boot) writes what ``kubeadm init`` (role
``control-plane``) or ``kubeadm join`` (role ``worker``) of the chosen Kubernetes version leaves on a node, before
any hardening: the PKI under /etc/kubernetes/pki (made with the openssl CLI), the kubeconfig files, the static Pod
manifests, the kubelet configuration and its unit drop-in inputs, the kube-proxy configuration and the containerd
configuration. Parameters come from the container environment (/proc/1/environ): ``K8S_VERSION`` (minor such as
``1.30`` or a full version, default 1.37) and ``NODE_ROLE`` (``control-plane`` or ``worker``, default
``control-plane``). On later boots it keeps the existing state.

``node_init.py join --ca-cert F --ca-key F --server https://IP:6443`` makes a worker part of the control plane's
PKI, as ``kubeadm join`` plus the kubelet TLS bootstrap would: it installs the cluster CA, re-issues the kubelet
client certificate from that CA, rewrites kubelet.conf and the kube-proxy kubeconfig and restarts the kubelet.

On an image with the real binaries (kubeadm_node.py) the real kubeadm writes the node instead: ``init`` runs
``kubeadm init`` on a control plane and prepares a worker, and ``node_init.py kubeadm-join JOIN COMMAND...`` runs
the real ``kubeadm join`` with what ``kubeadm token create --print-join-command`` printed on the control plane.

Layout: pure functions (version data, manifests, configuration dicts, certificate specs) come first and are unit
tested (tests/unit/testbed/test_node_init.py); the functions that touch the file system or run openssl/systemctl
come after them. Standard library + PyYAML only.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime
import ipaddress
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile

import yaml

import kubeadm_node  # pylint: disable=wrong-import-position  # the script's own directory

# ----------------------------------------------------------------------------------------------------------------
# Version data (pure)
# ----------------------------------------------------------------------------------------------------------------

SUPPORTED_MINORS = ("1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37")
DEFAULT_VERSION = "1.37"
ROLES = ("control-plane", "worker")
DEFAULT_ROLE = "control-plane"

# Fixed patch release used when K8S_VERSION names only a minor.
PATCH_FOR_MINOR = {
    "1.28": "1.28.15",
    "1.29": "1.29.15",
    "1.30": "1.30.14",
    "1.31": "1.31.13",
    "1.32": "1.32.9",
    "1.33": "1.33.5",
    "1.34": "1.34.1",
    "1.35": "1.35.0",
    "1.36": "1.36.3",
    "1.37": "1.37.2",
}

# registry.k8s.io/etcd tag that kubeadm of the patch above puts in etcd.yaml (constants.SupportedEtcdVersion at that
# release; kubeadm back-ports etcd bumps into patch releases, so this is per patch, not per minor). Traced from the
# cherry-picks: 3.5.15 went into release-1.28/1.29/1.30 in Sept 2024; the 3.5.16 picks to 1.29-1.31 and the 3.5.21
# picks to 1.31/1.32 were closed unmerged (least certain: 1.31 and 1.32); the 3.5.23/3.5.24 bumps (Oct/Nov 2025)
# came after the Sept 2025 patches used here; 3.6.5 came after 1.34.1; 1.35.0 shipped 3.6.6. 1.36.3 and 1.37.2 are
# what the real kubeadm of those releases prints (`kubeadm config images list`). Only the image tag
# depends on this: the binary is always Debian's etcd 3.4.23.
ETCD_IMAGE_TAG = {
    "1.28": "3.5.15-0",
    "1.29": "3.5.15-0",
    "1.30": "3.5.15-0",
    "1.31": "3.5.15-0",
    "1.32": "3.5.16-0",
    "1.33": "3.5.21-0",
    "1.34": "3.6.4-0",
    "1.35": "3.6.6-0",
    "1.36": "3.6.8-0",
    "1.37": "3.7.0-0",
}

# registry.k8s.io/pause tag (constants.PauseVersion): kubeadm-flags.env and the containerd sandbox_image.
PAUSE_TAG = {
    "1.28": "3.9",
    "1.29": "3.9",
    "1.30": "3.9",
    "1.31": "3.10",
    "1.32": "3.10",
    "1.33": "3.10",
    "1.34": "3.10.1",
    "1.35": "3.10.1",
    "1.36": "3.10.2",
    "1.37": "3.10.2",
}

# First minor with each kubeadm/Kubernetes behaviour that changes what lands on the node.
SINCE = {
    # kubeadm: super-admin.conf (O=system:masters); admin.conf and apiserver-kubelet-client get
    # O=kubeadm:cluster-admins instead of system:masters.
    "super_admin_conf": "1.29",
    "cluster_admins_group": "1.29",
    # kubeadm: apiserver-etcd-client and etcd/healthcheck-client no longer carry O=system:masters.
    "etcd_clients_without_masters": "1.29",
    # KubeletConfiguration gains imageMaximumGCAge; KubeProxyConfiguration gains conntrack UDP/tcpBeLiberal
    # fields and the nftables section.
    "kubelet_image_maximum_gc_age": "1.29",
    "kube_proxy_nftables": "1.29",
    # component-base logging options gain "text" (kubelet and kube-proxy configuration).
    "logging_text_options": "1.30",
    # kubeadm: etcd probes use /livez and /readyz (etcd >= 3.5.11) and etcd gets a readinessProbe.
    "etcd_livez_readyz": "1.31",
    # kubeadm: kube-scheduler probes use /livez and /readyz and it gets a readinessProbe.
    "scheduler_livez_readyz": "1.32",
    # KubeletConfiguration gains crashLoopBackOff (printed as {}).
    "kubelet_crash_loop_back_off": "1.32",
    # apimachinery omits the zero metadata.creationTimestamp (no more "creationTimestamp: null").
    "no_null_creation_timestamp": "1.33",
    # kubeadm NodeLocalCRISocket (beta, on by default): /var/lib/kubelet/instance-config.yaml carries
    # containerRuntimeEndpoint, which is merged into config.yaml and no longer passed as a flag.
    "node_local_cri_socket": "1.34",
    # kubeadm switches etcd (3.6) to --feature-gates=InitialCorruptCheck=true and
    # --watch-progress-notify-interval. NOT applied here, see etcd_flags().
    "etcd36_flags": "1.34",
    # kubeadm no longer writes --pod-infra-container-image to kubeadm-flags.env.
    "no_pod_infra_container_image": "1.35",
    # kubeadm no longer mounts the FlexVolume plugin directory into kube-controller-manager (the real kubeadm
    # 1.36.3 and 1.37.2 write the same manifests, etcd.yaml and kubelet files as 1.35.4 but for this and the tags).
    "no_flexvolume_dir": "1.36",
}

CRI_SOCKET = "unix:///var/run/containerd/containerd.sock"
SERVICE_SUBNET = "10.96.0.0/12"
KUBERNETES_SERVICE_IP = "10.96.0.1"
CLUSTER_DNS = "10.96.0.10"
DNS_DOMAIN = "cluster.local"
CLUSTER_NAME = "kubernetes"
API_PORT = 6443
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380
ETCD_METRICS_PORT = 2381
REGISTRY = "registry.k8s.io"
PKI = "/etc/kubernetes/pki"
SYSTEM_NODE_CRITICAL_PRIORITY = 2000001000


def minor_tuple(minor: str) -> tuple[int, int]:
    major, mnr = minor.split(".")[:2]
    return int(major), int(mnr)


def at_least(minor: str, feature: str) -> bool:
    """True when Kubernetes/kubeadm ``minor`` has the behaviour named in SINCE."""
    return minor_tuple(minor) >= minor_tuple(SINCE[feature])


def resolve_version(value: str | None) -> tuple[str, str]:
    """``"1.30"`` -> ``("1.30", "1.30.14")``; ``"v1.30.2"`` -> ``("1.30", "1.30.2")``; empty -> default."""
    value = (value or "").strip() or DEFAULT_VERSION
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.(\d+))?", value)
    if not match:
        raise ValueError(f"K8S_VERSION={value!r} is not a Kubernetes version like 1.33 or 1.33.5")
    minor = f"{int(match.group(1))}.{int(match.group(2))}"
    if minor not in SUPPORTED_MINORS:
        raise ValueError(
            f"K8S_VERSION={value!r}: Kubernetes {minor} is not supported by the testbed "
            f"(supported: {', '.join(SUPPORTED_MINORS)})"
        )
    full = f"{minor}.{int(match.group(3))}" if match.group(3) is not None else PATCH_FOR_MINOR[minor]
    return minor, full


def resolve_role(value: str | None) -> str:
    role = (value or "").strip() or DEFAULT_ROLE
    if role not in ROLES:
        raise ValueError(f"NODE_ROLE={role!r} is not one of {', '.join(ROLES)}")
    return role


def parse_environ(data: bytes) -> dict[str, str]:
    """Parse the NUL-separated KEY=VALUE list of /proc/<pid>/environ."""
    env = {}
    for item in data.split(b"\0"):
        if b"=" in item:
            key, value = item.split(b"=", 1)
            env[key.decode(errors="replace")] = value.decode(errors="replace")
    return env


def parse_default_route_dev(route_output: str) -> str | None:
    """Interface of the first default route in ``ip -4 -o route show default`` output."""
    for line in route_output.splitlines():
        words = line.split()
        if words[:1] == ["default"] and "dev" in words:
            return words[words.index("dev") + 1]
    return None


def parse_first_global_ipv4(addr_output: str) -> str | None:
    """First global-scope IPv4 address in ``ip -4 -o addr show dev X`` output."""
    for line in addr_output.splitlines():
        words = line.split()
        if "inet" in words and "scope" in words and words[words.index("scope") + 1] == "global":
            return words[words.index("inet") + 1].split("/")[0]
    return None


def image(component: str, full_version: str) -> str:
    return f"{REGISTRY}/{component}:v{full_version}"


def etcd_image(minor: str) -> str:
    return f"{REGISTRY}/etcd:{ETCD_IMAGE_TAG[minor]}"


def pause_image(minor: str) -> str:
    return f"{REGISTRY}/pause:{PAUSE_TAG[minor]}"


# ----------------------------------------------------------------------------------------------------------------
# YAML in kubeadm's style (pure)
# ----------------------------------------------------------------------------------------------------------------


class _KubeDumper(yaml.SafeDumper):
    """sigs.k8s.io/yaml style: sorted keys, "- " lists level with their key, double quotes where quoting is
    needed (``""``, ``"0"``), no line folding, no anchors."""

    def choose_scalar_style(self):
        style = super().choose_scalar_style()
        return '"' if style == "'" else style

    def ignore_aliases(self, data):
        return True


def to_yaml(obj) -> str:
    return yaml.dump(obj, Dumper=_KubeDumper, default_flow_style=False, sort_keys=True, width=1 << 30)


# ----------------------------------------------------------------------------------------------------------------
# Static Pod manifests (pure)
# ----------------------------------------------------------------------------------------------------------------


def command(binary: str, flags: dict[str, str]) -> list[str]:
    """kubeadm's argument list: the binary, then --key=value sorted by key."""
    return [binary] + [f"--{key}={value}" for key, value in sorted(flags.items())]


def http_probe(host: str, path: str, port: int, scheme: str, failure_threshold: int,
               initial_delay: int | None = 10, period: int = 10, timeout: int = 15) -> dict:
    probe = {
        "failureThreshold": failure_threshold,
        "httpGet": {"host": host, "path": path, "port": port, "scheme": scheme},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
    }
    if initial_delay is not None:
        probe["initialDelaySeconds"] = initial_delay
    return probe


def liveness_probe(host, path, port, scheme):
    return http_probe(host, path, port, scheme, failure_threshold=8)


def readiness_probe(host, path, port, scheme):
    return http_probe(host, path, port, scheme, failure_threshold=3, initial_delay=None, period=1)


def startup_probe(host, path, port, scheme):
    # kubeadm: failureThreshold = ControlPlaneComponentHealthCheckTimeout (4m) / periodSeconds (10s)
    return http_probe(host, path, port, scheme, failure_threshold=24)


def host_path_volume(name: str, path: str, kind: str) -> dict:
    return {"hostPath": {"path": path, "type": kind}, "name": name}


def volume_mount(name: str, path: str, read_only: bool) -> dict:
    mount = {"mountPath": path, "name": name}
    if read_only:
        mount["readOnly"] = True
    return mount


def ca_cert_extra_dirs(minor: str) -> list[str]:
    """Host CA directories kubeadm mounts read-only into kube-apiserver/kube-controller-manager when they exist."""
    pki_dirs = ["/etc/pki/ca-trust", "/etc/pki/tls/certs"] if minor_tuple(minor) >= (1, 31) else ["/etc/pki"]
    return pki_dirs + ["/usr/share/ca-certificates", "/usr/local/share/ca-certificates", "/etc/ca-certificates"]


def volume_name_for(path: str) -> str:
    return path.strip("/").replace("/", "-")


def control_plane_mounts(component: str, minor: str, path_exists) -> list[tuple[str, str, str, bool]]:
    """(name, host path, hostPath type, readOnly) of the volumes of kube-apiserver/kube-controller-manager/
    kube-scheduler, sorted by name like kubeadm's VolumeMapToSlice."""
    mounts = []
    if component in ("kube-apiserver", "kube-controller-manager"):
        mounts.append(("ca-certs", "/etc/ssl/certs", "DirectoryOrCreate", True))
        mounts.append(("k8s-certs", PKI, "DirectoryOrCreate", True))
        for path in ca_cert_extra_dirs(minor):
            if path_exists(path):
                mounts.append((volume_name_for(path), path, "DirectoryOrCreate", True))
    if component == "kube-controller-manager" and not at_least(minor, "no_flexvolume_dir"):
        mounts.append(("flexvolume-dir", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec",
                       "DirectoryOrCreate", False))
    if component == "kube-controller-manager":
        mounts.append(("kubeconfig", "/etc/kubernetes/controller-manager.conf", "FileOrCreate", True))
    if component == "kube-scheduler":
        mounts.append(("kubeconfig", "/etc/kubernetes/scheduler.conf", "FileOrCreate", True))
    return sorted(mounts)


def static_pod(minor: str, name: str, container: dict, volumes: list[dict], annotations: dict | None = None) -> dict:
    """kubeadm's staticpodutil.ComponentPod."""
    metadata = {
        "labels": {"component": name, "tier": "control-plane"},
        "name": name,
        "namespace": "kube-system",
    }
    if annotations:
        metadata["annotations"] = annotations
    if not at_least(minor, "no_null_creation_timestamp"):
        metadata["creationTimestamp"] = None
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {
            "containers": [container],
            "hostNetwork": True,
            "priority": SYSTEM_NODE_CRITICAL_PRIORITY,
            "priorityClassName": "system-node-critical",
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": volumes,
        },
        "status": {},
    }


def apiserver_flags(minor: str, node_ip: str) -> dict[str, str]:
    return {
        "advertise-address": node_ip,
        "allow-privileged": "true",
        "authorization-mode": "Node,RBAC",
        "client-ca-file": f"{PKI}/ca.crt",
        "enable-admission-plugins": "NodeRestriction",
        "enable-bootstrap-token-auth": "true",
        "etcd-cafile": f"{PKI}/etcd/ca.crt",
        "etcd-certfile": f"{PKI}/apiserver-etcd-client.crt",
        "etcd-keyfile": f"{PKI}/apiserver-etcd-client.key",
        "etcd-servers": f"https://127.0.0.1:{ETCD_CLIENT_PORT}",
        "kubelet-client-certificate": f"{PKI}/apiserver-kubelet-client.crt",
        "kubelet-client-key": f"{PKI}/apiserver-kubelet-client.key",
        "kubelet-preferred-address-types": "InternalIP,ExternalIP,Hostname",
        "proxy-client-cert-file": f"{PKI}/front-proxy-client.crt",
        "proxy-client-key-file": f"{PKI}/front-proxy-client.key",
        "requestheader-allowed-names": "front-proxy-client",
        "requestheader-client-ca-file": f"{PKI}/front-proxy-ca.crt",
        "requestheader-extra-headers-prefix": "X-Remote-Extra-",
        "requestheader-group-headers": "X-Remote-Group",
        "requestheader-username-headers": "X-Remote-User",
        "secure-port": str(API_PORT),
        "service-account-issuer": f"https://kubernetes.default.svc.{DNS_DOMAIN}",
        "service-account-key-file": f"{PKI}/sa.pub",
        "service-account-signing-key-file": f"{PKI}/sa.key",
        "service-cluster-ip-range": SERVICE_SUBNET,
        "tls-cert-file": f"{PKI}/apiserver.crt",
        "tls-private-key-file": f"{PKI}/apiserver.key",
    }


def controller_manager_flags(minor: str) -> dict[str, str]:
    kubeconfig = "/etc/kubernetes/controller-manager.conf"
    return {
        "authentication-kubeconfig": kubeconfig,
        "authorization-kubeconfig": kubeconfig,
        "bind-address": "127.0.0.1",
        "client-ca-file": f"{PKI}/ca.crt",
        "cluster-name": CLUSTER_NAME,
        "cluster-signing-cert-file": f"{PKI}/ca.crt",
        "cluster-signing-key-file": f"{PKI}/ca.key",
        "controllers": "*,bootstrapsigner,tokencleaner",
        "kubeconfig": kubeconfig,
        "leader-elect": "true",
        "requestheader-client-ca-file": f"{PKI}/front-proxy-ca.crt",
        "root-ca-file": f"{PKI}/ca.crt",
        "service-account-private-key-file": f"{PKI}/sa.key",
        "use-service-account-credentials": "true",
    }


def scheduler_flags(minor: str) -> dict[str, str]:
    kubeconfig = "/etc/kubernetes/scheduler.conf"
    return {
        "authentication-kubeconfig": kubeconfig,
        "authorization-kubeconfig": kubeconfig,
        "bind-address": "127.0.0.1",
        "kubeconfig": kubeconfig,
        "leader-elect": "true",
    }


def etcd_flags(minor: str, node_name: str, node_ip: str) -> dict[str, str]:
    """kubeadm's local etcd flags.

    From 1.34 kubeadm deploys etcd 3.6 and replaces --experimental-initial-corrupt-check=true with
    --feature-gates=InitialCorruptCheck=true and --experimental-watch-progress-notify-interval=5s with
    --watch-progress-notify-interval=5s. The etcd binary in this image is Debian's etcd 3.4.23, which rejects both
    new flags, so every version keeps the 3.5-style flags (the image tag still names kubeadm's 3.6 image).
    """
    etcd_pki = f"{PKI}/etcd"
    return {
        "advertise-client-urls": f"https://{node_ip}:{ETCD_CLIENT_PORT}",
        "cert-file": f"{etcd_pki}/server.crt",
        "client-cert-auth": "true",
        "data-dir": "/var/lib/etcd",
        "experimental-initial-corrupt-check": "true",
        "experimental-watch-progress-notify-interval": "5s",
        "initial-advertise-peer-urls": f"https://{node_ip}:{ETCD_PEER_PORT}",
        "initial-cluster": f"{node_name}=https://{node_ip}:{ETCD_PEER_PORT}",
        "key-file": f"{etcd_pki}/server.key",
        "listen-client-urls": f"https://127.0.0.1:{ETCD_CLIENT_PORT},https://{node_ip}:{ETCD_CLIENT_PORT}",
        "listen-metrics-urls": f"http://127.0.0.1:{ETCD_METRICS_PORT}",
        "listen-peer-urls": f"https://{node_ip}:{ETCD_PEER_PORT}",
        "name": node_name,
        "peer-cert-file": f"{etcd_pki}/peer.crt",
        "peer-client-cert-auth": "true",
        "peer-key-file": f"{etcd_pki}/peer.key",
        "peer-trusted-ca-file": f"{etcd_pki}/ca.crt",
        "snapshot-count": "10000",
        "trusted-ca-file": f"{etcd_pki}/ca.crt",
    }


def _control_plane_component(minor, name, full_version, flags, cpu, probes, path_exists, annotations=None):
    mounts = control_plane_mounts(name, minor, path_exists)
    container = {
        "command": command(name, flags),
        "image": image(name, full_version),
        "imagePullPolicy": "IfNotPresent",
        "name": name,
        "resources": {"requests": {"cpu": cpu}},
        "volumeMounts": [volume_mount(m_name, path, read_only) for m_name, path, _kind, read_only in mounts],
    }
    container.update(probes)
    volumes = [host_path_volume(m_name, path, kind) for m_name, path, kind, _read_only in mounts]
    return static_pod(minor, name, container, volumes, annotations)


def apiserver_manifest(minor: str, full_version: str, node_ip: str, path_exists=os.path.exists) -> dict:
    probes = {
        "livenessProbe": liveness_probe(node_ip, "/livez", API_PORT, "HTTPS"),
        "readinessProbe": readiness_probe(node_ip, "/readyz", API_PORT, "HTTPS"),
        "startupProbe": startup_probe(node_ip, "/livez", API_PORT, "HTTPS"),
    }
    annotations = {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{node_ip}:{API_PORT}"}
    return _control_plane_component(minor, "kube-apiserver", full_version, apiserver_flags(minor, node_ip), "250m",
                                    probes, path_exists, annotations)


def controller_manager_manifest(minor: str, full_version: str, path_exists=os.path.exists) -> dict:
    probes = {
        "livenessProbe": liveness_probe("127.0.0.1", "/healthz", 10257, "HTTPS"),
        "startupProbe": startup_probe("127.0.0.1", "/healthz", 10257, "HTTPS"),
    }
    return _control_plane_component(minor, "kube-controller-manager", full_version, controller_manager_flags(minor),
                                    "200m", probes, path_exists)


def scheduler_manifest(minor: str, full_version: str) -> dict:
    if at_least(minor, "scheduler_livez_readyz"):
        probes = {
            "livenessProbe": liveness_probe("127.0.0.1", "/livez", 10259, "HTTPS"),
            "readinessProbe": readiness_probe("127.0.0.1", "/readyz", 10259, "HTTPS"),
            "startupProbe": startup_probe("127.0.0.1", "/livez", 10259, "HTTPS"),
        }
    else:
        probes = {
            "livenessProbe": liveness_probe("127.0.0.1", "/healthz", 10259, "HTTPS"),
            "startupProbe": startup_probe("127.0.0.1", "/healthz", 10259, "HTTPS"),
        }
    return _control_plane_component(minor, "kube-scheduler", full_version, scheduler_flags(minor), "100m", probes,
                                    lambda _path: False)


ETCD_SERVES_LIVEZ = False  # the etcd binary in the test node is 3.4.23


def etcd_manifest(minor: str, node_name: str, node_ip: str) -> dict:
    host, port = "127.0.0.1", ETCD_METRICS_PORT
    # kubeadm 1.31+ probes etcd on /livez and /readyz (etcd >= 3.5.11); Debian's etcd 3.4.23 answers those with
    # 404, so the test node keeps the /health probes of earlier kubeadm releases for every version.
    if at_least(minor, "etcd_livez_readyz") and ETCD_SERVES_LIVEZ:
        probes = {
            "livenessProbe": liveness_probe(host, "/livez", port, "HTTP"),
            "readinessProbe": readiness_probe(host, "/readyz", port, "HTTP"),
            "startupProbe": startup_probe(host, "/readyz", port, "HTTP"),
        }
    else:
        probes = {
            "livenessProbe": liveness_probe(host, "/health?exclude=NOSPACE&serializable=true", port, "HTTP"),
            "startupProbe": startup_probe(host, "/health?serializable=false", port, "HTTP"),
        }
    container = {
        "command": command("etcd", etcd_flags(minor, node_name, node_ip)),
        "image": etcd_image(minor),
        "imagePullPolicy": "IfNotPresent",
        "name": "etcd",
        "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}},
        # kubeadm lists the data dir first here (not sorted), while the volumes are sorted by name.
        "volumeMounts": [volume_mount("etcd-data", "/var/lib/etcd", False),
                         volume_mount("etcd-certs", f"{PKI}/etcd", False)],
    }
    container.update(probes)
    volumes = [host_path_volume("etcd-certs", f"{PKI}/etcd", "DirectoryOrCreate"),
               host_path_volume("etcd-data", "/var/lib/etcd", "DirectoryOrCreate")]
    annotations = {"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{node_ip}:{ETCD_CLIENT_PORT}"}
    return static_pod(minor, "etcd", container, volumes, annotations)


def control_plane_manifests(minor: str, full_version: str, node_name: str, node_ip: str,
                            path_exists=os.path.exists) -> dict[str, dict]:
    """File name in /etc/kubernetes/manifests -> Pod dict."""
    return {
        "etcd.yaml": etcd_manifest(minor, node_name, node_ip),
        "kube-apiserver.yaml": apiserver_manifest(minor, full_version, node_ip, path_exists),
        "kube-controller-manager.yaml": controller_manager_manifest(minor, full_version, path_exists),
        "kube-scheduler.yaml": scheduler_manifest(minor, full_version),
    }


# ----------------------------------------------------------------------------------------------------------------
# kubelet, kube-proxy and containerd configuration (pure)
# ----------------------------------------------------------------------------------------------------------------


def logging_config(minor: str) -> dict:
    options = {"json": {"infoBufferSize": "0"}}
    if at_least(minor, "logging_text_options"):
        options["text"] = {"infoBufferSize": "0"}
    return {"flushFrequency": 0, "options": options, "verbosity": 0}


def kubelet_config(minor: str) -> dict:
    """/var/lib/kubelet/config.yaml as kubeadm writes it (its defaulted KubeletConfiguration, zero durations and
    all), with the instance configuration merged in from 1.34."""
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"cacheTTL": "0s", "enabled": True},
            "x509": {"clientCAFile": f"{PKI}/ca.crt"},
        },
        "authorization": {
            "mode": "Webhook",
            "webhook": {"cacheAuthorizedTTL": "0s", "cacheUnauthorizedTTL": "0s"},
        },
        "cgroupDriver": "systemd",
        "clusterDNS": [CLUSTER_DNS],
        "clusterDomain": DNS_DOMAIN,
        "containerRuntimeEndpoint": CRI_SOCKET if at_least(minor, "node_local_cri_socket") else "",
        "cpuManagerReconcilePeriod": "0s",
        "evictionPressureTransitionPeriod": "0s",
        "fileCheckFrequency": "0s",
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "httpCheckFrequency": "0s",
        "imageMinimumGCAge": "0s",
        "kind": "KubeletConfiguration",
        "logging": logging_config(minor),
        "memorySwap": {},
        "nodeStatusReportFrequency": "0s",
        "nodeStatusUpdateFrequency": "0s",
        "rotateCertificates": True,
        "runtimeRequestTimeout": "0s",
        "shutdownGracePeriod": "0s",
        "shutdownGracePeriodCriticalPods": "0s",
        "staticPodPath": "/etc/kubernetes/manifests",
        "streamingConnectionIdleTimeout": "0s",
        "syncFrequency": "0s",
        "volumeStatsAggPeriod": "0s",
    }
    if at_least(minor, "kubelet_image_maximum_gc_age"):
        config["imageMaximumGCAge"] = "0s"
    if at_least(minor, "kubelet_crash_loop_back_off"):
        config["crashLoopBackOff"] = {}
    return config


def kubelet_instance_config(minor: str) -> str | None:
    """/var/lib/kubelet/instance-config.yaml (NodeLocalCRISocket, 1.34+), verbatim as kubeadm writes it."""
    if not at_least(minor, "node_local_cri_socket"):
        return None
    return f'containerRuntimeEndpoint: "{CRI_SOCKET}"\n'


def kubeadm_flags_env(minor: str) -> str:
    """/var/lib/kubelet/kubeadm-flags.env."""
    flags = {}
    if not at_least(minor, "node_local_cri_socket"):
        flags["container-runtime-endpoint"] = CRI_SOCKET
    if not at_least(minor, "no_pod_infra_container_image"):
        flags["pod-infra-container-image"] = pause_image(minor)
    args = " ".join(command("", flags)[1:])
    return f'KUBELET_KUBEADM_ARGS="{args}"\n'


def kube_proxy_config(minor: str) -> dict:
    """config.conf of kubeadm's kube-proxy ConfigMap (defaulted KubeProxyConfiguration v1alpha1)."""
    conntrack = {"maxPerCore": None, "min": None, "tcpCloseWaitTimeout": None, "tcpEstablishedTimeout": None}
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "bindAddress": "0.0.0.0",
        "bindAddressHardFail": False,
        "clientConnection": {
            "acceptContentTypes": "",
            "burst": 0,
            "contentType": "",
            "kubeconfig": "/var/lib/kube-proxy/kubeconfig.conf",
            "qps": 0,
        },
        "clusterCIDR": "",
        "configSyncPeriod": "0s",
        "conntrack": conntrack,
        "detectLocal": {"bridgeInterface": "", "interfaceNamePrefix": ""},
        "detectLocalMode": "",
        "enableProfiling": False,
        "healthzBindAddress": "",
        "hostnameOverride": "",
        "iptables": {
            "localhostNodePorts": None,
            "masqueradeAll": False,
            "masqueradeBit": None,
            "minSyncPeriod": "0s",
            "syncPeriod": "0s",
        },
        "ipvs": {
            "excludeCIDRs": None,
            "minSyncPeriod": "0s",
            "scheduler": "",
            "strictARP": False,
            "syncPeriod": "0s",
            "tcpFinTimeout": "0s",
            "tcpTimeout": "0s",
            "udpTimeout": "0s",
        },
        "kind": "KubeProxyConfiguration",
        "logging": logging_config(minor),
        "metricsBindAddress": "",
        "mode": "",
        "nodePortAddresses": None,
        "oomScoreAdj": None,
        "portRange": "",
        "showHiddenMetricsForVersion": "",
        "winkernel": {
            "enableDSR": False,
            "forwardHealthCheckVip": False,
            "networkName": "",
            "rootHnsEndpointName": "",
            "sourceVip": "",
        },
    }
    if at_least(minor, "kube_proxy_nftables"):
        conntrack.update({"tcpBeLiberal": False, "udpStreamTimeout": "0s", "udpTimeout": "0s"})
        config["nftables"] = {"masqueradeAll": False, "masqueradeBit": None, "minSyncPeriod": "0s",
                              "syncPeriod": "0s"}
    return config


def kube_proxy_kubeconfig(server: str) -> str:
    """kubeconfig.conf of kubeadm's kube-proxy ConfigMap (a text template in kubeadm, not sorted)."""
    return (
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        "- cluster:\n"
        "    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n"
        f"    server: {server}\n"
        "  name: default\n"
        "contexts:\n"
        "- context:\n"
        "    cluster: default\n"
        "    namespace: default\n"
        "    user: default\n"
        "  name: default\n"
        "current-context: default\n"
        "users:\n"
        "- name: default\n"
        "  user:\n"
        "    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token"
    )


def containerd_config(default_toml: str, minor: str, sandbox_image: str | None = None) -> str:
    """What kubeadm users write: ``containerd config default`` with the systemd cgroup driver and the pause
    image of that Kubernetes version (``sandbox_image``, where kubeadm itself was asked)."""
    sandbox_image = sandbox_image or pause_image(minor)
    text, n_cgroup = re.subn(r"(?m)^(\s*)SystemdCgroup = false$", r"\1SystemdCgroup = true", default_toml)
    text, n_sandbox = re.subn(r'(?m)^(\s*)sandbox_image = ".*"$', rf'\1sandbox_image = "{sandbox_image}"',
                              text)
    if n_cgroup != 1 or n_sandbox != 1:
        raise ValueError("unexpected `containerd config default` output: no SystemdCgroup/sandbox_image line")
    return text


# ----------------------------------------------------------------------------------------------------------------
# Certificates and kubeconfig files (pure)
# ----------------------------------------------------------------------------------------------------------------

CA_DAYS = 3650
LEAF_DAYS = 365


@dataclasses.dataclass(frozen=True)
class CertSpec:
    """One certificate/key pair: ``path`` is the base name without extension (``etcd/server``) under ``pki_dir``;
    ``ca`` is the base name of the signing CA (None for a self-signed CA)."""

    path: str
    cn: str
    orgs: tuple[str, ...] = ()
    ca: str | None = None
    usages: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    key_type: str = "rsa"
    pki_dir: str = PKI

    @property
    def is_ca(self) -> bool:
        return self.ca is None

    @property
    def days(self) -> int:
        return CA_DAYS if self.is_ca else LEAF_DAYS

    @property
    def subject(self) -> str:
        return "".join(f"/O={org}" for org in self.orgs) + f"/CN={self.cn}"

    def extensions(self) -> str:
        """openssl extension section for this certificate (kubeadm/Go x509 equivalents)."""
        lines = []
        if self.is_ca:
            lines += ["basicConstraints = critical, CA:TRUE",
                      "keyUsage = critical, digitalSignature, keyEncipherment, keyCertSign",
                      "subjectKeyIdentifier = hash"]
        else:
            usage = "digitalSignature" if self.key_type == "ec" else "digitalSignature, keyEncipherment"
            lines += ["basicConstraints = critical, CA:FALSE",
                      f"keyUsage = critical, {usage}",
                      f"extendedKeyUsage = {', '.join(self.usages)}",
                      "authorityKeyIdentifier = keyid",
                      "subjectKeyIdentifier = none"]  # Go sets a subject key id on CAs only
        alt = [f"DNS:{name}" for name in self.dns] + [f"IP:{ip}" for ip in self.ips]
        if alt:
            lines.append(f"subjectAltName = {', '.join(alt)}")
        return "\n".join(lines) + "\n"


def control_plane_cert_specs(minor: str, node_name: str, node_ip: str) -> list[CertSpec]:
    """The kubeadm PKI of a control-plane node, CAs first."""
    masters = ("system:masters",)
    cluster_admins = ("kubeadm:cluster-admins",) if at_least(minor, "cluster_admins_group") else masters
    etcd_client_orgs = () if at_least(minor, "etcd_clients_without_masters") else masters
    etcd_dns, etcd_ips = (node_name, "localhost"), (node_ip, "127.0.0.1", "::1")
    return [
        CertSpec("ca", "kubernetes", dns=("kubernetes",)),
        CertSpec("etcd/ca", "etcd-ca", dns=("etcd-ca",)),
        CertSpec("front-proxy-ca", "front-proxy-ca", dns=("front-proxy-ca",)),
        CertSpec("apiserver", "kube-apiserver", ca="ca", usages=("serverAuth",),
                 dns=(node_name, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                      f"kubernetes.default.svc.{DNS_DOMAIN}"),
                 ips=(KUBERNETES_SERVICE_IP, node_ip, "127.0.0.1")),
        CertSpec("apiserver-kubelet-client", "kube-apiserver-kubelet-client", orgs=cluster_admins, ca="ca",
                 usages=("clientAuth",)),
        CertSpec("front-proxy-client", "front-proxy-client", ca="front-proxy-ca", usages=("clientAuth",)),
        CertSpec("etcd/server", node_name, ca="etcd/ca", usages=("serverAuth", "clientAuth"), dns=etcd_dns,
                 ips=etcd_ips),
        CertSpec("etcd/peer", node_name, ca="etcd/ca", usages=("serverAuth", "clientAuth"), dns=etcd_dns,
                 ips=etcd_ips),
        CertSpec("etcd/healthcheck-client", "kube-etcd-healthcheck-client", orgs=etcd_client_orgs, ca="etcd/ca",
                 usages=("clientAuth",)),
        CertSpec("apiserver-etcd-client", "kube-apiserver-etcd-client", orgs=etcd_client_orgs, ca="etcd/ca",
                 usages=("clientAuth",)),
    ]


def kubeconfig_client_specs(minor: str) -> dict[str, CertSpec]:
    """kubeconfig file name -> client certificate (signed by the cluster CA, embedded in the file)."""
    cluster_admins = ("kubeadm:cluster-admins",) if at_least(minor, "cluster_admins_group") else ("system:masters",)
    specs = {"admin.conf": CertSpec("admin", "kubernetes-admin", orgs=cluster_admins, ca="ca",
                                    usages=("clientAuth",))}
    if at_least(minor, "super_admin_conf"):
        specs["super-admin.conf"] = CertSpec("super-admin", "kubernetes-super-admin", orgs=("system:masters",),
                                             ca="ca", usages=("clientAuth",))
    specs["controller-manager.conf"] = CertSpec("controller-manager", "system:kube-controller-manager", ca="ca",
                                                usages=("clientAuth",))
    specs["scheduler.conf"] = CertSpec("scheduler", "system:kube-scheduler", ca="ca", usages=("clientAuth",))
    return specs


def kubelet_client_spec(node_name: str) -> CertSpec:
    """The kubelet's rotated client certificate (kubelet-client-current.pem): ECDSA P-256 key generated by the
    kubelet, signed by the cluster CA through the kube-controller-manager CSR signer."""
    return CertSpec("kubelet-client", f"system:node:{node_name}", orgs=("system:nodes",), ca="ca",
                    usages=("clientAuth",), key_type="ec", pki_dir="/var/lib/kubelet/pki")


def kubelet_serving_specs(node_name: str, stamp: int) -> tuple[CertSpec, CertSpec]:
    """kubelet.crt/kubelet.key: what the kubelet generates when it has no tlsCertFile (client-go certutil
    GenerateSelfSignedCertKey: a throwaway CA "<host>-ca@<unix time>" signing "<host>@<unix time>"; the file holds
    the serving certificate followed by that CA)."""
    ca = CertSpec("kubelet-ca", f"{node_name}-ca@{stamp}", pki_dir="/var/lib/kubelet/pki")
    serving = CertSpec("kubelet", f"{node_name}@{stamp}", ca="kubelet-ca", usages=("serverAuth",),
                       dns=(node_name,), pki_dir="/var/lib/kubelet/pki")
    return ca, serving


def kubeconfig(server: str, ca_pem: str, user: str, *, cluster: str = CLUSTER_NAME, context: str | None = None,
               cert_pem: str | None = None, key_pem: str | None = None, cert_file: str | None = None,
               key_file: str | None = None, namespace: str | None = None) -> dict:
    """A client kubeconfig (clientcmd v1 Config) with the CA embedded."""
    def b64(text):
        return base64.b64encode(text.encode()).decode()

    context = context or f"{user}@{cluster}"
    credentials = {}
    if cert_pem is not None:
        credentials["client-certificate-data"] = b64(cert_pem)
        credentials["client-key-data"] = b64(key_pem)
    else:
        credentials["client-certificate"] = cert_file
        credentials["client-key"] = key_file
    context_body = {"cluster": cluster, "user": user}
    if namespace:
        context_body["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "clusters": [{"cluster": {"certificate-authority-data": b64(ca_pem), "server": server}, "name": cluster}],
        "contexts": [{"context": context_body, "name": context}],
        "current-context": context,
        "kind": "Config",
        "preferences": {},
        "users": [{"name": user, "user": credentials}],
    }


KUBELET_CLIENT_CURRENT = "/var/lib/kubelet/pki/kubelet-client-current.pem"


def control_plane_kubelet_kubeconfig(server: str, ca_pem: str, node_name: str) -> dict:
    """kubelet.conf after kubeadm init's kubelet-finalize phase: pointing at the rotated client certificate."""
    return kubeconfig(server, ca_pem, f"system:node:{node_name}", cert_file=KUBELET_CLIENT_CURRENT,
                      key_file=KUBELET_CLIENT_CURRENT)


def worker_kubelet_kubeconfig(server: str, ca_pem: str) -> dict:
    """kubelet.conf as the kubelet writes it at the end of the TLS bootstrap of ``kubeadm join``."""
    return kubeconfig(server, ca_pem, "default-auth", cluster="default-cluster", context="default-context",
                      namespace="default", cert_file=KUBELET_CLIENT_CURRENT, key_file=KUBELET_CLIENT_CURRENT)


def api_server_url(ip: str) -> str:
    return f"https://{ip}:{API_PORT}" if ipaddress.ip_address(ip).version == 4 else f"https://[{ip}]:{API_PORT}"


# ----------------------------------------------------------------------------------------------------------------
# Side effects: files, openssl, systemctl
# ----------------------------------------------------------------------------------------------------------------

DIR_MODES = {
    # kubeadm/kubelet/deb packages: /etc/kubernetes and its pki dirs 0755; manifests 0755 (created by the kubelet
    # package); /var/lib/kubelet 0700 (kubeadm MkdirAll); /var/lib/etcd 0700 (kubeadm MkdirAll).
    "/etc/kubernetes": 0o755,
    "/etc/kubernetes/manifests": 0o755,
    PKI: 0o755,
    f"{PKI}/etcd": 0o755,
    "/var/lib/kubelet": 0o700,
    "/var/lib/kubelet/pki": 0o755,
    "/var/lib/kube-proxy": 0o755,
    "/var/lib/etcd": 0o700,
    "/etc/containerd": 0o755,
    "/etc/testbed": 0o755,
}


class InitError(RuntimeError):
    pass


class Node:
    """File-system side of a node rooted at ``root`` (``/`` in the container, a temp dir in tests)."""

    def __init__(self, root: str = "/"):
        self.root = root

    def path(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    def exists(self, path: str) -> bool:
        return os.path.lexists(self.path(path))

    def read(self, path: str) -> str:
        with open(self.path(path)) as handle:
            return handle.read()

    def mkdir(self, path: str, mode: int | None = None) -> None:
        """Create ``path`` and missing parents; set ``mode`` (default from DIR_MODES, else 0755) on the
        directories created here only."""
        missing = []
        current = path.rstrip("/")
        while current and not os.path.isdir(self.path(current)):
            missing.append(current)
            current = os.path.dirname(current)
        for directory in reversed(missing):
            os.mkdir(self.path(directory))
            wanted = mode if directory == path.rstrip("/") and mode is not None else DIR_MODES.get(directory, 0o755)
            os.chmod(self.path(directory), wanted)

    def write(self, path: str, content: str | bytes, mode: int) -> None:
        self.mkdir(os.path.dirname(path))
        data = content.encode() if isinstance(content, str) else content
        fd, tmp = tempfile.mkstemp(dir=self.path(os.path.dirname(path)), prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, mode)
            os.replace(tmp, self.path(path))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def symlink(self, target: str, path: str) -> None:
        if self.exists(path):
            os.unlink(self.path(path))
        os.symlink(target, self.path(path))

    def remove(self, path: str) -> None:
        full = self.path(path)
        if os.path.islink(full) or os.path.isfile(full):
            os.unlink(full)
        elif os.path.isdir(full):
            shutil.rmtree(full)


def run(argv: list[str], input_text: str | None = None) -> str:
    result = subprocess.run(argv, input=input_text, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InitError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


class OpenSSL:
    """Keys and certificates through the openssl CLI, in a private scratch directory."""

    def __init__(self, scratch: str):
        self.scratch = scratch

    def _tmp(self, name: str, content: str | None = None) -> str:
        path = os.path.join(self.scratch, name)
        if content is not None:
            with open(path, "w") as handle:
                handle.write(content)
        return path

    def new_key(self, key_type: str = "rsa") -> str:
        """PEM of a new private key as Go writes it: PKCS#1 ``RSA PRIVATE KEY`` 2048 or SEC1 ``EC PRIVATE KEY``."""
        if key_type == "ec":
            return run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout"])
        return run(["openssl", "genrsa", "-traditional", "2048"])

    def public_key(self, key_pem: str) -> str:
        return run(["openssl", "pkey", "-pubout"], input_text=key_pem)

    def certificate(self, spec: CertSpec, key_pem: str, ca_cert_pem: str | None = None,
                    ca_key_pem: str | None = None) -> str:
        """PEM certificate for ``spec``: self-signed when it is a CA, otherwise signed by the given CA."""
        key = self._tmp("key.pem", key_pem)
        ext = self._tmp("ext.cnf", "[req]\ndistinguished_name = dn\n[dn]\n[ext]\n" + spec.extensions())
        serial = "0x" + secrets.token_hex(8)
        if spec.is_ca:
            return run(["openssl", "req", "-x509", "-new", "-key", key, "-subj", spec.subject, "-sha256",
                        "-days", str(spec.days), "-set_serial", serial, "-config", ext, "-extensions", "ext"])
        csr = run(["openssl", "req", "-new", "-key", key, "-subj", spec.subject, "-config", ext])
        ca_cert = self._tmp("ca.crt", ca_cert_pem)
        ca_key = self._tmp("ca.key", ca_key_pem)
        return run(["openssl", "x509", "-req", "-CA", ca_cert, "-CAkey", ca_key, "-set_serial", serial, "-sha256",
                    "-days", str(spec.days), "-extfile", ext, "-extensions", "ext"], input_text=csr)


def kubelet_client_file_name(now: datetime.datetime) -> str:
    return f"kubelet-client-{now.strftime('%Y-%m-%d-%H-%M-%S')}.pem"


def write_pki(node: Node, ssl: OpenSSL, specs: list[CertSpec]) -> dict[str, tuple[str, str]]:
    """Create every cert/key of ``specs`` (CAs must come before what they sign); returns base -> (cert, key)."""
    made: dict[str, tuple[str, str]] = {}
    for spec in specs:
        key_pem = ssl.new_key(spec.key_type)
        ca_cert, ca_key = made[spec.ca] if spec.ca else (None, None)
        cert_pem = ssl.certificate(spec, key_pem, ca_cert, ca_key)
        node.write(f"{spec.pki_dir}/{spec.path}.crt", cert_pem, 0o644)
        node.write(f"{spec.pki_dir}/{spec.path}.key", key_pem, 0o600)
        made[spec.path] = (cert_pem, key_pem)
    return made


def write_service_account_keys(node: Node, ssl: OpenSSL) -> None:
    key_pem = ssl.new_key("rsa")
    node.write(f"{PKI}/sa.key", key_pem, 0o600)
    node.write(f"{PKI}/sa.pub", ssl.public_key(key_pem), 0o600)  # kubeadm writes sa.pub with 0600 too


def write_kubelet_client_cert(node: Node, ssl: OpenSSL, node_name: str, ca_cert_pem: str, ca_key_pem: str,
                              now: datetime.datetime) -> None:
    """/var/lib/kubelet/pki/kubelet-client-<time>.pem (cert + key, 0600) and the -current.pem symlink."""
    spec = kubelet_client_spec(node_name)
    key_pem = ssl.new_key(spec.key_type)
    cert_pem = ssl.certificate(spec, key_pem, ca_cert_pem, ca_key_pem)
    name = kubelet_client_file_name(now)
    pki_dir = "/var/lib/kubelet/pki"
    if node.exists(pki_dir):
        for entry in os.listdir(node.path(pki_dir)):
            if entry.startswith("kubelet-client-") and entry != name:
                node.remove(f"{pki_dir}/{entry}")
    node.write(f"{pki_dir}/{name}", cert_pem + key_pem, 0o600)
    node.symlink(f"{pki_dir}/{name}", KUBELET_CLIENT_CURRENT)


def write_kubelet_serving_cert(node: Node, ssl: OpenSSL, node_name: str, stamp: int) -> None:
    ca_spec, serving_spec = kubelet_serving_specs(node_name, stamp)
    ca_key = ssl.new_key("rsa")
    ca_cert = ssl.certificate(ca_spec, ca_key)
    key_pem = ssl.new_key("rsa")
    cert_pem = ssl.certificate(serving_spec, key_pem, ca_cert, ca_key)
    node.write("/var/lib/kubelet/pki/kubelet.crt", cert_pem + ca_cert, 0o644)
    node.write("/var/lib/kubelet/pki/kubelet.key", key_pem, 0o600)


def write_kubelet_files(node: Node, minor: str) -> None:
    instance = kubelet_instance_config(minor)
    if instance is not None:
        node.write("/var/lib/kubelet/instance-config.yaml", instance, 0o644)
    node.write("/var/lib/kubelet/config.yaml", to_yaml(kubelet_config(minor)), 0o644)
    node.write("/var/lib/kubelet/kubeadm-flags.env", kubeadm_flags_env(minor), 0o644)


def write_kube_proxy_files(node: Node, minor: str, server: str) -> None:
    # ConfigMap data keys are "|-" blocks in kubeadm's template: no trailing newline.
    node.write("/var/lib/kube-proxy/config.conf", to_yaml(kube_proxy_config(minor)).rstrip("\n"), 0o644)
    node.write("/var/lib/kube-proxy/kubeconfig.conf", kube_proxy_kubeconfig(server), 0o644)


def write_containerd_config(node: Node, minor: str, default_toml: str, sandbox_image: str | None = None) -> None:
    node.write("/etc/containerd/config.toml", containerd_config(default_toml, minor, sandbox_image), 0o644)


def containerd_default_config() -> str:
    return run(["containerd", "config", "default"])


def detect_node_ip() -> str:
    dev = parse_default_route_dev(run(["ip", "-4", "-o", "route", "show", "default"]))
    if not dev:
        raise InitError("no IPv4 default route: cannot choose the node IP")
    ip = parse_first_global_ipv4(run(["ip", "-4", "-o", "addr", "show", "dev", dev]))
    if not ip:
        raise InitError(f"no global IPv4 address on {dev}: cannot choose the node IP")
    return ip


def node_name_from_host() -> str:
    return socket.gethostname().lower()


@dataclasses.dataclass
class NodeParams:
    minor: str
    version: str
    role: str
    node_name: str
    node_ip: str


def params_from_environ(env: dict[str, str], node_name: str, node_ip: str) -> NodeParams:
    minor, version = resolve_version(env.get("K8S_VERSION"))
    return NodeParams(minor, version, resolve_role(env.get("NODE_ROLE")), node_name, node_ip)


# Everything init_node creates, removed again before a retry after a failed first boot.
OWNED_PATHS = (
    "/etc/kubernetes/pki", "/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf",
    "/etc/kubernetes/controller-manager.conf", "/etc/kubernetes/scheduler.conf", "/etc/kubernetes/kubelet.conf",
    "/etc/kubernetes/manifests/etcd.yaml", "/etc/kubernetes/manifests/kube-apiserver.yaml",
    "/etc/kubernetes/manifests/kube-controller-manager.yaml", "/etc/kubernetes/manifests/kube-scheduler.yaml",
    "/var/lib/etcd", "/var/lib/kubelet/config.yaml", "/var/lib/kubelet/instance-config.yaml",
    "/var/lib/kubelet/kubeadm-flags.env", "/var/lib/kubelet/pki", "/var/lib/kube-proxy",
)


def init_node(node: Node, params: NodeParams, containerd_default: str, now: datetime.datetime | None = None) -> None:
    """Write the fresh kubeadm node state. Marker: /etc/testbed/version, written last."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    for path in OWNED_PATHS:
        node.remove(path)
    server = api_server_url(params.node_ip)
    for directory in ("/etc/kubernetes/manifests", f"{PKI}", "/var/lib/kubelet/pki", "/var/lib/kube-proxy"):
        node.mkdir(directory)
    with tempfile.TemporaryDirectory(prefix="testbed-openssl-") as scratch:
        os.chmod(scratch, 0o700)
        ssl = OpenSSL(scratch)
        if params.role == "control-plane":
            made = write_pki(node, ssl, control_plane_cert_specs(params.minor, params.node_name, params.node_ip))
            write_service_account_keys(node, ssl)
            ca_cert, ca_key = made["ca"]
            for file_name, spec in kubeconfig_client_specs(params.minor).items():
                key_pem = ssl.new_key("rsa")
                cert_pem = ssl.certificate(spec, key_pem, ca_cert, ca_key)
                config = kubeconfig(server, ca_cert, spec.cn, cert_pem=cert_pem, key_pem=key_pem)
                node.write(f"/etc/kubernetes/{file_name}", to_yaml(config), 0o600)
            kubelet_conf = control_plane_kubelet_kubeconfig(server, ca_cert, params.node_name)
            node.mkdir("/var/lib/etcd", 0o700)
            manifests = control_plane_manifests(params.minor, params.version, params.node_name, params.node_ip,
                                                node.exists)
            for file_name, pod in manifests.items():
                node.write(f"/etc/kubernetes/manifests/{file_name}", to_yaml(pod), 0o600)
        else:
            # Not joined yet: a throwaway cluster CA whose key is not kept; `join` replaces it.
            ca_spec = CertSpec("ca", "kubernetes", dns=("kubernetes",))
            ca_key = ssl.new_key("rsa")
            ca_cert = ssl.certificate(ca_spec, ca_key)
            node.write(f"{PKI}/ca.crt", ca_cert, 0o644)
            kubelet_conf = worker_kubelet_kubeconfig(server, ca_cert)
        write_kubelet_client_cert(node, ssl, params.node_name, ca_cert, ca_key, now)
        write_kubelet_serving_cert(node, ssl, params.node_name, int(now.timestamp()))
    node.write("/etc/kubernetes/kubelet.conf", to_yaml(kubelet_conf), 0o600)
    write_kubelet_files(node, params.minor)
    write_kube_proxy_files(node, params.minor, server)
    write_containerd_config(node, params.minor, containerd_default)
    node.write("/etc/testbed/role", params.role + "\n", 0o644)
    node.write("/etc/testbed/node-ip", params.node_ip + "\n", 0o644)
    node.write("/etc/testbed/version", params.version + "\n", 0o644)


def join_node(node: Node, node_name: str, ca_cert_pem: str, ca_key_pem: str, server: str,
              now: datetime.datetime | None = None) -> None:
    """Re-issue the worker's kubelet identity from the control plane's CA, as `kubeadm join` + TLS bootstrap."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="testbed-openssl-") as scratch:
        os.chmod(scratch, 0o700)
        write_kubelet_client_cert(node, OpenSSL(scratch), node_name, ca_cert_pem, ca_key_pem, now)
    node.write(f"{PKI}/ca.crt", ca_cert_pem, 0o644)
    node.write("/etc/kubernetes/kubelet.conf", to_yaml(worker_kubelet_kubeconfig(server, ca_cert_pem)), 0o600)
    minor = resolve_version(node.read("/etc/testbed/version"))[0]
    write_kube_proxy_files(node, minor, server)
    node.write("/etc/testbed/joined", server + "\n", 0o644)


def log(message: str) -> None:
    print(f"testbed-init: {message}", flush=True)


def cmd_init(node: Node) -> int:
    if node.exists("/etc/testbed/version"):
        log(f"already initialised as {node.read('/etc/testbed/role').strip()} "
            f"{node.read('/etc/testbed/version').strip()}; keeping the existing state")
        return 0
    with open("/proc/1/environ", "rb") as handle:
        env = parse_environ(handle.read())
    release = kubeadm_node.load_release()
    if release is not None:
        return init_real_node(node, release, env)
    params = params_from_environ(env, node_name_from_host(), detect_node_ip())
    log(f"making {params.node_name} ({params.node_ip}) a fresh kubeadm {params.role} node of "
        f"Kubernetes {params.version}")
    init_node(node, params, containerd_default_config())
    log("done")
    return 0


def init_real_node(node: Node, release: dict, env: dict[str, str]) -> int:
    """An image with the real binaries: kubeadm of that release writes the node (kubeadm_node.py). A control
    plane is `kubeadm init`ed here; a worker is left as a fresh node is before `kubeadm join` (containerd set up,
    the kubelet waiting for its configuration) until `node_init.py kubeadm-join` is given the join command."""
    version = kubeadm_node.check_requested_version(release, env.get("K8S_VERSION"))
    role = resolve_role(env.get("NODE_ROLE"))
    node_name, node_ip = node_name_from_host(), detect_node_ip()
    for path in OWNED_PATHS + ("/etc/kubernetes/bootstrap-kubelet.conf",):
        node.remove(path)
    node.mkdir("/var/lib/kube-proxy")
    # what kubeadm users write before `kubeadm init` or `join` (SystemdCgroup, the release's pause image)
    write_containerd_config(node, release["minor"], containerd_default_config(),
                            kubeadm_node.image_of("pause", version))
    run(["systemctl", "restart", "containerd.service"])
    if role == "control-plane":
        log(f"making {node_name} ({node_ip}) a kubeadm control-plane node of Kubernetes {version} with the real "
            f"binaries (etcd {release['etcd_version']})")
        kubeadm_node.init_control_plane(node, version, node_name, node_ip, log)
    else:
        log(f"{node_name} ({node_ip}): a node of Kubernetes {version} ready for `kubeadm join` (node_init.py "
            "kubeadm-join)")
    node.write("/etc/testbed/role", role + "\n", 0o644)
    node.write("/etc/testbed/node-ip", node_ip + "\n", 0o644)
    node.write("/etc/testbed/real", "kubeadm\n", 0o644)
    node.write("/etc/testbed/version", version + "\n", 0o644)
    log("done")
    return 0


def cmd_kubeadm_join(node: Node, join_argv: list[str]) -> int:
    """A real-binary worker joins a control plane with the real `kubeadm join`."""
    if not node.exists("/etc/testbed/real"):
        raise InitError("kubeadm-join is for images with the real binaries; stand-in workers use `join`")
    if node.read("/etc/testbed/role").strip() != "worker":
        raise InitError("kubeadm-join is for workers")
    if node.exists("/etc/kubernetes/kubelet.conf"):
        log("already joined; keeping the existing state")
        return 0
    version = node.read("/etc/testbed/version").strip()
    kubeadm_node.join_worker(node, version, node_name_from_host(), join_argv, log)
    run(["systemctl", "restart", "kube-proxy.service"])
    log("joined")
    return 0


def cmd_join(node: Node, ca_cert: str, ca_key: str, server: str) -> int:
    if not node.exists("/etc/testbed/version"):
        raise InitError("the node is not initialised yet (testbed-init.service has not finished)")
    role = node.read("/etc/testbed/role").strip()
    if role != "worker":
        raise InitError(f"join is for workers; this node is a {role}")
    if not re.fullmatch(r"https://[^/\s]+:\d+", server):
        raise InitError(f"--server {server!r} is not like https://IP:6443")
    with open(ca_cert) as handle:
        ca_cert_pem = handle.read()
    with open(ca_key) as handle:
        ca_key_pem = handle.read()
    join_node(node, node_name_from_host(), ca_cert_pem, ca_key_pem, server)
    run(["systemctl", "restart", "kubelet.service"])
    run(["systemctl", "try-restart", "kube-proxy.service"])
    log(f"joined {server}")
    return 0


SA_VOLUME = "/run/secrets/kubernetes.io/serviceaccount"


def cmd_kube_proxy_volume(node: Node) -> int:
    """Lay out what the kube-proxy pod gets from its projected service-account volume (its kubeconfig names it)."""
    node.write(f"{SA_VOLUME}/ca.crt", node.read(f"{PKI}/ca.crt"), 0o644)
    node.write(f"{SA_VOLUME}/namespace", "kube-system", 0o644)
    if node.exists(kubeadm_node.KUBE_PROXY_TOKEN):
        node.write(f"{SA_VOLUME}/token", node.read(kubeadm_node.KUBE_PROXY_TOKEN), 0o600)
    elif not node.exists(f"{SA_VOLUME}/token"):
        # opaque: nothing here verifies service-account tokens
        node.write(f"{SA_VOLUME}/token", os.urandom(32).hex(), 0o600)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="cmd")
    sub.add_parser("init", help="first-boot initialisation (default)")
    join = sub.add_parser("join", help="join this worker to a control plane's PKI")
    join.add_argument("--ca-cert", required=True, help="control plane's /etc/kubernetes/pki/ca.crt")
    join.add_argument("--ca-key", required=True, help="control plane's /etc/kubernetes/pki/ca.key")
    join.add_argument("--server", required=True, help="API server URL, https://IP:6443")
    kjoin = sub.add_parser("kubeadm-join", help="real-binary worker: run kubeadm join with this join command")
    kjoin.add_argument("join_command", nargs=argparse.REMAINDER,
                       help="what `kubeadm token create --print-join-command` printed on the control plane")
    sub.add_parser("kube-proxy-volume", help="write the service-account files the kube-proxy kubeconfig names")
    args = parser.parse_args(argv)
    node = Node("/")
    try:
        if args.cmd == "kube-proxy-volume":
            return cmd_kube_proxy_volume(node)
        if args.cmd == "join":
            return cmd_join(node, args.ca_cert, args.ca_key, args.server)
        if args.cmd == "kubeadm-join":
            return cmd_kubeadm_join(node, args.join_command)
        return cmd_init(node)
    except (InitError, kubeadm_node.KubeadmError, ValueError, OSError, subprocess.TimeoutExpired) as err:
        print(f"testbed-init: ERROR: {err}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
