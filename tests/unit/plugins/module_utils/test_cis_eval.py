# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import copy
import datetime
import os

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_checks, cis_eval
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_eval import (
    CatalogError,
    evaluate,
    validate_catalog,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_test_items import compare
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import catalog as catalog_data
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node

CATALOG_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "catalog", "cis_kubernetes_v1.12.yml")
TODAY = datetime.date(2026, 6, 1)


@pytest.fixture(scope="module")
def catalog():
    with open(CATALOG_PATH) as handle:
        return yaml.safe_load(handle)


def node_facts(tmp_path, **kwargs):
    kubeadm_node.build_node(tmp_path, **kwargs)
    return collect(root=str(tmp_path))


def run(facts, catalog, **kwargs):
    kwargs.setdefault("parse_yaml", yaml.safe_load)
    kwargs.setdefault("today", TODAY)
    return evaluate(facts, catalog, host="cp1", **kwargs)


def by_id(result):
    return dict((c["id"], c) for c in result["controls"])


def statuses(result):
    return dict((c["id"], c["status"]) for c in result["controls"])


@pytest.fixture
def fresh(tmp_path, catalog):
    facts = node_facts(tmp_path)
    return facts, run(facts, catalog)


# ---------------------------------------------------------------------------------------------------------------
# the catalog itself
# ---------------------------------------------------------------------------------------------------------------
def test_catalog_is_valid_and_complete(catalog):
    assert validate_catalog(catalog) == []
    ids = [c["id"] for c in catalog["controls"]]
    assert len(ids) == 131 and len(set(ids)) == 131
    per_target = {}
    for ctl in catalog["controls"]:
        per_target[ctl["target"]] = per_target.get(ctl["target"], 0) + 1
    assert per_target == {"master": 60, "etcd": 7, "controlplane": 5, "node": 25, "policies": 34}
    assert catalog["benchmark"]["id"] == "cis-1.12"


def test_catalog_remediation_vars_follow_naming(catalog):
    roles = {"kernel", "containerd", "kubelet", "apiserver", "controller_manager", "scheduler", "etcd"}
    for ctl in catalog["controls"]:
        rb = ctl["remediated_by"]
        if rb is None:
            continue
        assert rb["role"] in roles, ctl["id"]
        assert rb["var"] == "%s_cis_%s_enabled" % (rb["role"], ctl["id"].replace(".", "_")), ctl["id"]
        assert ctl["remediation"].strip(), ctl["id"]
    assert all(c["remediated_by"] is None for c in catalog["controls"] if c["target"] == "policies")


def test_catalog_manual_checks_are_never_scored(catalog):
    for ctl in catalog["controls"]:
        if ctl["check"] is None or ctl["check"]["kind"] == "cluster":
            assert ctl["scored"] is False, ctl["id"]


def test_broken_catalog_raises(catalog):
    broken = copy.deepcopy(catalog)
    broken["controls"][0]["level"] = 3
    broken["controls"][1]["check"] = {"kind": "nope"}
    broken["controls"].append(dict(broken["controls"][2]))
    problems = validate_catalog(broken)
    assert any("level" in p for p in problems)
    assert any("unknown check kind" in p for p in problems)
    assert any("twice" in p for p in problems)
    with pytest.raises(CatalogError):
        evaluate({}, broken)
    assert validate_catalog([]) == ["catalog is not a mapping"]
    assert validate_catalog({"controls": []}) == ["catalog has no controls list"]


# ---------------------------------------------------------------------------------------------------------------
# a fresh kubeadm v1.33 control-plane node: the benchmark's well-known kubeadm results
# ---------------------------------------------------------------------------------------------------------------
FRESH_EXPECTED = {
    # 1.1 file modes: kubeadm gets them right, except the etcd data dir owner
    "1.1.1": "PASS", "1.1.2": "PASS", "1.1.7": "PASS", "1.1.11": "PASS", "1.1.12": "FAIL", "1.1.13": "PASS",
    "1.1.14": "PASS", "1.1.15": "PASS", "1.1.17": "PASS", "1.1.19": "PASS", "1.1.20": "PASS", "1.1.21": "PASS",
    "1.1.9": "WARN",  # CNI conflist 644, unscored
    # 1.2 API server
    "1.2.1": "WARN",  # anonymous auth on by default; unscored in kube-bench
    "1.2.2": "PASS", "1.2.4": "PASS", "1.2.5": "FAIL", "1.2.6": "PASS", "1.2.7": "PASS", "1.2.8": "PASS",
    "1.2.9": "WARN", "1.2.10": "PASS", "1.2.11": "WARN", "1.2.12": "PASS", "1.2.13": "PASS", "1.2.14": "PASS",
    "1.2.15": "FAIL", "1.2.16": "FAIL", "1.2.17": "FAIL", "1.2.18": "FAIL", "1.2.19": "FAIL", "1.2.20": "WARN",
    "1.2.21": "PASS", "1.2.22": "PASS", "1.2.23": "PASS", "1.2.24": "PASS", "1.2.25": "PASS", "1.2.26": "PASS",
    "1.2.27": "WARN", "1.2.28": "WARN", "1.2.29": "WARN", "1.2.30": "FAIL",
    # 1.3 / 1.4
    "1.3.1": "WARN", "1.3.2": "FAIL", "1.3.3": "PASS", "1.3.6": "PASS", "1.3.7": "PASS",
    "1.4.1": "FAIL", "1.4.2": "PASS",
    # 2 etcd: kubeadm sets up TLS everywhere
    "2.1": "PASS", "2.2": "PASS", "2.3": "PASS", "2.4": "PASS", "2.5": "PASS", "2.6": "PASS", "2.7": "PASS",
    # 3
    "3.1.1": "WARN", "3.2.1": "WARN", "3.2.2": "WARN",
    # 4.1: pkgs.k8s.io unit files and kubeadm's config.yaml are 644
    "4.1.1": "FAIL", "4.1.2": "PASS", "4.1.5": "PASS", "4.1.6": "PASS", "4.1.7": "PASS", "4.1.8": "PASS",
    "4.1.9": "FAIL", "4.1.10": "PASS",
    # 4.2 kubelet: kubeadm's config passes the scored items
    "4.2.1": "PASS", "4.2.2": "PASS", "4.2.3": "PASS", "4.2.4": "PASS", "4.2.5": "PASS", "4.2.6": "PASS",
    "4.2.7": "PASS", "4.2.8": "PASS", "4.2.9": "WARN", "4.2.10": "PASS", "4.2.11": "PASS", "4.2.12": "WARN",
    "4.2.13": "WARN", "4.2.14": "WARN",
    "4.3.1": "PASS",
    "5.1.1": "WARN", "5.6.4": "WARN",
}


def test_fresh_kubeadm_node_verdicts(fresh):
    facts, result = fresh
    got = statuses(result)
    assert dict((k, got[k]) for k in FRESH_EXPECTED) == FRESH_EXPECTED
    assert sorted(result["failed"], key=cis_eval._id_key) == [
        "1.1.12", "1.2.5", "1.2.15", "1.2.16", "1.2.17", "1.2.18", "1.2.19", "1.2.30", "1.3.2", "1.4.1",
        "4.1.1", "4.1.9"]
    assert result["totals"]["fail"] == 12
    assert result["totals"]["total"] == 131
    assert result["node"]["kubernetes_version"] == "1.33.4"
    assert result["node"]["targets"] == ["master", "etcd", "controlplane", "node", "policies"]
    # the fixture node has no kubectl to read the kubeadm ConfigMaps with (test_cis_eval_upgrade.py gives it one)
    assert result["messages"] == ["kubeadm upgrade not judged: the kubeadm ConfigMaps could not be read: kubectl not "
                                  "found (/usr/local/bin/kubectl, /usr/bin/kubectl or in PATH)"]
    assert result["drift"] == [] and result["upgrade_drift"] == []


def test_fresh_result_fields(fresh):
    _facts, result = fresh
    ctl = by_id(result)["1.2.15"]
    assert ctl["title"] == "Ensure that the --profiling argument is set to false"
    assert ctl["level"] == 1 and ctl["scored"] is True and ctl["automated"] is True
    assert ctl["expected"] == "'--profiling' is equal to 'false'"
    assert ctl["actual"] == {"running": "--profiling not set", "configured": "--profiling not set"}
    assert ctl["sources"]["configured"] == "/etc/kubernetes/manifests/kube-apiserver.yaml"
    assert ctl["sources"]["running"] == "process 2101"
    assert ctl["remediated_by"] == {"role": "apiserver", "var": "apiserver_cis_1_2_15_enabled"}
    assert ctl["remediation"]
    kubelet = by_id(result)["4.2.1"]
    assert "authentication.anonymous.enabled" in kubelet["actual"]["running"]
    assert kubelet["expected"] == "'--anonymous-auth (config authentication.anonymous.enabled)' is equal to 'false'"
    mode = by_id(result)["4.1.9"]
    assert mode["actual"]["configured"] == "644 /var/lib/kubelet/config.yaml"
    assert mode["expected"] == "permissions 600 or more restrictive"


# ---------------------------------------------------------------------------------------------------------------
# a hand-hardened node
# ---------------------------------------------------------------------------------------------------------------
def test_hardened_node(tmp_path, catalog):
    facts = node_facts(tmp_path, variant="hardened")
    facts["stats"]["/var/lib/etcd"].update(owner="etcd", group="etcd")
    result = run(facts, catalog)
    got = statuses(result)
    assert result["failed"] == []
    for cid in ("1.1.12", "1.2.1", "1.2.5", "1.2.9", "1.2.11", "1.2.15", "1.2.16", "1.2.17", "1.2.18", "1.2.19",
                "1.2.27", "1.2.28", "1.2.29", "1.2.30", "1.3.1", "1.3.2", "1.4.1", "3.2.1", "4.1.1", "4.1.9",
                "4.2.9", "4.2.12", "4.2.13", "4.2.14", "1.1.9"):
        assert got[cid] == "PASS", cid
    # what stays WARN on any node: human reviews and cluster policies
    assert set(c for c, s in got.items() if s == "WARN" and not c.startswith("5.")) == {
        "1.2.20", "3.1.1", "3.1.2", "3.1.3", "3.2.2", "4.1.3"}
    assert "aescbc" in by_id(result)["1.2.28"]["actual"]["configured"]


# ---------------------------------------------------------------------------------------------------------------
# configured vs running
# ---------------------------------------------------------------------------------------------------------------
def edit_manifest(facts, name, old, new):
    info = facts["manifests"]["files"][name]
    assert old in info["text"]
    info["text"] = info["text"].replace(old, new)


def test_drift_configured_but_not_running(fresh, catalog):
    facts = fresh[0]
    edit_manifest(facts, "kube-apiserver.yaml", "    - --secure-port=6443\n",
                  "    - --secure-port=6443\n    - --profiling=false\n")
    result = run(facts, catalog)
    ctl = by_id(result)["1.2.15"]
    assert ctl["status"] == "FAIL"  # what runs is what counts
    assert ctl["drift"] is True
    assert ctl["actual"]["configured"] == "--profiling=false"
    assert ctl["actual"]["running"] == "--profiling not set"
    assert "restart pending" in ctl["reason"] and "passes" in ctl["reason"]
    assert result["drift"] == ["1.2.15"]


def test_drift_running_but_not_configured(fresh, catalog):
    facts = fresh[0]
    facts["processes"]["kube-scheduler"][0]["argv"].append("--profiling=false")
    ctl = by_id(run(facts, catalog))["1.4.1"]
    assert ctl["status"] == "PASS" and ctl["drift"] is True
    assert "fails" in ctl["reason"]


def test_not_running_judged_from_manifest(fresh, catalog):
    facts = fresh[0]
    facts["processes"]["kube-apiserver"] = []
    ctl = by_id(run(facts, catalog))["1.2.7"]
    assert ctl["status"] == "PASS"
    assert ctl["actual"]["running"] is None
    assert "not running; judged from its configuration" in ctl["reason"]


def test_component_absent_is_warn(fresh, catalog):
    facts = fresh[0]
    facts["processes"]["kube-controller-manager"] = []
    del facts["manifests"]["files"]["kube-controller-manager.yaml"]
    ctl = by_id(run(facts, catalog))["1.3.2"]
    assert ctl["status"] == "WARN"
    assert "not running on this node" in ctl["reason"]


def test_invalid_manifest_yaml_is_reported(fresh, catalog):
    facts = fresh[0]
    facts["manifests"]["files"]["kube-apiserver.yaml"]["text"] = "spec: [unclosed\n  - x: {"
    result = run(facts, catalog)
    assert any("kube-apiserver.yaml" in m and "not valid YAML" in m for m in result["messages"])
    ctl = by_id(result)["1.2.15"]
    assert ctl["status"] == "FAIL" and ctl["actual"]["configured"] is None


def test_without_yaml_parser_uses_running_state(fresh, catalog):
    facts = fresh[0]
    result = evaluate(facts, catalog, today=TODAY)  # no parse_yaml
    assert statuses(result)["1.2.15"] == "FAIL"
    assert statuses(result)["4.2.1"] == "PASS" or statuses(result)["4.2.1"] == "FAIL"
    assert any("no YAML parser" in m for m in result["messages"])


def test_kubelet_flag_overrides_config(fresh, catalog):
    facts = fresh[0]
    facts["processes"]["kubelet"][0]["argv"].append("--anonymous-auth=true")
    ctl = by_id(run(facts, catalog))["4.2.1"]
    assert ctl["status"] == "FAIL"
    assert ctl["actual"]["running"] == "--anonymous-auth=true"
    assert ctl["drift"] is True  # the systemd unit does not have it


def test_kubelet_extra_args_from_unit_show_as_configured(fresh, catalog):
    facts = fresh[0]
    facts["kubelet"]["service"]["exec_argv"].append("--hostname-override=other")
    ctl = by_id(run(facts, catalog))["4.2.7"]
    assert ctl["status"] == "PASS" and ctl["drift"] is True
    assert ctl["actual"]["configured"] == "--hostname-override=other"


def test_streaming_timeout_zero(fresh, catalog):
    facts = fresh[0]
    # kubeadm's "0s" in the config means the 4h default
    assert statuses(run(facts, catalog))["4.2.5"] == "PASS"
    facts["processes"]["kubelet"][0]["argv"].append("--streaming-connection-idle-timeout=0")
    assert statuses(run(facts, catalog))["4.2.5"] == "WARN"
    facts["processes"]["kubelet"][0]["argv"][-1] = "--streaming-connection-idle-timeout=5m"
    assert statuses(run(facts, catalog))["4.2.5"] == "PASS"


def test_kubelet_feature_gate_false_in_config(fresh, catalog):
    facts = fresh[0]
    facts["kubelet"]["config"]["text"] += "featureGates:\n  RotateKubeletServerCertificate: false\n"
    ctl = by_id(run(facts, catalog))["4.2.11"]
    assert ctl["status"] == "WARN"
    assert "featureGates RotateKubeletServerCertificate" in ctl["actual"]["running"]


def test_controller_manager_feature_gate(fresh, catalog):
    facts = fresh[0]
    facts["processes"]["kube-controller-manager"][0]["argv"].append(
        "--feature-gates=RotateKubeletServerCertificate=false")
    assert statuses(run(facts, catalog))["1.3.6"] == "FAIL"


def test_kubelet_config_dropins_merge(fresh, catalog):
    facts = fresh[0]
    facts["kubelet"]["config"]["dropins"] = [{"path": "/etc/kubernetes/kubelet.conf.d/10.conf",
                                              "text": "authentication:\n  anonymous:\n    enabled: true\n"}]
    assert statuses(run(facts, catalog))["4.2.1"] == "FAIL"


def test_admission_plugins_membership_not_substring(fresh, catalog):
    facts = fresh[0]
    argv = facts["processes"]["kube-apiserver"][0]["argv"]
    idx = argv.index("--enable-admission-plugins=NodeRestriction")
    argv[idx] = "--enable-admission-plugins=NodeRestrictionX"
    assert statuses(run(facts, catalog))["1.2.14"] == "FAIL"
    argv[idx] = "--enable-admission-plugins=AlwaysAdmit,NodeRestriction"
    got = statuses(run(facts, catalog))
    assert got["1.2.14"] == "PASS" and got["1.2.10"] == "FAIL"
    argv.append("--disable-admission-plugins=ServiceAccount")
    assert statuses(run(facts, catalog))["1.2.12"] == "FAIL"


def test_repeated_flag_last_wins(fresh, catalog):
    facts = fresh[0]
    argv = facts["processes"]["kube-apiserver"][0]["argv"]
    argv.extend(["--profiling=false", "--profiling=true"])
    assert statuses(run(facts, catalog))["1.2.15"] == "FAIL"
    argv.append("--profiling=false")
    assert statuses(run(facts, catalog))["1.2.15"] == "PASS"


def test_encryption_identity_first_is_warn(tmp_path, catalog):
    facts = node_facts(tmp_path, variant="hardened")
    facts["encryption"]["providers"] = ["identity", "aescbc"]
    ctl = by_id(run(facts, catalog))["1.2.28"]
    assert ctl["status"] == "WARN" and "identity" in ctl["reason"]
    facts["encryption"]["providers"] = None
    ctl = by_id(run(facts, catalog))["1.2.28"]
    assert ctl["status"] == "WARN" and "could not be read" in ctl["reason"]


# ---------------------------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------------------------
def test_file_mode_bits(fresh, catalog):
    facts = fresh[0]
    path = "/etc/kubernetes/manifests/kube-apiserver.yaml"
    for mode, status in (("0400", "PASS"), ("0000", "PASS"), ("0640", "FAIL"), ("4600", "FAIL"), ("0601", "FAIL")):
        facts["stats"][path]["mode"] = mode
        assert statuses(run(facts, catalog))["1.1.1"] == status, mode


def test_file_owner(fresh, catalog):
    facts = fresh[0]
    facts["stats"]["/etc/kubernetes/pki/etcd/peer.key"].update(owner="nobody")
    ctl = by_id(run(facts, catalog))["1.1.19"]
    assert ctl["status"] == "FAIL"
    assert "nobody:root /etc/kubernetes/pki/etcd/peer.key" in ctl["reason"]


def test_missing_files(fresh, catalog):
    facts = fresh[0]
    facts["stats"]["/etc/kubernetes/manifests/kube-apiserver.yaml"] = {"exists": False}
    facts["file_sets"]["cni"] = []
    facts["file_sets"]["kubelet_config"] = ["/var/lib/kubelet/none.yaml"]
    facts["file_sets"]["proxy_kubeconfig"] = []
    got = by_id(run(facts, catalog))
    assert got["1.1.1"]["status"] == "FAIL" and "does not exist" in got["1.1.1"]["reason"]
    assert got["1.1.9"]["status"] == "WARN" and "no cni file found" in got["1.1.9"]["reason"]
    # --config names a file that is not there: kube-bench's FAIL (no-kubelet-config-file needs no --config)
    assert got["4.1.9"]["status"] == "FAIL" and "does not exist" in got["4.1.9"]["reason"]
    assert got["4.1.3"]["status"] == "PASS"


def test_unreadable_file_is_warn(fresh, catalog):
    facts = fresh[0]
    facts["stats"]["/etc/kubernetes/manifests/kube-apiserver.yaml"] = {"exists": False, "error": "Permission denied"}
    ctl = by_id(run(facts, catalog))["1.1.1"]
    assert ctl["status"] == "WARN" and "Permission denied" in ctl["reason"]


# ---------------------------------------------------------------------------------------------------------------
# nodes of other shapes
# ---------------------------------------------------------------------------------------------------------------
def test_worker_node_gets_node_controls_only(tmp_path, catalog):
    facts = node_facts(tmp_path, role="worker")
    result = run(facts, catalog)
    assert result["node"]["targets"] == ["node"]
    assert set(c["target"] for c in result["controls"]) == {"node"}
    assert len(result["controls"]) == 25
    assert statuses(result)["4.1.1"] == "FAIL"


def test_selected_master_control_on_worker_is_info(tmp_path, catalog):
    facts = node_facts(tmp_path, role="worker")
    result = run(facts, catalog, ids=["1.2.1", "4.2.1"])
    got = by_id(result)
    assert got["1.2.1"]["status"] == "INFO" and "not applicable" in got["1.2.1"]["reason"]
    assert got["4.2.1"]["status"] == "PASS"
    assert result["totals"]["info"] == 1


def test_node_without_kubernetes(tmp_path, catalog):
    facts = collect(root=str(tmp_path))
    result = run(facts, catalog)
    assert result["controls"] == []
    assert any("no Kubernetes component" in m for m in result["messages"])


@pytest.mark.parametrize("facts", [
    None, {}, {"processes": "garbage", "stats": None}, {"kubelet": {"present": True}},
    {"processes": {"kubelet": "x", "etcd": [{"pid": 1, "argv": "etcd --auto-tls"}]},
     "manifests": {"files": {"a.yaml": "text", "kube-apiserver.yaml": {"path": "/m", "text": "- [a"}}},
     "kubelet": {"present": True, "config": "x", "service": {"files": "x", "exec_argv": ["kubelet", 3]}},
     "file_sets": {"cni": "x", "pki_all": [None, "/a"]}, "stats": {"/a": "x"}, "encryption": {"path": "/e"},
     "collector": {"errors": ["x", {"path": "/p", "error": "denied"}]}, "version": "x"},
])
def test_bad_facts_never_raise(facts, catalog):
    result = evaluate(facts, catalog, targets=list(cis_eval.TARGETS), today=TODAY, parse_yaml=yaml.safe_load)
    assert len(result["controls"]) == 131
    assert all(c["status"] in cis_checks.STATUSES for c in result["controls"])
    assert not any("could not evaluate" in c["reason"] for c in result["controls"])


def test_explicit_targets_and_unknown_target(fresh, catalog):
    facts = fresh[0]
    result = run(facts, catalog, targets=["etcd", "bogus"])
    assert set(c["target"] for c in result["controls"]) == {"etcd"}
    assert any("bogus" in m for m in result["messages"])


def test_policies_can_be_left_out(fresh, catalog):
    facts = fresh[0]
    result = run(facts, catalog, include_policies=False)
    assert "policies" not in result["node"]["targets"]
    assert not any(c["id"].startswith("5.") for c in result["controls"])


def test_version_outside_benchmark_is_reported(fresh, catalog):
    facts = fresh[0]
    facts["version"]["kubernetes"] = "1.28.3"
    result = run(facts, catalog)
    assert any("1.28.3" in m and "cis-1.12" in m for m in result["messages"])


# ---------------------------------------------------------------------------------------------------------------
# selection
# ---------------------------------------------------------------------------------------------------------------
def test_level_filter(fresh, catalog):
    facts = fresh[0]
    result = run(facts, catalog, level=1)
    ids = set(c["id"] for c in result["controls"])
    assert not ids & {"1.3.6", "2.7", "3.1.1", "3.2.2", "4.2.9", "5.2.7", "5.6.4"}
    assert "1.2.1" in ids
    assert result["level"] == 1
    assert len(result["controls"]) == 131 - 13
    bad = run(facts, catalog, level="high")
    assert bad["level"] == 2 and any("cis_level" in m for m in bad["messages"])


def test_id_selection_and_skip(fresh, catalog):
    facts = fresh[0]
    result = run(facts, catalog, ids=["1.2", "2.1"], skip_ids=["1.2.20"])
    ids = [c["id"] for c in result["controls"]]
    assert ids[0] == "1.2.1" and ids[-1] == "2.1"
    assert "1.2.20" not in ids and "1.2.2" in ids and "1.2.10" in ids
    assert len(ids) == 30
    result = run(facts, catalog, ids=["9.9"])
    assert result["controls"] == [] and any("9.9" in m for m in result["messages"])


# ---------------------------------------------------------------------------------------------------------------
# waivers
# ---------------------------------------------------------------------------------------------------------------
def test_active_waiver(fresh, catalog):
    facts = fresh[0]
    waivers = [{"id": "1.2.5", "reason": "kubelet serving certs not yet signed by the cluster CA",
                "expires": "2026-12-31"}]
    result = run(facts, catalog, waivers=waivers)
    ctl = by_id(result)["1.2.5"]
    assert ctl["status"] == "WAIVED"
    assert ctl["underlying_status"] == "FAIL"
    assert "kubelet serving certs" in ctl["reason"] and "2026-12-31" in ctl["reason"]
    assert ctl["waiver"]["expired"] is False
    assert "1.2.5" not in result["failed"]
    assert result["totals"]["waived"] == 1


def test_expired_waiver_fails(fresh, catalog):
    facts = fresh[0]
    waivers = [
        {"id": "1.2.9", "reason": "no event limits yet", "expires": datetime.date(2026, 1, 31)},
        {"id": "1.2.7", "reason": "moot", "expires": "2026-01-01"},
    ]
    result = run(facts, catalog, waivers=waivers)
    ctl = by_id(result)["1.2.9"]
    assert ctl["status"] == "FAIL"  # an expired waiver counts as a failure even for an unscored WARN
    assert ctl["underlying_status"] == "WARN"
    assert ctl["reason"].startswith("waiver expired on 2026-01-31")
    assert "1.2.9" in result["failed"]
    passing = by_id(result)["1.2.7"]
    assert passing["status"] == "PASS" and "no longer needed" in passing["reason"]


def test_waiver_expiring_today_is_still_valid(fresh, catalog):
    facts = fresh[0]
    result = run(facts, catalog, waivers=[{"id": "1.2.15", "reason": "x", "expires": TODAY.isoformat()}])
    assert by_id(result)["1.2.15"]["status"] == "WAIVED"


def test_waiver_hosts_and_sections(fresh, catalog):
    facts = fresh[0]
    waivers = [
        {"id": "1.2.16", "reason": "audit shipped by sidecar", "expires": "2027-01-01", "hosts": ["worker*"]},
        {"id": "1.3", "reason": "controller manager hardening next sprint", "expires": "2027-01-01",
         "hosts": ["cp*"]},
    ]
    got = by_id(run(facts, catalog, waivers=waivers))
    assert got["1.2.16"]["status"] == "FAIL"
    assert got["1.3.2"]["status"] == "WAIVED" and got["1.3.3"]["status"] == "WAIVED"
    assert got["1.3.3"]["underlying_status"] == "PASS"


def test_bad_waivers_give_messages(fresh, catalog):
    facts = fresh[0]
    waivers = [
        {"id": "9.9.9", "reason": "typo", "expires": "2027-01-01"},
        {"id": "1.2.15", "reason": "bad date", "expires": "31/12/2026"},
        {"id": "1.2.16", "expires": "2027-01-01"},
        "not-a-dict",
    ]
    result = run(facts, catalog, waivers=waivers)
    text = " | ".join(result["messages"])
    assert "unknown CIS id 9.9.9" in text
    assert "invalid expires" in text
    assert "no reason" in text
    assert "has no id" in text
    assert by_id(result)["1.2.15"]["status"] == "FAIL"
    assert run(facts, catalog, waivers="nonsense")["messages"]


def test_waiver_without_expiry(fresh, catalog):
    facts = fresh[0]
    ctl = by_id(run(facts, catalog, waivers=[{"id": "1.2.15", "reason": "forever"}]))["1.2.15"]
    assert ctl["status"] == "WAIVED" and ctl["waiver"]["expires"] is None


# ---------------------------------------------------------------------------------------------------------------
# operators
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op,value,expected,vtype,result", [
    ("eq", "false", "false", None, True),
    ("eq", "False", "false", None, True),
    ("eq", "true", "false", None, False),
    ("eq", "127.0.0.1", "127.0.0.1", None, True),
    ("eq", "0", 0, "int", True),
    ("noteq", "false", "false", None, False),
    ("noteq", "true", "false", None, True),
    ("gte", "30", 30, "int", True),
    ("gte", "29", 30, "int", False),
    ("gte", "abc", 30, "int", False),
    ("lte", "5", 10, None, True),
    ("gt", "5", 5, None, False),
    ("lt", "4", 5, None, True),
    ("has", "Node,RBAC", "RBAC", "list", True),
    ("has", "NodeRestrictionX", "NodeRestriction", "list", False),
    ("has", "127.0.0.1:10249", "127.0.0.1", None, True),
    ("nothave", "Node,RBAC", "AlwaysAllow", "list", True),
    ("nothave", "AlwaysAllow", "AlwaysAllow", "list", False),
    ("valid_elements", "A,B", ["A", "B", "C"], None, True),
    ("valid_elements", "A,D", ["A", "B", "C"], None, False),
    ("valid_elements", "", ["A"], None, False),
    ("noteq", "4h0m0s", "0", "duration", True),
    ("noteq", "0s", "0", "duration", False),
    ("eq", "5m", "300s", "duration", True),
    ("eq", "bogus", "0", "duration", False),
    ("regex", "v1.33.4", r"^v1\.3[2-4]\.", None, True),
    ("regex", "x", "(", None, False),
    ("nope", "x", "y", None, False),
])
def test_compare(op, value, expected, vtype, result):
    assert compare(op, value, expected, vtype)[0] is result


@pytest.mark.parametrize("benchmark", sorted(set(catalog_data.load_mapping().values())))
def test_catalog_remediation_vars_exist_in_the_roles(benchmark):
    """Every toggle a catalog names is an option of that role's argument spec (remediate.yml sets them)."""
    roles_dir = os.path.join(os.path.dirname(CATALOG_PATH), "..", "roles")
    options = {}
    for ctl in catalog_data.load_catalog(catalog_data.catalog_path(benchmark))["controls"]:
        rb = ctl["remediated_by"]
        if rb is None:
            continue
        if rb["role"] not in options:
            with open(os.path.join(roles_dir, rb["role"], "meta", "argument_specs.yml")) as handle:
                spec = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
            options[rb["role"]] = spec
        assert rb["var"] in options[rb["role"]], (ctl["id"], rb)
        assert options[rb["role"]][rb["var"]]["type"] == "bool", (ctl["id"], rb)
