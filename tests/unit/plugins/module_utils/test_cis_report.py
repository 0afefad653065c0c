# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_report
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_eval import evaluate
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import test_cis_eval_upgrade as up

CATALOG_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "catalog", "cis_kubernetes_v1.12.yml")


@pytest.fixture(scope="module")
def catalog():
    with open(CATALOG_PATH) as handle:
        return yaml.safe_load(handle)


@pytest.fixture
def fleet(tmp_path, catalog):
    return kubeadm_node.evaluate_fleet(tmp_path, catalog, cp={"waivers": [
        {"id": "1.2.5", "reason": "serving certs | pending", "expires": "2026-12-31"},
        {"id": "1.2.9", "reason": "old", "expires": "2026-01-01"}]})


def test_kube_bench_json_shape(fleet):
    cp = fleet[0]
    data = cis_report.to_kube_bench(cp)
    json.dumps(data)  # serialisable
    assert set(data) == {"Controls", "Totals", "secure_cluster"}
    master = data["Controls"][0]
    assert master["id"] == "1" and master["node_type"] == "master"
    assert master["version"] == "cis-1.12" and master["detected_version"] == "1.33"
    assert master["text"] == "Control Plane Security Configuration"
    assert set(master) >= {"id", "version", "text", "node_type", "tests", "total_pass", "total_fail", "total_warn",
                           "total_info"}
    group = master["tests"][0]
    assert group["section"] == "1.1" and group["desc"] == "Control Plane Node Configuration Files"
    assert set(group) >= {"section", "type", "pass", "fail", "warn", "info", "desc", "results"}
    check = group["results"][0]
    for key in ("test_number", "test_desc", "audit", "AuditEnv", "AuditConfig", "type", "remediation", "test_info",
                "status", "actual_value", "scored", "IsMultiple", "expected_result", "reason"):
        assert key in check
    assert check["test_number"] == "1.1.1" and check["status"] == "PASS"
    results = dict((r["test_number"], r) for c in data["Controls"] for g in c["tests"] for r in g["results"])
    assert results["1.2.15"]["status"] == "FAIL"
    assert results["1.2.15"]["test_desc"].endswith("(Automated)")
    assert results["1.2.5"]["status"] == "INFO" and results["1.2.5"]["secure_cluster_status"] == "WAIVED"
    assert results["1.2.9"]["status"] == "FAIL" and results["1.2.9"]["underlying_status"] == "WARN"
    totals = data["Totals"]
    assert totals["total_fail"] == cp["totals"]["fail"]
    assert totals["total_info"] == cp["totals"]["info"] + cp["totals"]["waived"]
    assert totals["total_waived"] == 1
    assert sum(totals[k] for k in ("total_pass", "total_fail", "total_warn", "total_info")) == 131
    assert sum(c["total_fail"] for c in data["Controls"]) == totals["total_fail"]


def test_junit(fleet):
    xml = cis_report.to_junit(fleet)
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["cp1 cis-1.12", "w1 cis-1.12"]
    cp_cases = suites[0].findall("testcase")
    assert len(cp_cases) == 131 and len(suites[1].findall("testcase")) == 25
    failures = [c for c in cp_cases if c.find("failure") is not None]
    assert len(failures) == int(suites[0].get("failures")) == fleet[0]["totals"]["fail"]
    names = dict((c.get("name").split(" ")[0], c) for c in cp_cases)
    assert names["1.2.15"].find("failure") is not None
    assert names["1.2.5"].find("skipped").get("message").startswith("WAIVED")
    assert names["1.1.1"].find("failure") is None and names["1.1.1"].find("skipped") is None
    assert names["1.2.15"].get("classname") == "cis-1.12.cp1.1.2"
    assert int(root.get("tests")) == 131 + 25


def test_markdown(fleet):
    md = cis_report.to_markdown(fleet, generated="2026-06-01 00:00 UTC")
    assert md.startswith("# CIS Kubernetes Benchmark audit")
    assert "| cp1 | 1.33.4 | cis-1.12 | master, etcd, controlplane, node, policies |" in md
    assert "| w1 |" in md
    assert "| 1.2.15 | Ensure that the --profiling argument is set to false |" in md
    assert "apiserver: `apiserver_cis_1_2_15_enabled`" in md
    assert "serving certs \\| pending until 2026-12-31" in md
    assert "EXPIRED" in md
    assert "**fleet (2)**" in md


def test_summary_lines(fleet):
    lines = cis_report.summary_lines(fleet)
    assert lines[0].startswith("cp1")
    assert any(line.startswith("    FAIL 1.2.15") for line in lines)
    assert lines[-1].startswith("fleet: 2 host(s)")


def test_gate(fleet):
    fails = fleet[0]["totals"]["fail"] + fleet[1]["totals"]["fail"]
    ok, msg = cis_report.gate(fleet, "any", 0)
    assert ok is False and "%d failure(s)" % fails in msg and "cp1:" in msg
    ok, msg = cis_report.gate(fleet, "any", fails)
    assert ok is True
    ok = cis_report.gate(fleet, "none", 0)[0]
    assert ok is True
    # scored only: the expired waiver on unscored 1.2.9 still counts
    scored = [r["id"] for h in fleet for r in cis_report.failing(h, scored_only=True)]
    assert "1.2.9" in scored
    ok, msg = cis_report.gate(fleet, "scored", len(scored))
    assert ok is True
    assert cis_report.gate(fleet, "sometimes")[0] is False
    assert cis_report.gate(fleet, "any", "x")[0] is False


def test_apply_gate(fleet):
    fails = fleet[0]["totals"]["fail"] + fleet[1]["totals"]["fail"]
    result = cis_report.apply_gate({"msg": "audited"}, fleet, "any", 0)
    assert result["failed"] is True and result["gate"]["passed"] is False
    assert result["msg"].startswith("audited; CIS gate: %d failure(s)" % fails)
    result = cis_report.apply_gate({"msg": "audited"}, fleet, "any", fails)
    assert "failed" not in result and result["msg"] == "audited"
    assert result["gate"] == {"passed": True, "msg": "CIS gate passed: %d failure(s), %d allowed" % (fails, fails)}


def test_set_stats_data(fleet):
    data = cis_report.set_stats_data(fleet)
    assert data["cis_audit"]["cp1"]["fail"] == fleet[0]["totals"]["fail"]
    assert data["cis_audit"]["w1"]["failed_ids"] == fleet[1]["failed"]
    assert data["cis_audit_totals"]["hosts"] == 2


def test_empty_results():
    assert cis_report.to_kube_bench({"controls": []})["Totals"]["total_pass"] == 0
    assert ET.fromstring(cis_report.to_junit([])).get("tests") == "0"
    assert "fleet (0)" in cis_report.to_markdown([])
    assert cis_report.gate([], "any", 0)[0] is True


def test_will_drift_on_upgrade_in_every_report(tmp_path, catalog):
    """A node whose ClusterConfiguration would not keep --profiling=false (test_cis_eval_upgrade.py builds it)."""
    facts, _calls = up.facts_of(tmp_path, "hardened", up.FRESH_CLUSTER_CONFIG,
                                kubeadm_node.KUBELET_CONFIG + kubeadm_node.KUBELET_CONFIG_HARDENING)
    result = evaluate(facts, catalog, host="cp1", parse_yaml=yaml.safe_load, today="2026-06-01")
    assert "1.2.15" in result["upgrade_drift"]
    doc = cis_report.to_kube_bench(result)
    checks = {t["test_number"]: t for c in doc["Controls"] for g in c["tests"] for t in g["results"]}
    assert checks["1.2.15"]["status"] == "PASS" and checks["1.2.15"]["upgrade_drift"] is True
    assert checks["1.2.7"]["upgrade_drift"] is False
    assert doc["secure_cluster"]["upgrade_drift"] == result["upgrade_drift"]
    assert "profiling" in doc["secure_cluster"]["upgrade"]["components"]["kube-apiserver"]["lost"]
    lines = cis_report.summary_lines([result])
    assert "    UPGRADE 1.2.15 passes now, the next kubeadm upgrade would undo it" in lines
    md = cis_report.to_markdown([result], generated="2026-06-01 00:00 UTC")
    section = md.split("Passing now, undone by the next `kubeadm upgrade` (will drift on upgrade):")[1]
    assert ("- 1.2.15 Ensure that the --profiling argument is set to false: running: --profiling=false; "
            "will drift on upgrade: kubeadm upgrade") in section
