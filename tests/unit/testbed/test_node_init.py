# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the test node's first-boot script, tests/testbed/node/usr/local/lib/testbed/node_init.py."""
from __future__ import annotations

import base64
import datetime
import os
import shutil
import stat
import subprocess

import pytest
import yaml
from ansible_collections.secure_cluster.k8s.tests.unit.testbed_loader import node_init as ni


IP = "10.89.0.2"
NAME = "cp1"


def ALL_PATHS(_path):  # pylint: disable=invalid-name
    return True


def NO_PATHS(_path):  # pylint: disable=invalid-name
    return False


def container(pod):
    assert len(pod["spec"]["containers"]) == 1
    return pod["spec"]["containers"][0]


def flags_of(pod):
    argv = container(pod)["command"]
    return argv[0], [arg[2:].split("=", 1)[0] for arg in argv[1:]], dict(a[2:].split("=", 1) for a in argv[1:])


# ---------------------------------------------------------------------------------------------------------------
# versions and environment
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("1.28", ("1.28", "1.28.15")),
    ("1.30", ("1.30", "1.30.14")),
    ("1.34", ("1.34", "1.34.1")),
    ("1.35", ("1.35", "1.35.0")),
    ("1.31.2", ("1.31", "1.31.2")),
    ("v1.32.0", ("1.32", "1.32.0")),
    ("1.37", ("1.37", "1.37.2")),
    ("", ("1.37", "1.37.2")),
    (None, ("1.37", "1.37.2")),
])
def test_resolve_version(value, expected):
    assert ni.resolve_version(value) == expected


@pytest.mark.parametrize("value", ["1.27", "1.38", "2.0", "latest", "1.3x"])
def test_resolve_version_rejects(value):
    with pytest.raises(ValueError, match="K8S_VERSION"):
        ni.resolve_version(value)


def test_every_supported_minor_has_version_data():
    for table in (ni.PATCH_FOR_MINOR, ni.ETCD_IMAGE_TAG, ni.PAUSE_TAG):
        assert tuple(table) == ni.SUPPORTED_MINORS
    assert ni.SUPPORTED_MINORS == ("1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37")
    for minor, full in ni.PATCH_FOR_MINOR.items():
        assert full.startswith(minor + ".")


def test_resolve_role():
    assert ni.resolve_role(None) == "control-plane"
    assert ni.resolve_role("worker") == "worker"
    with pytest.raises(ValueError, match="NODE_ROLE"):
        ni.resolve_role("master")


def test_parse_environ_and_params():
    env = ni.parse_environ(b"container=podman\0K8S_VERSION=1.30\0NODE_ROLE=worker\0EMPTY=\0junk\0")
    assert env == {"container": "podman", "K8S_VERSION": "1.30", "NODE_ROLE": "worker", "EMPTY": ""}
    params = ni.params_from_environ(env, NAME, IP)
    assert (params.minor, params.version, params.role, params.node_name, params.node_ip) == (
        "1.30", "1.30.14", "worker", NAME, IP)
    defaults = ni.params_from_environ({}, NAME, IP)
    assert (defaults.version, defaults.role) == ("1.37.2", "control-plane")


def test_node_ip_parsing():
    routes = "default via 10.89.0.1 dev eth0 proto static metric 100 \n10.89.0.0/24 dev eth0 proto kernel\n"
    assert ni.parse_default_route_dev(routes) == "eth0"
    assert ni.parse_default_route_dev("10.89.0.0/24 dev eth0 proto kernel scope link\n") is None
    addrs = ("2: eth0    inet 169.254.1.2/16 scope link eth0\\       valid_lft forever\n"
             "2: eth0    inet 10.89.0.2/24 brd 10.89.0.255 scope global eth0\\       valid_lft forever\n"
             "2: eth0    inet 10.89.0.9/24 scope global secondary eth0\n")
    assert ni.parse_first_global_ipv4(addrs) == "10.89.0.2"
    assert ni.parse_first_global_ipv4("") is None


# ---------------------------------------------------------------------------------------------------------------
# static Pod manifests
# ---------------------------------------------------------------------------------------------------------------

KUBEADM_APISERVER_FLAGS = [
    "advertise-address", "allow-privileged", "authorization-mode", "client-ca-file", "enable-admission-plugins",
    "enable-bootstrap-token-auth", "etcd-cafile", "etcd-certfile", "etcd-keyfile", "etcd-servers",
    "kubelet-client-certificate", "kubelet-client-key", "kubelet-preferred-address-types", "proxy-client-cert-file",
    "proxy-client-key-file", "requestheader-allowed-names", "requestheader-client-ca-file",
    "requestheader-extra-headers-prefix", "requestheader-group-headers", "requestheader-username-headers",
    "secure-port", "service-account-issuer", "service-account-key-file", "service-account-signing-key-file",
    "service-cluster-ip-range", "tls-cert-file", "tls-private-key-file",
]


@pytest.mark.parametrize("minor", ni.SUPPORTED_MINORS)
def test_apiserver_flags_in_kubeadm_order(minor):
    pod = ni.apiserver_manifest(minor, ni.PATCH_FOR_MINOR[minor], IP, NO_PATHS)
    binary, names, values = flags_of(pod)
    assert binary == "kube-apiserver"
    assert names == KUBEADM_APISERVER_FLAGS
    assert values["advertise-address"] == IP
    assert values["authorization-mode"] == "Node,RBAC"
    assert values["enable-admission-plugins"] == "NodeRestriction"
    assert values["etcd-servers"] == "https://127.0.0.1:2379"
    assert values["service-account-issuer"] == "https://kubernetes.default.svc.cluster.local"
    # what the CIS benchmark flags on a fresh kubeadm node is absent
    for unhardened in ("anonymous-auth", "audit-log-path", "profiling", "encryption-provider-config",
                       "tls-cipher-suites", "kubelet-certificate-authority"):
        assert unhardened not in values
    assert container(pod)["image"] == f"registry.k8s.io/kube-apiserver:v{ni.PATCH_FOR_MINOR[minor]}"
    assert container(pod)["resources"] == {"requests": {"cpu": "250m"}}
    assert pod["metadata"]["annotations"] == {
        "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{IP}:6443"}


def test_controller_manager_and_scheduler_flags():
    names, values = flags_of(ni.controller_manager_manifest("1.33", "1.33.5", NO_PATHS))[1:]
    assert names == ["authentication-kubeconfig", "authorization-kubeconfig", "bind-address", "client-ca-file",
                     "cluster-name", "cluster-signing-cert-file", "cluster-signing-key-file", "controllers",
                     "kubeconfig", "leader-elect", "requestheader-client-ca-file", "root-ca-file",
                     "service-account-private-key-file", "use-service-account-credentials"]
    assert values["controllers"] == "*,bootstrapsigner,tokencleaner"
    assert values["bind-address"] == "127.0.0.1"
    assert "terminated-pod-gc-threshold" not in values and "profiling" not in values
    binary, names, values = flags_of(ni.scheduler_manifest("1.33", "1.33.5"))
    assert binary == "kube-scheduler"
    assert names == ["authentication-kubeconfig", "authorization-kubeconfig", "bind-address", "kubeconfig",
                     "leader-elect"]


def test_apiserver_probes():
    c = container(ni.apiserver_manifest("1.30", "1.30.14", IP, NO_PATHS))
    assert c["livenessProbe"] == {
        "failureThreshold": 8, "httpGet": {"host": IP, "path": "/livez", "port": 6443, "scheme": "HTTPS"},
        "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 15}
    assert c["readinessProbe"] == {
        "failureThreshold": 3, "httpGet": {"host": IP, "path": "/readyz", "port": 6443, "scheme": "HTTPS"},
        "periodSeconds": 1, "timeoutSeconds": 15}
    assert c["startupProbe"] == {
        "failureThreshold": 24, "httpGet": {"host": IP, "path": "/livez", "port": 6443, "scheme": "HTTPS"},
        "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 15}


def test_controller_manager_probes():
    c = container(ni.controller_manager_manifest("1.35", "1.35.0", NO_PATHS))
    assert c["livenessProbe"]["httpGet"] == {
        "host": "127.0.0.1", "path": "/healthz", "port": 10257, "scheme": "HTTPS"}
    assert c["startupProbe"]["failureThreshold"] == 24
    assert "readinessProbe" not in c


@pytest.mark.parametrize("minor, live, ready", [("1.31", "/healthz", None), ("1.32", "/livez", "/readyz"),
                                                ("1.35", "/livez", "/readyz")])
def test_scheduler_probes_by_version(minor, live, ready):
    c = container(ni.scheduler_manifest(minor, ni.PATCH_FOR_MINOR[minor]))
    assert c["livenessProbe"]["httpGet"] == {"host": "127.0.0.1", "path": live, "port": 10259, "scheme": "HTTPS"}
    assert c["startupProbe"]["httpGet"]["path"] == live
    if ready:
        assert c["readinessProbe"]["httpGet"]["path"] == ready
        assert c["readinessProbe"]["periodSeconds"] == 1
    else:
        assert "readinessProbe" not in c


@pytest.mark.parametrize("minor, live, startup, ready", [
    ("1.28", "/health?exclude=NOSPACE&serializable=true", "/health?serializable=false", None),
    ("1.30", "/health?exclude=NOSPACE&serializable=true", "/health?serializable=false", None),
    # kubeadm moves to /livez and /readyz here, which etcd 3.4 does not serve: the test node keeps /health
    ("1.31", "/health?exclude=NOSPACE&serializable=true", "/health?serializable=false", None),
    ("1.34", "/health?exclude=NOSPACE&serializable=true", "/health?serializable=false", None),
])
def test_etcd_probes_by_version(minor, live, startup, ready):
    c = container(ni.etcd_manifest(minor, NAME, IP))
    assert c["livenessProbe"] == {
        "failureThreshold": 8, "httpGet": {"host": "127.0.0.1", "path": live, "port": 2381, "scheme": "HTTP"},
        "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 15}
    assert c["startupProbe"]["httpGet"]["path"] == startup
    assert c["startupProbe"]["failureThreshold"] == 24
    assert (c.get("readinessProbe") or {}).get("httpGet", {}).get("path") == ready


@pytest.mark.parametrize("minor", ni.SUPPORTED_MINORS)
def test_etcd_keeps_35_style_flags_for_the_debian_34_binary(minor):
    binary, names, values = flags_of(ni.etcd_manifest(minor, NAME, IP))
    assert binary == "etcd"
    assert names == sorted(names)
    assert values["experimental-initial-corrupt-check"] == "true"
    assert values["experimental-watch-progress-notify-interval"] == "5s"
    # kubeadm 1.34+ would pass these to etcd 3.6; etcd 3.4.23 refuses them
    assert "feature-gates" not in values and "watch-progress-notify-interval" not in values
    assert values["name"] == NAME
    assert values["data-dir"] == "/var/lib/etcd"
    assert values["initial-cluster"] == f"{NAME}=https://{IP}:2380"
    assert values["listen-client-urls"] == f"https://127.0.0.1:2379,https://{IP}:2379"
    assert values["listen-metrics-urls"] == "http://127.0.0.1:2381"
    assert values["client-cert-auth"] == values["peer-client-cert-auth"] == "true"
    assert "auto-tls" not in values and "peer-auto-tls" not in values


def test_etcd_image_tag_follows_kubeadm():
    assert container(ni.etcd_manifest("1.33", NAME, IP))["image"] == "registry.k8s.io/etcd:3.5.21-0"
    assert container(ni.etcd_manifest("1.34", NAME, IP))["image"] == "registry.k8s.io/etcd:3.6.4-0"
    assert container(ni.etcd_manifest("1.28", NAME, IP))["resources"] == {
        "requests": {"cpu": "100m", "memory": "100Mi"}}


def test_etcd_volumes():
    pod = ni.etcd_manifest("1.33", NAME, IP)
    assert container(pod)["volumeMounts"] == [{"mountPath": "/var/lib/etcd", "name": "etcd-data"},
                                              {"mountPath": "/etc/kubernetes/pki/etcd", "name": "etcd-certs"}]
    assert pod["spec"]["volumes"] == [
        {"hostPath": {"path": "/etc/kubernetes/pki/etcd", "type": "DirectoryOrCreate"}, "name": "etcd-certs"},
        {"hostPath": {"path": "/var/lib/etcd", "type": "DirectoryOrCreate"}, "name": "etcd-data"}]
    assert pod["metadata"]["annotations"] == {"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{IP}:2379"}


def test_apiserver_volumes_only_mount_existing_ca_dirs():
    debian = {"/usr/share/ca-certificates", "/usr/local/share/ca-certificates", "/etc/ca-certificates"}
    pod = ni.apiserver_manifest("1.33", "1.33.5", IP, debian.__contains__)
    assert [m["name"] for m in container(pod)["volumeMounts"]] == [
        "ca-certs", "etc-ca-certificates", "k8s-certs", "usr-local-share-ca-certificates",
        "usr-share-ca-certificates"]
    assert all(m["readOnly"] for m in container(pod)["volumeMounts"])
    assert {v["name"]: v["hostPath"] for v in pod["spec"]["volumes"]}["k8s-certs"] == {
        "path": "/etc/kubernetes/pki", "type": "DirectoryOrCreate"}
    minimal = ni.apiserver_manifest("1.33", "1.33.5", IP, NO_PATHS)
    assert [v["name"] for v in minimal["spec"]["volumes"]] == ["ca-certs", "k8s-certs"]


def test_extra_pki_dirs_changed_in_131():
    old = ni.apiserver_manifest("1.30", "1.30.14", IP, ALL_PATHS)
    new = ni.apiserver_manifest("1.31", "1.31.13", IP, ALL_PATHS)
    assert "etc-pki" in [v["name"] for v in old["spec"]["volumes"]]
    assert {"etc-pki-ca-trust", "etc-pki-tls-certs"} <= {v["name"] for v in new["spec"]["volumes"]}


def test_controller_manager_volumes():
    pod = ni.controller_manager_manifest("1.33", "1.33.5", NO_PATHS)
    mounts = {m["name"]: m for m in container(pod)["volumeMounts"]}
    assert list(mounts) == ["ca-certs", "flexvolume-dir", "k8s-certs", "kubeconfig"]
    assert "readOnly" not in mounts["flexvolume-dir"]
    assert mounts["kubeconfig"] == {"mountPath": "/etc/kubernetes/controller-manager.conf", "name": "kubeconfig",
                                    "readOnly": True}
    volumes = {v["name"]: v["hostPath"] for v in pod["spec"]["volumes"]}
    assert volumes["kubeconfig"] == {"path": "/etc/kubernetes/controller-manager.conf", "type": "FileOrCreate"}
    assert volumes["flexvolume-dir"]["path"] == "/usr/libexec/kubernetes/kubelet-plugins/volume/exec"
    newer = ni.controller_manager_manifest("1.36", "1.36.3", NO_PATHS)  # what the real kubeadm 1.36 writes
    assert [m["name"] for m in container(newer)["volumeMounts"]] == ["ca-certs", "k8s-certs", "kubeconfig"]
    assert [v["name"] for v in newer["spec"]["volumes"]] == ["ca-certs", "k8s-certs", "kubeconfig"]
    scheduler = ni.scheduler_manifest("1.33", "1.33.5")
    assert scheduler["spec"]["volumes"] == [
        {"hostPath": {"path": "/etc/kubernetes/scheduler.conf", "type": "FileOrCreate"}, "name": "kubeconfig"}]


@pytest.mark.parametrize("minor", ["1.28", "1.32", "1.33", "1.35"])
def test_pod_envelope(minor):
    for pod in ni.control_plane_manifests(minor, ni.PATCH_FOR_MINOR[minor], NAME, IP, NO_PATHS).values():
        spec = pod["spec"]
        assert (pod["apiVersion"], pod["kind"], pod["status"]) == ("v1", "Pod", {})
        assert pod["metadata"]["namespace"] == "kube-system"
        assert pod["metadata"]["labels"] == {"component": pod["metadata"]["name"], "tier": "control-plane"}
        assert spec["hostNetwork"] is True
        assert spec["priorityClassName"] == "system-node-critical"
        assert spec["priority"] == 2000001000
        assert spec["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
        assert container(pod)["imagePullPolicy"] == "IfNotPresent"
        assert ("creationTimestamp" in pod["metadata"]) == (minor in ("1.28", "1.32"))


def test_manifest_yaml_style():
    text = ni.to_yaml(ni.apiserver_manifest("1.32", "1.32.9", IP, NO_PATHS))
    lines = text.splitlines()
    assert lines[:3] == ["apiVersion: v1", "kind: Pod", "metadata:"]
    assert "  creationTimestamp: null" in lines
    assert "  - command:" in lines and "    - kube-apiserver" in lines  # lists level with their key
    assert lines[-1] == "status: {}"
    assert yaml.safe_load(text) == ni.apiserver_manifest("1.32", "1.32.9", IP, NO_PATHS)


def test_yaml_quotes_like_go():
    assert ni.to_yaml({"a": "", "b": "0", "c": "true", "d": "plain", "e": None, "f": {}}) == (
        'a: ""\nb: "0"\nc: "true"\nd: plain\ne: null\nf: {}\n')
    long_value = "x" * 500
    assert ni.to_yaml({"k": long_value}) == f"k: {long_value}\n"


# ---------------------------------------------------------------------------------------------------------------
# kubelet, kube-proxy, containerd
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("minor", ni.SUPPORTED_MINORS)
def test_kubelet_config_common(minor):
    config = ni.kubelet_config(minor)
    assert config["apiVersion"] == "kubelet.config.k8s.io/v1beta1"
    assert config["kind"] == "KubeletConfiguration"
    assert config["authentication"] == {"anonymous": {"enabled": False},
                                        "webhook": {"cacheTTL": "0s", "enabled": True},
                                        "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}}
    assert config["authorization"]["mode"] == "Webhook"
    assert config["cgroupDriver"] == "systemd"
    assert config["clusterDNS"] == ["10.96.0.10"]
    assert (config["healthzBindAddress"], config["healthzPort"]) == ("127.0.0.1", 10248)
    assert config["rotateCertificates"] is True
    assert config["staticPodPath"] == "/etc/kubernetes/manifests"
    assert config["streamingConnectionIdleTimeout"] == "0s"
    # not set by kubeadm: CIS findings on a fresh node
    for key in ("readOnlyPort", "protectKernelDefaults", "tlsCipherSupportedSuites", "eventRecordQPS",
                "makeIPTablesUtilChains", "serverTLSBootstrap"):
        assert key not in config


def test_kubelet_config_by_version():
    assert "imageMaximumGCAge" not in ni.kubelet_config("1.28")
    assert ni.kubelet_config("1.29")["imageMaximumGCAge"] == "0s"
    assert "text" not in ni.kubelet_config("1.29")["logging"]["options"]
    assert ni.kubelet_config("1.30")["logging"]["options"]["text"] == {"infoBufferSize": "0"}
    assert "crashLoopBackOff" not in ni.kubelet_config("1.31")
    assert ni.kubelet_config("1.32")["crashLoopBackOff"] == {}
    assert ni.kubelet_config("1.33")["containerRuntimeEndpoint"] == ""
    assert ni.kubelet_config("1.34")["containerRuntimeEndpoint"] == "unix:///var/run/containerd/containerd.sock"
    assert 'containerRuntimeEndpoint: ""\n' in ni.to_yaml(ni.kubelet_config("1.28"))


@pytest.mark.parametrize("minor, expected", [
    ("1.28", '--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock '
             '--pod-infra-container-image=registry.k8s.io/pause:3.9'),
    ("1.31", '--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock '
             '--pod-infra-container-image=registry.k8s.io/pause:3.10'),
    ("1.33", '--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock '
             '--pod-infra-container-image=registry.k8s.io/pause:3.10'),
    ("1.34", '--pod-infra-container-image=registry.k8s.io/pause:3.10.1'),
    ("1.35", ''),
])
def test_kubeadm_flags_env(minor, expected):
    assert ni.kubeadm_flags_env(minor) == f'KUBELET_KUBEADM_ARGS="{expected}"\n'


def test_instance_config_only_from_134():
    assert ni.kubelet_instance_config("1.33") is None
    assert ni.kubelet_instance_config("1.34") == (
        'containerRuntimeEndpoint: "unix:///var/run/containerd/containerd.sock"\n')


def test_kube_proxy_config():
    old, new = ni.kube_proxy_config("1.28"), ni.kube_proxy_config("1.29")
    assert old["kind"] == "KubeProxyConfiguration" and old["apiVersion"] == "kubeproxy.config.k8s.io/v1alpha1"
    assert old["clientConnection"]["kubeconfig"] == "/var/lib/kube-proxy/kubeconfig.conf"
    assert old["bindAddress"] == "0.0.0.0" and old["metricsBindAddress"] == ""
    assert "nftables" not in old and "tcpBeLiberal" not in old["conntrack"]
    assert new["nftables"]["syncPeriod"] == "0s" and new["conntrack"]["tcpBeLiberal"] is False
    kubeconfig = yaml.safe_load(ni.kube_proxy_kubeconfig(f"https://{IP}:6443"))
    assert kubeconfig["clusters"][0]["cluster"]["server"] == f"https://{IP}:6443"
    assert kubeconfig["users"][0]["user"]["tokenFile"] == "/var/run/secrets/kubernetes.io/serviceaccount/token"


CONTAINERD_DEFAULT = """disabled_plugins = []
version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.6"
    [plugins."io.containerd.grpc.v1.cri".containerd]
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
"""


def test_containerd_config():
    text = ni.containerd_config(CONTAINERD_DEFAULT, "1.34")
    assert '    sandbox_image = "registry.k8s.io/pause:3.10.1"\n' in text
    assert "          SystemdCgroup = true\n" in text
    assert "SystemdCgroup = false" not in text and "version = 2" in text
    assert 'pause:3.9"' in ni.containerd_config(CONTAINERD_DEFAULT, "1.28")
    with pytest.raises(ValueError):
        ni.containerd_config("version = 2\n", "1.30")


# ---------------------------------------------------------------------------------------------------------------
# certificates and kubeconfig files
# ---------------------------------------------------------------------------------------------------------------


def specs_by_path(minor):
    return {spec.path: spec for spec in ni.control_plane_cert_specs(minor, NAME, IP)}


def test_cert_specs_names_and_signers():
    specs = specs_by_path("1.33")
    assert list(specs) == ["ca", "etcd/ca", "front-proxy-ca", "apiserver", "apiserver-kubelet-client",
                           "front-proxy-client", "etcd/server", "etcd/peer", "etcd/healthcheck-client",
                           "apiserver-etcd-client"]
    assert {p: s.cn for p, s in specs.items()} == {
        "ca": "kubernetes", "etcd/ca": "etcd-ca", "front-proxy-ca": "front-proxy-ca", "apiserver": "kube-apiserver",
        "apiserver-kubelet-client": "kube-apiserver-kubelet-client", "front-proxy-client": "front-proxy-client",
        "etcd/server": NAME, "etcd/peer": NAME, "etcd/healthcheck-client": "kube-etcd-healthcheck-client",
        "apiserver-etcd-client": "kube-apiserver-etcd-client"}
    assert {p: s.ca for p, s in specs.items() if s.ca} == {
        "apiserver": "ca", "apiserver-kubelet-client": "ca", "front-proxy-client": "front-proxy-ca",
        "etcd/server": "etcd/ca", "etcd/peer": "etcd/ca", "etcd/healthcheck-client": "etcd/ca",
        "apiserver-etcd-client": "etcd/ca"}
    assert all(s.days == 3650 for s in specs.values() if s.is_ca)
    assert all(s.days == 365 for s in specs.values() if not s.is_ca)
    assert specs["apiserver"].usages == ("serverAuth",)
    assert specs["etcd/server"].usages == specs["etcd/peer"].usages == ("serverAuth", "clientAuth")
    assert specs["front-proxy-client"].usages == ("clientAuth",)


def test_cert_sans():
    specs = specs_by_path("1.33")
    assert specs["apiserver"].dns == (NAME, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                      "kubernetes.default.svc.cluster.local")
    assert specs["apiserver"].ips == ("10.96.0.1", IP, "127.0.0.1")
    for peer in ("etcd/server", "etcd/peer"):
        assert specs[peer].dns == (NAME, "localhost")
        assert specs[peer].ips == (IP, "127.0.0.1", "::1")
    assert "subjectAltName = DNS:cp1, DNS:localhost, IP:10.89.0.2, IP:127.0.0.1, IP:::1" in \
        specs["etcd/server"].extensions()
    assert "CA:TRUE" in specs["ca"].extensions() and "keyCertSign" in specs["ca"].extensions()
    assert "CA:FALSE" in specs["apiserver"].extensions() and "extendedKeyUsage = serverAuth" in \
        specs["apiserver"].extensions()


@pytest.mark.parametrize("minor, kubelet_client, etcd_clients", [
    ("1.28", ("system:masters",), ("system:masters",)),
    ("1.29", ("kubeadm:cluster-admins",), ()),
    ("1.35", ("kubeadm:cluster-admins",), ()),
])
def test_cert_orgs_by_version(minor, kubelet_client, etcd_clients):
    specs = specs_by_path(minor)
    assert specs["apiserver-kubelet-client"].orgs == kubelet_client
    assert specs["apiserver-etcd-client"].orgs == etcd_clients
    assert specs["etcd/healthcheck-client"].orgs == etcd_clients
    assert specs["apiserver-kubelet-client"].subject == "".join(f"/O={o}" for o in kubelet_client) + \
        "/CN=kube-apiserver-kubelet-client"


def test_super_admin_conf_only_from_129():
    assert list(ni.kubeconfig_client_specs("1.28")) == ["admin.conf", "controller-manager.conf", "scheduler.conf"]
    specs = ni.kubeconfig_client_specs("1.29")
    assert list(specs) == ["admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"]
    assert specs["super-admin.conf"].orgs == ("system:masters",)
    assert specs["super-admin.conf"].cn == "kubernetes-super-admin"
    assert specs["admin.conf"].orgs == ("kubeadm:cluster-admins",)
    assert ni.kubeconfig_client_specs("1.28")["admin.conf"].orgs == ("system:masters",)
    assert specs["controller-manager.conf"].cn == "system:kube-controller-manager"
    assert specs["scheduler.conf"].orgs == ()


def test_kubelet_kubeconfigs():
    server = ni.api_server_url(IP)
    assert server == f"https://{IP}:6443"
    cp = ni.control_plane_kubelet_kubeconfig(server, "CA", NAME)
    assert cp["current-context"] == "system:node:cp1@kubernetes"
    assert cp["users"] == [{"name": "system:node:cp1", "user": {
        "client-certificate": "/var/lib/kubelet/pki/kubelet-client-current.pem",
        "client-key": "/var/lib/kubelet/pki/kubelet-client-current.pem"}}]
    assert base64.b64decode(cp["clusters"][0]["cluster"]["certificate-authority-data"]) == b"CA"
    worker = ni.worker_kubelet_kubeconfig(server, "CA")
    assert worker["current-context"] == "default-context"
    assert worker["contexts"] == [{"context": {"cluster": "default-cluster", "namespace": "default",
                                               "user": "default-auth"}, "name": "default-context"}]
    assert worker["users"][0]["name"] == "default-auth"
    spec = ni.kubelet_client_spec(NAME)
    assert (spec.subject, spec.key_type, spec.ca) == ("/O=system:nodes/CN=system:node:cp1", "ec", "ca")


# ---------------------------------------------------------------------------------------------------------------
# file system: init and join into a temporary root (needs the openssl CLI)
# ---------------------------------------------------------------------------------------------------------------

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def mode(root, path):
    return stat.S_IMODE(os.lstat(os.path.join(root, path.lstrip("/"))).st_mode)


def verify_files(ca_file, *cert_files):
    result = subprocess.run(["openssl", "verify", "-CAfile", ca_file, *cert_files], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def verify(root, ca, *certs):
    """openssl verify of node paths under ``root``."""
    verify_files(os.path.join(root, ca.lstrip("/")), *(os.path.join(root, c.lstrip("/")) for c in certs))


def subject(pem_path):
    return subprocess.run(["openssl", "x509", "-noout", "-subject", "-in", pem_path],
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def control_plane_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("cp-root"))
    os.makedirs(os.path.join(root, "usr/share/ca-certificates"))
    params = ni.NodeParams("1.30", "1.30.14", "control-plane", NAME, IP)
    ni.init_node(ni.Node(root), params, CONTAINERD_DEFAULT, now=NOW)
    return root


@needs_openssl
def test_control_plane_modes(control_plane_root):
    root = control_plane_root
    expected = {
        "/etc/kubernetes": 0o755, "/etc/kubernetes/pki": 0o755, "/etc/kubernetes/pki/etcd": 0o755,
        "/etc/kubernetes/manifests": 0o755, "/var/lib/etcd": 0o700, "/var/lib/kubelet": 0o700,
        "/var/lib/kubelet/pki": 0o755,
        "/etc/kubernetes/pki/sa.key": 0o600, "/etc/kubernetes/pki/sa.pub": 0o600,
        "/var/lib/kubelet/config.yaml": 0o644, "/var/lib/kubelet/kubeadm-flags.env": 0o644,
        "/var/lib/kubelet/pki/kubelet.crt": 0o644, "/var/lib/kubelet/pki/kubelet.key": 0o600,
        "/var/lib/kubelet/pki/kubelet-client-2026-01-02-03-04-05.pem": 0o600,
        "/var/lib/kube-proxy/config.conf": 0o644, "/var/lib/kube-proxy/kubeconfig.conf": 0o644,
        "/etc/containerd/config.toml": 0o644,
    }
    for base in ("ca", "apiserver", "apiserver-kubelet-client", "apiserver-etcd-client", "front-proxy-ca",
                 "front-proxy-client", "etcd/ca", "etcd/server", "etcd/peer", "etcd/healthcheck-client"):
        expected[f"/etc/kubernetes/pki/{base}.crt"] = 0o644
        expected[f"/etc/kubernetes/pki/{base}.key"] = 0o600
    for conf in ("admin", "super-admin", "controller-manager", "scheduler", "kubelet"):
        expected[f"/etc/kubernetes/{conf}.conf"] = 0o600
    for manifest in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        expected[f"/etc/kubernetes/manifests/{manifest}.yaml"] = 0o600
    assert {path: oct(mode(root, path)) for path in expected} == {p: oct(m) for p, m in expected.items()}
    assert os.readlink(os.path.join(root, "var/lib/kubelet/pki/kubelet-client-current.pem")) == \
        "/var/lib/kubelet/pki/kubelet-client-2026-01-02-03-04-05.pem"
    assert not os.path.exists(os.path.join(root, "var/lib/kubelet/instance-config.yaml"))
    assert sorted(os.listdir(os.path.join(root, "var/lib/etcd"))) == []


@needs_openssl
def test_control_plane_pki_chains(control_plane_root):
    root = control_plane_root
    pki = "/etc/kubernetes/pki"
    verify(root, f"{pki}/ca.crt", f"{pki}/apiserver.crt", f"{pki}/apiserver-kubelet-client.crt",
           "/var/lib/kubelet/pki/kubelet-client-2026-01-02-03-04-05.pem")
    verify(root, f"{pki}/front-proxy-ca.crt", f"{pki}/front-proxy-client.crt")
    verify(root, f"{pki}/etcd/ca.crt", f"{pki}/etcd/server.crt", f"{pki}/etcd/peer.crt",
           f"{pki}/etcd/healthcheck-client.crt", f"{pki}/apiserver-etcd-client.crt")
    with open(os.path.join(root, pki.lstrip("/"), "ca.key")) as handle:
        assert handle.readline() == "-----BEGIN RSA PRIVATE KEY-----\n"
    with open(os.path.join(root, pki.lstrip("/"), "sa.pub")) as handle:
        assert handle.readline() == "-----BEGIN PUBLIC KEY-----\n"
    client = os.path.join(root, "var/lib/kubelet/pki/kubelet-client-2026-01-02-03-04-05.pem")
    assert subject(client) == "subject=O = system:nodes, CN = system:node:cp1"
    with open(client) as handle:
        assert "-----BEGIN EC PRIVATE KEY-----" in handle.read()


@needs_openssl
def test_control_plane_kubeconfigs_and_manifests(control_plane_root, tmp_path):
    root = control_plane_root
    with open(os.path.join(root, "etc/kubernetes/pki/ca.crt")) as handle:
        ca_pem = handle.read()
    for conf, expected_subject in (("admin", "subject=O = kubeadm:cluster-admins, CN = kubernetes-admin"),
                                   ("super-admin", "subject=O = system:masters, CN = kubernetes-super-admin"),
                                   ("scheduler", "subject=CN = system:kube-scheduler")):
        with open(os.path.join(root, f"etc/kubernetes/{conf}.conf")) as handle:
            config = yaml.safe_load(handle)
        assert config["clusters"][0]["cluster"]["server"] == f"https://{IP}:6443"
        assert base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode() == ca_pem
        cert = tmp_path / f"{conf}.crt"
        cert.write_bytes(base64.b64decode(config["users"][0]["user"]["client-certificate-data"]))
        assert subject(str(cert)) == expected_subject
    manifests = sorted(os.listdir(os.path.join(root, "etc/kubernetes/manifests")))
    assert manifests == ["etcd.yaml", "kube-apiserver.yaml", "kube-controller-manager.yaml", "kube-scheduler.yaml"]
    with open(os.path.join(root, "etc/kubernetes/manifests/kube-apiserver.yaml")) as handle:
        pod = yaml.safe_load(handle)
    assert "usr-share-ca-certificates" in [v["name"] for v in pod["spec"]["volumes"]]  # exists under the root
    with open(os.path.join(root, "etc/testbed/version")) as handle:
        assert handle.read() == "1.30.14\n"


@needs_openssl
def test_worker_init_and_join(tmp_path):
    root = str(tmp_path / "worker")
    os.makedirs(root)
    node = ni.Node(root)
    ni.init_node(node, ni.NodeParams("1.34", "1.34.1", "worker", "w1", "10.89.0.3"), CONTAINERD_DEFAULT, now=NOW)
    assert sorted(os.listdir(os.path.join(root, "etc/kubernetes"))) == ["kubelet.conf", "manifests", "pki"]
    assert os.listdir(os.path.join(root, "etc/kubernetes/pki")) == ["ca.crt"]  # throwaway CA, key not kept
    assert os.listdir(os.path.join(root, "etc/kubernetes/manifests")) == []
    assert not os.path.exists(os.path.join(root, "var/lib/etcd"))
    assert mode(root, "/var/lib/kubelet/instance-config.yaml") == 0o644
    verify(root, "/etc/kubernetes/pki/ca.crt", "/var/lib/kubelet/pki/kubelet-client-2026-01-02-03-04-05.pem")
    with open(os.path.join(root, "var/lib/kubelet/kubeadm-flags.env")) as handle:
        assert handle.read() == 'KUBELET_KUBEADM_ARGS="--pod-infra-container-image=registry.k8s.io/pause:3.10.1"\n'

    # join: the control plane's CA replaces the throwaway one
    cp_root = str(tmp_path / "cp")
    os.makedirs(cp_root)
    ni.init_node(ni.Node(cp_root), ni.NodeParams("1.34", "1.34.1", "control-plane", NAME, IP), CONTAINERD_DEFAULT,
                 now=NOW)
    with open(os.path.join(cp_root, "etc/kubernetes/pki/ca.crt")) as handle:
        ca_cert = handle.read()
    with open(os.path.join(cp_root, "etc/kubernetes/pki/ca.key")) as handle:
        ca_key = handle.read()
    later = NOW + datetime.timedelta(minutes=1)
    ni.join_node(node, "w1", ca_cert, ca_key, f"https://{IP}:6443", now=later)
    pems = sorted(p for p in os.listdir(os.path.join(root, "var/lib/kubelet/pki")) if p.startswith("kubelet-client"))
    assert pems == ["kubelet-client-2026-01-02-03-05-05.pem", "kubelet-client-current.pem"]
    verify_files(os.path.join(cp_root, "etc/kubernetes/pki/ca.crt"), os.path.join(root, "var/lib/kubelet/pki", pems[0]))
    assert os.listdir(os.path.join(root, "etc/kubernetes/pki")) == ["ca.crt"]
    with open(os.path.join(root, "etc/kubernetes/pki/ca.crt")) as handle:
        assert handle.read() == ca_cert
    with open(os.path.join(root, "etc/kubernetes/kubelet.conf")) as handle:
        kubelet_conf = yaml.safe_load(handle)
    assert kubelet_conf["clusters"][0]["cluster"]["server"] == f"https://{IP}:6443"
    assert mode(root, "/etc/kubernetes/kubelet.conf") == 0o600
    with open(os.path.join(root, "var/lib/kube-proxy/kubeconfig.conf")) as handle:
        assert f"server: https://{IP}:6443" in handle.read()


def test_kube_proxy_volume_is_what_its_kubeconfig_names(tmp_path):
    node = ni.Node(str(tmp_path))
    node.write(ni.PKI + "/ca.crt", "CA PEM\n", 0o644)
    assert ni.cmd_kube_proxy_volume(node) == 0
    kubeconfig = ni.kube_proxy_kubeconfig("https://10.0.0.10:6443")
    for name in ("ca.crt", "token"):
        assert "%s/%s" % (ni.SA_VOLUME.replace("/run/", "/var/run/"), name) in kubeconfig
    assert node.read(ni.SA_VOLUME + "/ca.crt") == "CA PEM\n"
    token = node.read(ni.SA_VOLUME + "/token")
    assert len(token) == 64 and (tmp_path / ni.SA_VOLUME.lstrip("/") / "token").stat().st_mode & 0o777 == 0o600
    ni.cmd_kube_proxy_volume(node)
    assert node.read(ni.SA_VOLUME + "/token") == token  # stable across restarts of the unit
