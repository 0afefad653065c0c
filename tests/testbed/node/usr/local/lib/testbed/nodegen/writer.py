"""What touches the node: the file tree under a root, the openssl CLI, writing the PKI and the configuration,
and the whole init of a control plane or worker and the join of a worker to a control plane's PKI.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import secrets
import shutil
import socket
import subprocess
import tempfile

from .release import parse_default_route_dev, parse_first_global_ipv4, PKI, resolve_role, resolve_version, to_yaml
from .manifests import control_plane_manifests
from .node_files import (
    containerd_config, kube_proxy_config, kube_proxy_kubeconfig, kubeadm_flags_env, kubelet_config,
    kubelet_instance_config,
)
from .pki import (
    api_server_url, CertSpec, control_plane_cert_specs, control_plane_kubelet_kubeconfig, kubeconfig,
    kubeconfig_client_specs, KUBELET_CLIENT_CURRENT, kubelet_client_spec, kubelet_serving_specs,
    worker_kubelet_kubeconfig,
)


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
