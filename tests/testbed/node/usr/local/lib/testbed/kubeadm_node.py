"""First boot of a test node that carries the real Kubernetes binaries (testbed only, see tests/testbed/README.md).

The image of a built release (``localhost/secure-cluster-k8s/node:<minor>``) has the real kubeadm, kubelet,
kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, kubectl and kubeadm's etcd, plus
``/usr/local/lib/testbed/real-release.json``. On such a node nothing of ours writes the Kubernetes state:
``kubeadm init`` of that release does, every phase but preflight, while the static-pod runner runs the manifests
kubeadm writes and the real kubelet registers the node with the real API server.

What the test bed adds to kubeadm's input, and why (each is what an operator on such a host would configure):

* ``failCgroupV1: false``: these hosts have cgroup v1 (hybrid); the kubelet refuses v1 by default since 1.35.
* ``cgroupsPerQOS: false``, ``enforceNodeAllocatable: [none]``: the container's cgroup file systems are read-only,
  so the kubelet cannot create its kubepods hierarchy. No Pod runs through the kubelet here anyway (no image can
  be pulled); static Pods are the runner's.
* kube-proxy: conntrack ``maxPerCore: 0`` and ``0s`` timeouts, ``iptables.localhostNodePorts: false``: /proc/sys
  is read-only in the container, and these are the settings that make kube-proxy write no sysctl.
* ``nodeRegistration.ignorePreflightErrors`` is not enough for preflight (it pulls images), so the phase is skipped.
"""
from __future__ import annotations

import json
import os
import subprocess
import time

import yaml

RELEASE_FILE = "/usr/local/lib/testbed/real-release.json"
KUBEADM_CONFIG = "/etc/testbed/kubeadm-init.yaml"
KUBEADM_JOIN_CONFIG = "/etc/testbed/kubeadm-join.yaml"
# The kube-proxy ServiceAccount's token, minted by the real API server: the DaemonSet pod would get it projected;
# kube-proxy.service's ExecStartPre (node_init.py kube-proxy-volume) puts it where the kubeconfig names it.
KUBE_PROXY_TOKEN = "/var/lib/kube-proxy/token"
ADMIN_CONF = "/etc/kubernetes/admin.conf"
CRI_SOCKET = "unix:///var/run/containerd/containerd.sock"

# The kubelet settings these hosts need (see the module docstring); kubeadm writes them into config.yaml and the
# cluster's kubelet-config ConfigMap.
TESTBED_KUBELET_SETTINGS = {
    "failCgroupV1": False,
    "cgroupsPerQOS": False,
    "enforceNodeAllocatable": ["none"],
}
# kube-proxy (kubeadm puts it into the kube-proxy ConfigMap): /proc/sys is read-only in the container, so kube-proxy
# must not set sysctls. 0 leaves the conntrack limits and timeouts as they are; without localhost NodePorts it does
# not need route_localnet. The DaemonSet pod of a real node is privileged and sets them.
TESTBED_KUBE_PROXY_SETTINGS = {
    "conntrack": {"maxPerCore": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    "iptables": {"localhostNodePorts": False},
}


class KubeadmError(RuntimeError):
    pass


def load_release(path: str = RELEASE_FILE) -> dict | None:
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def check_requested_version(release: dict, requested: str | None) -> str:
    """The image's version; a K8S_VERSION naming another release is an error, not a silent substitution."""
    version = release["kubernetes_version"]
    wanted = (requested or "").lstrip("v")
    if wanted and wanted not in (version, release["minor"]):
        wanted_minor = ".".join(wanted.split(".")[:2])
        raise KubeadmError(f"K8S_VERSION={requested}, but this image carries the real binaries of Kubernetes "
                           f"{version}: use the image localhost/secure-cluster-k8s/node:{wanted_minor}")
    return version


def init_configuration(version: str, node_name: str, node_ip: str) -> list[dict]:
    """kubeadm's configuration for this node: everything kubeadm defaults, but the node's identity."""
    return [
        {
            "apiVersion": "kubeadm.k8s.io/v1beta4",
            "kind": "InitConfiguration",
            "localAPIEndpoint": {"advertiseAddress": node_ip, "bindPort": 6443},
            "nodeRegistration": {"name": node_name, "criSocket": CRI_SOCKET},
        },
        {
            "apiVersion": "kubeadm.k8s.io/v1beta4",
            "kind": "ClusterConfiguration",
            "kubernetesVersion": f"v{version}",
        },
        {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "cgroupDriver": "systemd",
            **TESTBED_KUBELET_SETTINGS,
        },
        {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            **TESTBED_KUBE_PROXY_SETTINGS,
        },
    ]


def run(argv: list[str], timeout: int = 600) -> str:
    proc = subprocess.run(argv, text=True, capture_output=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise KubeadmError(f"{' '.join(argv)} failed (rc {proc.returncode}):\n{proc.stdout[-3000:]}\n"
                           f"{proc.stderr[-3000:]}")
    return proc.stdout


def image_of(name: str, version: str) -> str:
    """The image kubeadm of this release uses for ``name`` (pause, etcd, coredns/coredns, kube-apiserver, ...)."""
    for image in run(["kubeadm", "config", "images", "list", "--kubernetes-version", f"v{version}"]).split():
        if image.rpartition(":")[0].endswith("/" + name):
            return image
    raise KubeadmError(f"kubeadm v{version} lists no {name} image")


def kubectl_json(*args: str) -> dict:
    return json.loads(run(["kubectl", "--kubeconfig", ADMIN_CONF, *args, "-o", "json"]))


def kube_proxy_files(*credentials: str) -> dict[str, str]:
    """The two keys of the kube-proxy ConfigMap kubeadm's addon phase created (the DaemonSet mounts them at
    /var/lib/kube-proxy; here kube-proxy.service reads them from the host). credentials: kubectl's arguments to
    read it with, default the admin kubeconfig."""
    data = json.loads(run(["kubectl", *(credentials or ("--kubeconfig", ADMIN_CONF)), "-n", "kube-system", "get",
                           "configmap", "kube-proxy", "-o", "json"]))["data"]
    return {"config.conf": data["config.conf"], "kubeconfig.conf": data["kubeconfig.conf"]}


def prepare_kubelet_host() -> None:
    """/dev is the container's tmpfs: the kubelet's OOM watcher opens /dev/kmsg, which the container has not."""
    if not os.path.lexists("/dev/kmsg"):
        os.symlink("/dev/null", "/dev/kmsg")


def wait_node_registered(node_name: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            kubectl_json("get", "node", node_name)
            return
        except KubeadmError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def init_control_plane(node, version: str, node_name: str, node_ip: str, log) -> None:
    """`kubeadm init` of the image's release; the runner and the kubelet must be able to start meanwhile."""
    documents = init_configuration(version, node_name, node_ip)
    node.write(KUBEADM_CONFIG, yaml.safe_dump_all(documents, sort_keys=False), 0o600)
    prepare_kubelet_host()
    for unit in ("containerd.service", "static-pod-runner.service"):
        run(["systemctl", "start", unit])
    log(f"kubeadm init (Kubernetes {version}, all phases but preflight)")
    start = time.monotonic()
    out = run(["kubeadm", "init", "--config", KUBEADM_CONFIG, "--skip-phases=preflight"], timeout=900)
    log(f"kubeadm init done in {time.monotonic() - start:.0f} s")
    node.write("/etc/testbed/kubeadm-init.log", out, 0o600)
    wait_node_registered(node_name)
    for name, content in kube_proxy_files().items():
        node.write(f"/var/lib/kube-proxy/{name}", content, 0o644)
    node.write(KUBE_PROXY_TOKEN, kube_proxy_token(), 0o600)


def kube_proxy_token() -> str:
    """A token of the kube-proxy ServiceAccount kubeadm created (a year: the test node lives for minutes)."""
    return run(["kubectl", "--kubeconfig", ADMIN_CONF, "-n", "kube-system", "create", "token", "kube-proxy",
                "--duration=8760h"]).strip()


def join_configuration(node_name: str, endpoint: str, token: str, ca_cert_hash: str) -> dict:
    """What `kubeadm join ENDPOINT --token T --discovery-token-ca-cert-hash H` means, as a JoinConfiguration. The
    kubelet's configuration is not here: kubeadm join takes the cluster's (the kubelet-config ConfigMap)."""
    return {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "JoinConfiguration",
        "discovery": {"bootstrapToken": {"apiServerEndpoint": endpoint, "token": token,
                                         "caCertHashes": [ca_cert_hash]}},
        "nodeRegistration": {"name": node_name, "criSocket": CRI_SOCKET},
    }


def parse_join_command(argv: list[str]) -> tuple[str, str, str]:
    """(endpoint, token, CA certificate hash) of what `kubeadm token create --print-join-command` printed."""
    args = list(argv)
    if args[:2] == ["kubeadm", "join"]:
        args = args[2:]
    endpoint, token, ca_hash = None, None, None
    while args:
        arg = args.pop(0)
        name, _equals, value = arg.partition("=")
        if name in ("--token", "--discovery-token-ca-cert-hash"):
            if not value:
                if not args:
                    raise KubeadmError(f"{name} needs a value")
                value = args.pop(0)
            if name == "--token":
                token = value
            else:
                ca_hash = value
        elif not arg.startswith("-") and endpoint is None:
            endpoint = arg
        else:
            raise KubeadmError(f"unexpected argument {arg!r} in the join command")
    if not (endpoint and token and ca_hash):
        raise KubeadmError("the join command needs ENDPOINT, --token and --discovery-token-ca-cert-hash")
    return endpoint, token, ca_hash


def join_worker(node, version: str, node_name: str, join_argv: list[str], log) -> None:
    """`kubeadm join` of the image's release (every phase but preflight), then kube-proxy's files, read with the
    bootstrap token as kubeadm's RBAC allows (Role kube-proxy, group system:bootstrappers:kubeadm:default-node-token).
    """
    endpoint, token, ca_hash = parse_join_command(join_argv)
    node.write(KUBEADM_JOIN_CONFIG, yaml.safe_dump(join_configuration(node_name, endpoint, token, ca_hash),
                                                   sort_keys=False), 0o600)
    prepare_kubelet_host()
    log(f"kubeadm join {endpoint} (Kubernetes {version}, all phases but preflight)")
    start = time.monotonic()
    out = run(["kubeadm", "join", "--config", KUBEADM_JOIN_CONFIG, "--skip-phases=preflight"], timeout=600)
    log(f"kubeadm join done in {time.monotonic() - start:.0f} s")
    node.write("/etc/testbed/kubeadm-join.log", out, 0o600)
    files = kube_proxy_files("--server", f"https://{endpoint}", "--token", token,
                             "--certificate-authority", "/etc/kubernetes/pki/ca.crt")
    for name, content in files.items():
        node.write(f"/var/lib/kube-proxy/{name}", content, 0o644)
