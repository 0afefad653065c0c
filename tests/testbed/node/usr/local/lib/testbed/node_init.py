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

Layout: this file is the command line; the generator is the package nodegen/ beside it. Its pure modules (release:
version data and node parameters; manifests; node_files: kubelet, kube-proxy and containerd configuration; pki:
certificate specs and kubeconfigs) are unit tested (tests/unit/testbed/test_node_init.py); writer touches the file
system and runs openssl. The names the tests, the molecule scenarios and the integration harness read
(``testbed_loader.node_init``) are re-exported here, listed in ``__all__``. Standard library + PyYAML only.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import kubeadm_node  # the script's own directory
from nodegen.release import (
    DEFAULT_VERSION, ETCD_IMAGE_TAG, parse_default_route_dev, parse_environ, parse_first_global_ipv4,
    PATCH_FOR_MINOR, pause_image, PAUSE_TAG, PKI, resolve_role, resolve_version, SUPPORTED_MINORS, to_yaml,
)
from nodegen.manifests import (
    apiserver_manifest, control_plane_manifests, controller_manager_manifest, etcd_manifest, scheduler_manifest,
)
from nodegen.node_files import (
    containerd_config, kube_proxy_config, kube_proxy_kubeconfig, kubeadm_flags_env, kubelet_config,
    kubelet_instance_config,
)
from nodegen.pki import (
    api_server_url, control_plane_cert_specs, control_plane_kubelet_kubeconfig, kubeconfig_client_specs,
    kubelet_client_spec, worker_kubelet_kubeconfig,
)
from nodegen.writer import (
    containerd_default_config, detect_node_ip, init_node, InitError, join_node, Node, node_name_from_host,
    NodeParams, OWNED_PATHS, params_from_environ, run, write_containerd_config,
)

__all__ = (
    "api_server_url", "apiserver_manifest", "cmd_kube_proxy_volume", "containerd_config",
    "control_plane_cert_specs", "control_plane_kubelet_kubeconfig", "control_plane_manifests",
    "controller_manager_manifest", "DEFAULT_VERSION", "ETCD_IMAGE_TAG", "etcd_manifest", "init_node", "join_node",
    "kube_proxy_config", "kube_proxy_kubeconfig", "kubeadm_flags_env", "kubeconfig_client_specs",
    "kubelet_client_spec", "kubelet_config", "kubelet_instance_config", "Node", "NodeParams", "params_from_environ",
    "parse_default_route_dev", "parse_environ", "parse_first_global_ipv4", "PATCH_FOR_MINOR", "pause_image",
    "PAUSE_TAG", "PKI", "resolve_role", "resolve_version", "SA_VOLUME", "scheduler_manifest", "SUPPORTED_MINORS",
    "to_yaml", "worker_kubelet_kubeconfig",
)


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
