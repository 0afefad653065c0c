"""The static Pod manifests kubeadm init writes (pure): kube-apiserver, kube-controller-manager, kube-scheduler and
etcd, with their flags, probes and hostPath mounts per minor.
"""

from __future__ import annotations

import os

from .release import (
    API_PORT, at_least, CLUSTER_NAME, DNS_DOMAIN, ETCD_CLIENT_PORT, etcd_image, ETCD_METRICS_PORT, ETCD_PEER_PORT,
    image, minor_tuple, PKI, SERVICE_SUBNET, SYSTEM_NODE_CRITICAL_PRIORITY,
)


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
