# -*- coding: utf-8 -*-
"""kubeadm_config: the ClusterConfiguration keeps what the hardening set, in the shape kubeadm reads (v1beta4
extraArgs as a list of name/value, v1beta3 as a map), and nothing else moves."""
from __future__ import annotations

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.action.kubeadm_config import wanted_args
from ansible_collections.secure_cluster.k8s.plugins.module_utils import kubeadm_config as kc

# As kubeadm 1.37.2 uploads it after `kubeadm init` (kubectl -n kube-system get cm kubeadm-config)
FRESH = """\
apiServer: {}
apiVersion: kubeadm.k8s.io/v1beta4
caCertificateValidityPeriod: 87600h0m0s
certificateValidityPeriod: 8760h0m0s
certificatesDir: /etc/kubernetes/pki
clusterName: kubernetes
controllerManager: {}
dns: {}
encryptionAlgorithm: RSA-2048
etcd:
  local:
    dataDir: /var/lib/etcd
imageRepository: registry.k8s.io
kind: ClusterConfiguration
kubernetesVersion: v1.37.2
networking:
  dnsDomain: cluster.local
  serviceSubnet: 10.96.0.0/12
proxy: {}
scheduler: {}
"""


def fresh():
    return yaml.safe_load(FRESH)


def test_flags_and_volumes_go_to_the_components_section():
    new, changes, skipped = kc.sync(fresh(), "kube-apiserver", {"profiling": "false", "audit-log-path": "/var/log/a"},
                                    [{"name": "audit", "hostPath": "/var/log/kubernetes/audit", "readOnly": False}])
    assert new["apiServer"]["extraArgs"] == [{"name": "profiling", "value": "false"},
                                             {"name": "audit-log-path", "value": "/var/log/a"}]
    assert new["apiServer"]["extraVolumes"] == [{"name": "audit", "hostPath": "/var/log/kubernetes/audit",
                                                 "mountPath": "/var/log/kubernetes/audit", "readOnly": False,
                                                 "pathType": "DirectoryOrCreate"}]
    assert changes == ["kube-apiserver extraArgs: profiling=false", "kube-apiserver extraArgs: audit-log-path=/var/log/a",
                       "kube-apiserver extraVolumes: audit (/var/log/kubernetes/audit)"]
    assert skipped == {}
    # nothing else moved
    assert dict(new, apiServer={}) == fresh()


def test_a_second_sync_changes_nothing():
    args = {"profiling": "false", "tls-min-version": "VersionTLS12"}
    vols = [{"name": "pki", "hostPath": "/etc/kubernetes/pki"}]
    once, _changes, _skipped = kc.sync(fresh(), "kube-scheduler", args, vols)
    twice, changes, _skipped = kc.sync(once, "kube-scheduler", args, vols)
    assert changes == [] and twice == once


def test_existing_entries_keep_their_place_and_other_entries_stay():
    config = fresh()
    config["controllerManager"]["extraArgs"] = [{"name": "node-cidr-mask-size", "value": "24"},
                                                {"name": "profiling", "value": "true"},
                                                {"name": "allocate-node-cidrs", "value": "true"}]
    new, changes, _skipped = kc.sync(config, "kube-controller-manager", {"profiling": "false"})
    assert new["controllerManager"]["extraArgs"] == [{"name": "node-cidr-mask-size", "value": "24"},
                                                     {"name": "profiling", "value": "false"},
                                                     {"name": "allocate-node-cidrs", "value": "true"}]
    assert changes == ["kube-controller-manager extraArgs: profiling=false (was true)"]


def test_duplicates_collapse_and_none_removes():
    config = fresh()
    config["apiServer"]["extraArgs"] = [{"name": "token-auth-file", "value": "/etc/t.csv"},
                                        {"name": "tls-cipher-suites", "value": "A"},
                                        {"name": "tls-cipher-suites", "value": "B"}]
    new, changes, _skipped = kc.sync(config, "kube-apiserver", {"token-auth-file": None, "tls-cipher-suites": "C"})
    assert new["apiServer"]["extraArgs"] == [{"name": "tls-cipher-suites", "value": "C"}]
    assert changes == ["kube-apiserver extraArgs: token-auth-file removed",
                       "kube-apiserver extraArgs: tls-cipher-suites=C (was A,B)"]


def test_v1beta3_keeps_its_map_shape():
    config = fresh()
    config["apiVersion"] = "kubeadm.k8s.io/v1beta3"
    config["scheduler"] = {"extraArgs": {"v": "2"}}
    new, _changes, _skipped = kc.sync(config, "kube-scheduler", {"profiling": "false"})
    assert new["scheduler"]["extraArgs"] == {"v": "2", "profiling": "false"}


def test_etcd_node_specific_flags_are_skipped_and_external_etcd_refused():
    new, changes, skipped = kc.sync(fresh(), "etcd", {"cipher-suites": "X", "listen-client-urls": "https://10.0.0.1:2379"})
    assert new["etcd"]["local"]["extraArgs"] == [{"name": "cipher-suites", "value": "X"}]
    assert new["etcd"]["local"]["dataDir"] == "/var/lib/etcd"
    assert list(skipped) == ["listen-client-urls"] and len(changes) == 1
    external = fresh()
    external["etcd"] = {"external": {"endpoints": ["https://10.0.0.9:2379"]}}
    with pytest.raises(kc.ConfigError, match="external etcd"):
        kc.sync(external, "etcd", {"cipher-suites": "X"})


def test_refusals():
    with pytest.raises(kc.ConfigError, match="not a kubeadm ClusterConfiguration"):
        kc.sync({"kind": "InitConfiguration"}, "kube-scheduler", {})
    with pytest.raises(kc.ConfigError, match="v1beta2"):
        kc.sync(dict(fresh(), apiVersion="kubeadm.k8s.io/v1beta2"), "kube-scheduler", {})
    config, _changes, _skipped = kc.sync(fresh(), "kube-apiserver", {}, [{"name": "a", "hostPath": "/x"}])
    with pytest.raises(kc.ConfigError, match="a and b both mount /x"):
        kc.sync(config, "kube-apiserver", {}, [{"name": "b", "hostPath": "/x"}])


MANIFEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-apiserver
    - --advertise-address=10.0.0.11
    - --enable-admission-plugins=NodeRestriction
    - --authorization-mode=Node,RBAC
    image: registry.k8s.io/kube-apiserver:v1.37.2
    name: kube-apiserver
"""


def test_wanted_args_are_the_values_the_edited_manifest_has():
    args = {"flags": {"enable-admission-plugins": ["AlwaysPullImages"], "profiling": False, "token-auth-file": None,
                      "advertise-address": "10.0.0.12"},
            "remove_flags": ["insecure-port"], "replace": [], "volumes": [], "version": None}
    wanted, edit = wanted_args(yaml.safe_load(MANIFEST), args)
    assert edit.errors == []
    # merged the way static_pod_manifest merges list flags: kubeadm must render the union, not the request
    assert wanted == {"enable-admission-plugins": "NodeRestriction,AlwaysPullImages", "profiling": "false",
                      "token-auth-file": None, "advertise-address": "10.0.0.12", "insecure-port": None}
    _new, _changes, skipped = kc.sync(fresh(), "kube-apiserver", wanted)
    assert list(skipped) == ["advertise-address"]


ETCD = """\
apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://10.0.0.11:2379
    - --listen-client-urls=https://127.0.0.1:2379,https://10.0.0.11:2379
    - --client-cert-auth=true
    image: registry.k8s.io/etcd:3.6.8-0
    name: etcd
"""


def test_wanted_args_of_stacked_etcd_leave_the_members_urls_out():
    args = {"flags": {"client-cert-auth": True, "auto-tls": False,
                      "listen-client-urls": "https://127.0.0.1:2379,https://10.0.0.11:2379"},
            "remove_flags": [], "replace": [], "volumes": [], "version": None}
    wanted, edit = wanted_args(yaml.safe_load(ETCD), args)
    assert edit.errors == [] and edit.component == "etcd"
    assert wanted == {"client-cert-auth": "true", "auto-tls": "false",
                      "listen-client-urls": "https://127.0.0.1:2379,https://10.0.0.11:2379"}
    new, _changes, skipped = kc.sync(fresh(), "etcd", wanted)
    assert new["etcd"]["local"]["extraArgs"] == [{"name": "client-cert-auth", "value": "true"},
                                                 {"name": "auto-tls", "value": "false"}]
    assert list(skipped) == ["listen-client-urls"]


def test_kubelet_settings_merge_into_the_kubelet_config_configmap():
    config = {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
              "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True}},
              "readOnlyPort": 10255, "cgroupDriver": "systemd"}
    settings = {"authentication": {"anonymous": {"enabled": False}, "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}},
                "readOnlyPort": 0, "protectKernelDefaults": True, "cgroupDriver": None}
    new, changes = kc.sync_kubelet(config, settings)
    assert new["authentication"] == {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                                     "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}}
    assert new["readOnlyPort"] == 0 and new["protectKernelDefaults"] is True and "cgroupDriver" not in new
    assert sorted(changes) == ["kubelet authentication.x509", "kubelet cgroupDriver",
                               "kubelet protectKernelDefaults", "kubelet readOnlyPort"]
    assert kc.sync_kubelet(new, settings) == (new, [])
    with pytest.raises(kc.ConfigError, match="KubeletConfiguration"):
        kc.sync_kubelet({"kind": "ClusterConfiguration"}, settings)
