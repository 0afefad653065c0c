# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The first boot of a real-binary test node: what the test bed gives kubeadm, and refusals before anything runs."""
from __future__ import annotations

import pytest

from ansible_collections.secure_cluster.k8s.tests.unit.testbed_loader import load

kn = load("kubeadm_node")

RELEASE = {"minor": "1.37", "kubernetes_version": "1.37.2", "etcd_version": "3.7.0"}


def test_init_configuration_is_kubeadm_defaults_plus_identity_and_host_needs():
    init, cluster, kubelet, proxy = kn.init_configuration("1.37.2", "cp1", "10.89.0.5")
    assert init == {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration",
                    "localAPIEndpoint": {"advertiseAddress": "10.89.0.5", "bindPort": 6443},
                    "nodeRegistration": {"name": "cp1", "criSocket": "unix:///var/run/containerd/containerd.sock"}}
    # nothing CIS-related: the fresh node must fail what a fresh kubeadm node fails
    assert cluster == {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration",
                       "kubernetesVersion": "v1.37.2"}
    assert kubelet == {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
                       "cgroupDriver": "systemd", "failCgroupV1": False, "cgroupsPerQOS": False,
                       "enforceNodeAllocatable": ["none"]}
    assert proxy == {"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
                     "conntrack": {"maxPerCore": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
                     "iptables": {"localhostNodePorts": False}}


@pytest.mark.parametrize("requested", [None, "", "1.37", "1.37.2", "v1.37.2"])
def test_requested_version_matching_the_image(requested):
    assert kn.check_requested_version(RELEASE, requested) == "1.37.2"


@pytest.mark.parametrize("requested", ["1.34", "1.37.1", "v1.33.5"])
def test_requested_version_of_another_release_is_refused(requested):
    expected = r"real binaries of Kubernetes 1\.37\.2: use the image localhost/secure-cluster-k8s/node:1\.3[347]"
    with pytest.raises(kn.KubeadmError, match=expected):
        kn.check_requested_version(RELEASE, requested)


def test_no_release_file_means_the_stand_in_image(tmp_path):
    assert kn.load_release(str(tmp_path / "real-release.json")) is None
    (tmp_path / "real-release.json").write_text('{"minor": "1.34", "kubernetes_version": "1.34.4"}')
    assert kn.load_release(str(tmp_path / "real-release.json"))["minor"] == "1.34"


JOIN = ("kubeadm join 10.89.0.5:6443 --token abcdef.0123456789abcdef "
        "--discovery-token-ca-cert-hash sha256:" + "0" * 64).split()


@pytest.mark.parametrize("argv", [JOIN, JOIN[2:], [JOIN[2], JOIN[3] + "=" + JOIN[4], JOIN[5] + "=" + JOIN[6]]])
def test_join_command_as_kubeadm_prints_it(argv):
    assert kn.parse_join_command(argv) == ("10.89.0.5:6443", "abcdef.0123456789abcdef", "sha256:" + "0" * 64)


@pytest.mark.parametrize("argv, message", [
    (JOIN[:5], "needs ENDPOINT, --token and --discovery-token-ca-cert-hash"),
    (JOIN + ["--control-plane"], "unexpected argument '--control-plane'"),
    (JOIN[:3] + ["--token"], "--token needs a value"),
])
def test_join_command_that_is_not_a_worker_join_is_refused(argv, message):
    with pytest.raises(kn.KubeadmError, match=message):
        kn.parse_join_command(argv)


def test_join_configuration_is_the_join_command_and_the_identity():
    assert kn.join_configuration("w1", "10.89.0.5:6443", "abcdef.0123456789abcdef", "sha256:ff") == {
        "apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "JoinConfiguration",
        "discovery": {"bootstrapToken": {"apiServerEndpoint": "10.89.0.5:6443", "token": "abcdef.0123456789abcdef",
                                         "caCertHashes": ["sha256:ff"]}},
        "nodeRegistration": {"name": "w1", "criSocket": "unix:///var/run/containerd/containerd.sock"}}
