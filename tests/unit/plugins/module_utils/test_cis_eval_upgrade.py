# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's third state: what the next ``kubeadm upgrade`` would write ("will drift on upgrade").

The node is the kubeadm fixture (kubeadm_node.py); kubectl on it answers with the kubeadm-config and kubelet-config
ConfigMaps the test gives. The oracle is the audit of the fresh fixture node: a ClusterConfiguration and a
kubelet-config ConfigMap as ``kubeadm init`` uploads them would turn the hardened node back into that, so exactly
the recommendations that pass on the hardened node and not on the fresh one must be marked. That the prediction is
what the real kubeadm writes is tested on the real binaries (tests/integration/test_real_cluster.py).
"""
from __future__ import annotations

import json

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_eval, kubeadm_config
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils.test_cis_eval import (
    CATALOG_PATH, TODAY)

# kubeadm init's upload: no extraArgs, no extraVolumes
FRESH_CLUSTER_CONFIG = {
    "apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration", "kubernetesVersion": kubeadm_node.VERSION,
    "certificatesDir": "/etc/kubernetes/pki", "clusterName": "kubernetes",
    "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
    "networking": {"serviceSubnet": "10.96.0.0/12", "podSubnet": "10.244.0.0/16", "dnsDomain": "cluster.local"},
    "apiServer": {}, "controllerManager": {}, "scheduler": {},
}
CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


@pytest.fixture(scope="module")
def catalog():
    with open(CATALOG_PATH) as handle:
        return yaml.safe_load(handle)


def configmap(name, key, text):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "kube-system"},
            "data": {key: text}}


def facts_of(root, variant, cluster_config=None, kubelet_config=None, kubectl_rc=0):
    """Facts of the fixture node; kubectl answers with the given ConfigMaps (None: that one is not found)."""
    kubeadm_node.build_node(root, variant=variant)
    kubeadm_node.write(str(root), "/usr/bin/kubectl", "#!/bin/sh\n", 0o755)
    calls = []

    def run_command(argv):
        calls.append(argv)
        if not argv[0].endswith("/kubectl"):
            return 1, "", "not here"
        if kubectl_rc:
            return kubectl_rc, "", "The connection to the server 10.89.0.2:6443 was refused"
        items = []
        if cluster_config is not None:
            items.append(configmap("kubeadm-config", "ClusterConfiguration", yaml.safe_dump(cluster_config)))
        if kubelet_config is not None:
            items.append(configmap("kubelet-config", "kubelet", kubelet_config))
        missing = [n for n, v in (("kubeadm-config", cluster_config), ("kubelet-config", kubelet_config)) if v is None]
        err = "".join('Error from server (NotFound): configmaps "%s" not found\n' % n for n in missing)
        return (1 if missing else 0), json.dumps({"apiVersion": "v1", "kind": "List", "items": items}), err

    facts = collect(root=str(root), run_command=run_command, version_from_binaries=False)
    return facts, calls


def run(facts, catalog):
    return cis_eval.evaluate(facts, catalog, host="cp1", parse_yaml=yaml.safe_load, today=TODAY)


def passing(result, targets):
    return {c["id"] for c in result["controls"] if c["target"] in targets and c["status"] == "PASS"}


def with_extra_args(config, hardening):
    """``config`` whose components keep ``hardening`` ({component: [--flag=value]}) as v1beta4 extraArgs."""
    config = json.loads(json.dumps(config))
    for component, argv in hardening.items():
        section = config
        for key in kubeadm_config.SECTIONS[component]:
            section = section.setdefault(key, {})
        section["extraArgs"] = [dict(zip(("name", "value"), a[2:].split("=", 1))) for a in argv]
    return config


@pytest.fixture
def fresh_result(tmp_path, catalog):
    facts, _calls = facts_of(tmp_path / "fresh", "kubeadm", FRESH_CLUSTER_CONFIG, kubeadm_node.KUBELET_CONFIG)
    return run(facts, catalog)


def test_configmaps_are_read_with_kubectl_as_admin(tmp_path):
    facts, calls = facts_of(tmp_path, "hardened", FRESH_CLUSTER_CONFIG, kubeadm_node.KUBELET_CONFIG)
    assert calls == [["/usr/bin/kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "--request-timeout", "10s",
                      "--namespace", "kube-system", "get", "configmap", "kubeadm-config", "kubelet-config",
                      "--output", "json"]]
    kubeadm = facts["kubeadm"]
    assert kubeadm["present"] and kubeadm["error"] is None
    assert kubeadm["source"] == "kubectl --kubeconfig /etc/kubernetes/admin.conf"
    assert yaml.safe_load(kubeadm["configmaps"]["kubeadm-config"]["ClusterConfiguration"]) == FRESH_CLUSTER_CONFIG
    assert kubeadm["configmaps"]["kubelet-config"]["kubelet"] == kubeadm_node.KUBELET_CONFIG


def test_configs_as_kubeadm_init_uploaded_them_would_undo_the_hardening(tmp_path, catalog, fresh_result):
    facts, _calls = facts_of(tmp_path / "hardened", "hardened", FRESH_CLUSTER_CONFIG, kubeadm_node.KUBELET_CONFIG)
    result = run(facts, catalog)
    targets = ("master", "controlplane", "etcd", "node")
    # the oracle: what passes hardened and not fresh, among the checks of a component's flags and config
    judged = {c["id"] for c in catalog["controls"] if (c.get("check") or {}).get("kind") in ("args", "encryption")}
    undone = (passing(result, targets) - passing(fresh_result, targets)) & judged
    assert undone >= {"1.2.15", "1.3.2", "1.4.1", "1.2.27"}, undone
    assert set(result["upgrade_drift"]) == undone
    for ctl in result["controls"]:
        if ctl["upgrade_drift"]:
            assert ctl["status"] == "PASS"  # the verdict stays kube-bench's
            assert "will drift on upgrade" in ctl["reason"]
    by_id = dict((c["id"], c) for c in result["controls"])
    assert "kube-system/kubeadm-config" in by_id["1.2.15"]["reason"]
    assert "--profiling not set" in by_id["1.2.15"]["reason"]
    upgrade = result["upgrade"]
    assert upgrade["judged"] and upgrade["kubeadm_minor"] == "1.34"  # 1.33 is older than the data: nearest
    assert any("kubeadm's defaults of 1.33 are not known: those of 1.34 used" in m for m in result["messages"])
    assert {"profiling", "audit-log-path", "encryption-provider-config"} <= set(
        upgrade["components"]["kube-apiserver"]["lost"])
    # the fresh node itself has nothing an upgrade would undo
    assert fresh_result["upgrade_drift"] == []


def test_a_cluster_configuration_that_keeps_the_hardening_drifts_nowhere(tmp_path, catalog):
    kept = with_extra_args(FRESH_CLUSTER_CONFIG, {
        "kube-apiserver": kubeadm_node.APISERVER_HARDENING + [
            "--enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs"],
        "kube-controller-manager": ["--profiling=false", "--terminated-pod-gc-threshold=10"],
        "kube-scheduler": ["--profiling=false"],
    })
    kubelet = kubeadm_node.KUBELET_CONFIG + kubeadm_node.KUBELET_CONFIG_HARDENING
    facts, _calls = facts_of(tmp_path, "hardened", kept, kubelet)
    result = run(facts, catalog)
    assert result["upgrade_drift"] == []
    components = result["upgrade"]["components"]
    assert sorted(components) == ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]
    for component in CONTROL_PLANE:
        assert components[component]["lost"] == [], component
    # the hand-written 1.33 fixture's extra mounts are not kubeadm's: they are named, not silently dropped
    assert result["upgrade"]["kubelet_config"] == "kube-system/kubelet-config ConfigMap"


def test_the_kubelet_config_map_alone(tmp_path, catalog, fresh_result):
    kept = with_extra_args(FRESH_CLUSTER_CONFIG, {
        "kube-apiserver": kubeadm_node.APISERVER_HARDENING + [
            "--enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs"],
        "kube-controller-manager": ["--profiling=false", "--terminated-pod-gc-threshold=10"],
        "kube-scheduler": ["--profiling=false"],
    })
    facts, _calls = facts_of(tmp_path, "hardened", kept, kubeadm_node.KUBELET_CONFIG)
    result = run(facts, catalog)
    node_checks = {c["id"] for c in result["controls"] if c["target"] == "node"}
    assert result["upgrade_drift"] and set(result["upgrade_drift"]) <= node_checks
    by_id = dict((c["id"], c) for c in result["controls"])
    for cid in result["upgrade_drift"]:
        assert ("the kube-system/kubelet-config ConfigMap, which kubeadm upgrade writes to /var/lib/kubelet/"
                "config.yaml, would give") in by_id[cid]["reason"]
    hardened_only = passing(result, ("node",)) - passing(fresh_result, ("node",))
    assert set(result["upgrade_drift"]) == {c for c in hardened_only if by_id[c].get("sources")}


def test_unreadable_configmaps_are_a_note_not_a_verdict(tmp_path, catalog):
    facts, _calls = facts_of(tmp_path, "hardened", kubectl_rc=1)
    result = run(facts, catalog)
    assert result["upgrade_drift"] == [] and not result["upgrade"]["judged"]
    assert any(m.startswith("kubeadm upgrade not judged: the kubeadm ConfigMaps could not be read: "
                            "/etc/kubernetes/admin.conf: The connection to the server") for m in result["messages"])
    # the kubelet's kubeconfig was tried too (kubeadm's RBAC lets every node read both ConfigMaps)
    assert "/etc/kubernetes/kubelet.conf: The connection" in facts["kubeadm"]["error"]


def test_not_a_kubeadm_node_and_switched_off(tmp_path, catalog):
    kubeadm_node.build_node(tmp_path, variant="hardened")
    facts = collect(root=str(tmp_path), version_from_binaries=False, kubeadm_config=False)
    assert facts["kubeadm"] == {"present": False, "source": None, "configmaps": {}, "error": None}
    result = run(facts, catalog)
    assert not result["upgrade"]["judged"] and not any("kubeadm upgrade" in m for m in result["messages"])


# ---------------------------------------------------------------------------------------------------------------
# regenerate(): kubeadm's rules on a small made-up default set
# ---------------------------------------------------------------------------------------------------------------
DEFAULTS = {
    "args": {"authorization-mode": "Node,RBAC", "enable-admission-plugins": "NodeRestriction",
             "advertise-address": None, "tls-cert-file": None, "service-cluster-ip-range": None},
    "volumes": {"ca-certs": ("/etc/ssl/certs", "/etc/ssl/certs", True), "k8s-certs": (None, None, True)},
}
NOW = [("advertise-address", "10.0.0.5"), ("authorization-mode", "Node,RBAC"),
       ("enable-admission-plugins", "NodeRestriction,AlwaysPullImages"), ("tls-cert-file", "/pki/apiserver.crt"),
       ("profiling", "false")]
NOW_VOLUMES = {"ca-certs": ("/etc/ssl/certs", "/etc/ssl/certs", True), "k8s-certs": ("/pki", "/pki", True),
               "audit": ("/var/log/kubernetes/audit", "/var/log/kubernetes/audit", False)}


def config_with(extra_args=None, extra_volumes=None, api_version="kubeadm.k8s.io/v1beta4"):
    section = {}
    if extra_args is not None:
        section["extraArgs"] = extra_args
    if extra_volumes is not None:
        section["extraVolumes"] = extra_volumes
    return {"apiVersion": api_version, "kind": "ClusterConfiguration", "apiServer": section}


def test_regenerate_defaults_only():
    regen = kubeadm_config.regenerate(config_with(), "kube-apiserver", NOW, NOW_VOLUMES, DEFAULTS)
    # derived defaults come from the manifest, literal ones from kubeadm; service-cluster-ip-range is derived and
    # absent now, so it stays absent
    assert regen["args"] == [("advertise-address", "10.0.0.5"), ("authorization-mode", "Node,RBAC"),
                             ("enable-admission-plugins", "NodeRestriction"), ("tls-cert-file", "/pki/apiserver.crt")]
    assert regen["lost"] == ["profiling"]
    assert regen["changed"] == [("enable-admission-plugins", "NodeRestriction,AlwaysPullImages", "NodeRestriction")]
    assert regen["added"] == []
    assert regen["volumes"] == {"ca-certs": ("/etc/ssl/certs", "/etc/ssl/certs", True),
                                "k8s-certs": ("/pki", "/pki", True)}
    assert regen["lost_volumes"] == [("audit", "/var/log/kubernetes/audit", "/var/log/kubernetes/audit")]


def test_regenerate_extra_args_replace_defaults_and_add_flags():
    config = config_with(
        [{"name": "enable-admission-plugins", "value": "NodeRestriction,AlwaysPullImages"},
         {"name": "profiling", "value": "false"}, {"name": "audit-log-maxage", "value": "30"}],
        [{"name": "audit", "hostPath": "/var/log/kubernetes/audit", "mountPath": "/var/log/kubernetes/audit"}])
    regen = kubeadm_config.regenerate(config, "kube-apiserver", NOW, NOW_VOLUMES, DEFAULTS)
    assert regen["lost"] == [] and regen["changed"] == [] and regen["added"] == ["audit-log-maxage"]
    assert regen["lost_volumes"] == []
    # kubeadm's HostPathMount: readOnly false unless given
    assert regen["volumes"]["audit"] == ("/var/log/kubernetes/audit", "/var/log/kubernetes/audit", False)


def test_regenerate_v1beta3_map_and_repeated_v1beta4_args():
    regen = kubeadm_config.regenerate(config_with({"profiling": "false"}, api_version="kubeadm.k8s.io/v1beta3"),
                                      "kube-apiserver", NOW, NOW_VOLUMES, DEFAULTS)
    assert ("profiling", "false") in regen["args"]
    repeated = config_with([{"name": "tls-cipher-suites", "value": "A"}, {"name": "tls-cipher-suites", "value": "B"}])
    regen = kubeadm_config.regenerate(repeated, "kube-apiserver", NOW, NOW_VOLUMES, DEFAULTS)
    assert [v for n, v in regen["args"] if n == "tls-cipher-suites"] == ["A", "B"]


def test_regenerate_structured_authorization_replaces_the_mode():
    config = config_with([{"name": "authorization-config", "value": "/etc/kubernetes/authz.yaml"}])
    regen = kubeadm_config.regenerate(config, "kube-apiserver", NOW, NOW_VOLUMES, DEFAULTS)
    assert "authorization-mode" in regen["lost"] and regen["added"] == ["authorization-config"]


def test_regenerate_refuses_external_etcd():
    config = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration",
              "etcd": {"external": {"endpoints": ["https://10.0.0.9:2379"]}}}
    with pytest.raises(kubeadm_config.ConfigError, match="external etcd"):
        kubeadm_config.regenerate(config, "etcd", [], {}, {"args": {}, "volumes": {}})


def test_kubeadm_defaults_of_a_version():
    known = sorted(kubeadm_config.kubeadm_manifests(), key=lambda m: tuple(map(int, m.split("."))))
    minor, defaults, note = kubeadm_config.kubeadm_defaults("v%s.1" % known[-1])
    assert (minor, note) == (known[-1], None) and defaults is kubeadm_config.kubeadm_manifests()[known[-1]]
    assert kubeadm_config.kubeadm_defaults("1.99.0")[0] == known[-1]
    assert kubeadm_config.kubeadm_defaults("1.20.0")[0] == known[0]
    minor, _defaults, note = kubeadm_config.kubeadm_defaults(None)
    assert minor == known[-1] and "unknown" in note
