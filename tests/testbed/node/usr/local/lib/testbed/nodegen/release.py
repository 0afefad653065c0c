"""What kubeadm of each supported minor uses (pure): the versions, the images and their tags, when each change came
in, the cluster's fixed names, addresses and ports, the node's parameters from the container environment, and
the YAML form kubeadm writes.
"""

from __future__ import annotations

import re
import yaml


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
