# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from unittest.mock import MagicMock

import pytest
import yaml

from ansible.errors import AnsibleActionFail

from ansible_collections.secure_cluster.k8s.plugins.action import cis_report as action_mod
from ansible_collections.secure_cluster.k8s.plugins.modules import cis_report as doc_stub
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import report_files
from ansible_collections.secure_cluster.k8s.tests.fixtures.schemas import schema_check
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.doc_options import documented_options
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node

CATALOG_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "catalog", "cis_kubernetes_v1.12.yml")
with open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "galaxy.yml")) as _galaxy:
    GALAXY_VERSION = str(yaml.safe_load(_galaxy)["version"])
FRESH_FAILED = ["1.1.12", "1.2.5", "1.2.15", "1.2.16", "1.2.17", "1.2.18", "1.2.19", "1.2.30", "1.3.2", "1.4.1",
                "4.1.1", "4.1.9"]


@pytest.fixture(scope="module")
def catalog():
    with open(CATALOG_PATH) as handle:
        return yaml.safe_load(handle)


@pytest.fixture
def registered(tmp_path, catalog):
    """What ``register`` holds after ``cis_audit`` on a fresh control plane, a worker, a failed and an
    unreachable host, keyed by inventory host name (what the audit role passes)."""
    cp, worker = kubeadm_node.evaluate_fleet(tmp_path, catalog, cp={"waivers": [
        {"id": "1.2.5", "reason": "serving certs pending", "expires": "2026-12-31"}]})
    return {
        "cp1": {"changed": False, "cis": cp, "msg": "cp1: ..."},
        "w1": {"changed": False, "cis": worker, "msg": "w1: ..."},
        "w2": {"failed": True, "msg": "collecting node facts failed: MODULE FAILURE\nsee stdout"},
        "w3": {"unreachable": True, "changed": False, "msg": "Failed to connect to the host via ssh"},
        "w4": None,
    }


def make_action(args, check_mode=False):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.action = "secure_cluster.k8s.cis_report"
    play_context = MagicMock()
    play_context.check_mode = check_mode
    return action_mod.ActionModule(task, MagicMock(), play_context, loader=None, templar=None,
                                   shared_loader_obj=None)


def run_action(args, check_mode=False):
    action = make_action(args, check_mode)
    action._execute_module = MagicMock()
    result = action.run(task_vars={"inventory_hostname": "cp1"})
    action._execute_module.assert_not_called()  # controller only: no module, no connection
    return result


def test_doc_stub():
    doc = yaml.safe_load(doc_stub.DOCUMENTATION)
    options = documented_options(doc_stub)
    assert doc["module"] == "cis_report"
    assert doc["author"] == ["secure_cluster.k8s maintainers (@secure-cluster)"]
    assert set(options) == set(action_mod.ARGUMENT_SPEC)
    for name, spec in action_mod.ARGUMENT_SPEC.items():
        assert options[name]["type"] == spec["type"], name
        assert options[name].get("default") == spec.get("default"), name
    assert isinstance(yaml.safe_load(doc_stub.EXAMPLES), list)
    assert {"summary", "stats", "gate", "files"} <= set(yaml.safe_load(doc_stub.RETURN))
    assert action_mod.ActionModule._requires_connection is False


def test_split_results(registered):
    evaluations, not_audited, problems = action_mod.split_results(registered)
    assert problems == []
    assert [e["host"] for e in evaluations] == ["cp1", "w1"]
    assert sorted(not_audited) == ["w2", "w3", "w4"]
    assert not_audited["w2"] == "audit failed: collecting node facts failed: MODULE FAILURE see stdout"
    assert not_audited["w3"].startswith("unreachable: Failed to connect")
    assert not_audited["w4"] == action_mod.NO_RESULT
    # a list of registered results or of bare evaluations works too
    evaluations, not_audited, problems = action_mod.split_results([registered["w1"]["cis"], registered["cp1"]])
    assert [e["host"] for e in evaluations] == ["cp1", "w1"] and not_audited == {} and problems == []
    assert action_mod.split_results("nonsense")[2]
    # a bare evaluation without a host name takes the key
    anonymous = dict(registered["w1"]["cis"], host=None)
    assert action_mod.split_results({"node9": anonymous})[0][0]["host"] == "node9"
    long_msg = {"failed": True, "msg": "x" * 1000}
    assert len(action_mod.split_results({"h": long_msg})[1]["h"]) == 300


def test_writes_reports_and_returns_summary(registered, tmp_path):
    report_dir = tmp_path / "reports"
    result = run_action({"results": registered, "report_dir": str(report_dir)})
    assert result["changed"] is False and not result.get("failed")
    assert result["report_dir"] == str(report_dir)
    assert sorted(os.listdir(str(report_dir))) == [
        "cis.sarif", "cp1.json", "cp1.junit.xml", "oscal-assessment-results.json", "summary.md", "w1.json",
        "w1.junit.xml"]
    assert result["files"]["hosts"]["cp1"] == {"json": str(report_dir / "cp1.json"),
                                               "junit": str(report_dir / "cp1.junit.xml")}
    assert result["files"]["summary"] == str(report_dir / "summary.md")
    assert result["files"]["oscal"] == str(report_dir / "oscal-assessment-results.json")
    assert result["files"]["sarif"] == str(report_dir / "cis.sarif")

    data = json.loads((report_dir / "cp1.json").read_text())
    assert set(data) == {"Controls", "Totals", "secure_cluster"}
    assert [c["node_type"] for c in data["Controls"]] == ["master", "etcd", "controlplane", "node", "policies"]
    checks = [r for c in data["Controls"] for g in c["tests"] for r in g["results"]]
    assert len(checks) == 131
    assert sorted((r["test_number"] for r in checks if r["status"] == "FAIL"), key=_id_key) == [
        i for i in FRESH_FAILED if i != "1.2.5"]
    assert {r["test_number"]: r for r in checks}["1.2.5"]["secure_cluster_status"] == "WAIVED"

    suites = ET.parse(str(report_dir / "w1.junit.xml")).getroot().findall("testsuite")
    assert len(suites) == 1 and suites[0].get("tests") == "25" == str(len(suites[0].findall("testcase")))

    md = (report_dir / "summary.md").read_text()
    assert "| cp1 | 1.33.4 |" in md and "| w1 |" in md
    assert "## Hosts not audited" in md and "- w3: unreachable: Failed to connect" in md
    assert "## Gate" in md and "`cis_fail_on=none`" in md

    lines = result["summary"]
    assert lines[0].startswith("cp1 ")
    assert "    FAIL 1.2.15  Ensure that the --profiling argument is set to false" in lines
    assert any(line.startswith("w2") and "NOT AUDITED: audit failed" in line for line in lines)
    fleet = [i for i, line in enumerate(lines) if line.startswith("fleet: 2 host(s)")]
    assert fleet and all(i < fleet[0] for i, line in enumerate(lines) if "NOT AUDITED" in line)
    assert lines[-2].startswith("CIS gate disabled")
    assert lines[-1] == ("reports: %s (summary.md, oscal-assessment-results.json, cis.sarif, <host>.json, "
                         "<host>.junit.xml)" % report_dir)

    stats = result["stats"]
    assert stats["cis_audit"]["cp1"]["failed_ids"] == [i for i in FRESH_FAILED if i != "1.2.5"]
    assert stats["cis_audit"]["w3"]["error"].startswith("unreachable")
    assert stats["cis_audit_totals"]["hosts"] == 2
    assert stats["cis_audit_gate"]["passed"] is True
    assert result["not_audited"].keys() == {"w2", "w3", "w4"}
    assert "reports in %s" % report_dir in result["msg"]


def _id_key(cid):
    return tuple(int(p) for p in cid.split("."))


def test_gate(registered, tmp_path):
    audited = {k: v for k, v in registered.items() if k in ("cp1", "w1")}
    worker_fails = len(registered["w1"]["cis"]["failed"])
    total = len(FRESH_FAILED) - 1 + worker_fails
    result = run_action({"results": audited, "report_dir": str(tmp_path), "fail_on": "any"})
    assert result["gate"]["passed"] is False and result["gate"]["failures"] == total
    assert not result.get("failed")  # the gate is the caller's decision
    assert "more than the 0 allowed" in result["gate"]["msg"]
    result = run_action({"results": audited, "report_dir": str(tmp_path), "fail_on": "scored",
                         "max_failures": total})
    assert result["gate"]["passed"] is True
    # a host that could not be audited fails an enabled gate, not a disabled one
    result = run_action({"results": registered, "report_dir": str(tmp_path), "fail_on": "any",
                         "max_failures": 100})
    assert result["gate"]["passed"] is False and "3 host(s) not audited: w2, w3, w4" in result["gate"]["msg"]
    result = run_action({"results": registered, "report_dir": str(tmp_path), "fail_on": "none"})
    assert result["gate"]["passed"] is True


def test_relative_dir_and_formats(registered, tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    result = run_action({"results": {"w1": registered["w1"]}, "formats": ["junit"]})
    assert result["report_dir"] == str(tmp_path / "reports")
    assert os.listdir(str(tmp_path / "reports")) == ["w1.junit.xml"]
    assert "summary" not in result["files"]


def test_oscal_and_sarif_files(registered, tmp_path):
    out = tmp_path / "out"
    result = run_action({"results": registered, "report_dir": str(out), "formats": ["oscal", "sarif"],
                         "assessment_plan": "https://grc.example.org/plans/k8s-ap.json"})
    assert sorted(os.listdir(str(out))) == ["cis.sarif", "oscal-assessment-results.json"]
    assert result["files"]["hosts"] == {"cp1": {}, "w1": {}}
    oscal = json.loads((out / "oscal-assessment-results.json").read_text())
    sarif = json.loads((out / "cis.sarif").read_text())
    assert schema_check.oscal_errors(oscal) == [] and schema_check.sarif_errors(sarif) == []
    ar = oscal["assessment-results"]
    assert ar["import-ap"]["href"] == "https://grc.example.org/plans/k8s-ap.json"
    assert ar["metadata"]["version"] == action_mod.collection_version() == GALAXY_VERSION
    assert ar["results"][0]["start"] == sarif["runs"][0]["invocations"][0]["startTimeUtc"]
    assert "w2 (audit failed: collecting node facts failed" in ar["results"][0]["remarks"]
    failed = sorted((r["properties"]["host"], r["ruleId"]) for r in sarif["runs"][0]["results"] if
                    r["kind"] == "fail" and "suppressions" not in r)
    assert failed == sorted([("cp1", "cis-1.12/%s" % i) for i in FRESH_FAILED if i != "1.2.5"]
                            + [("w1", "cis-1.12/%s" % i) for i in registered["w1"]["cis"]["failed"]])
    assert sarif["runs"][0]["tool"]["driver"]["version"] == GALAXY_VERSION
    assert result["summary"][-1] == "reports: %s (oscal-assessment-results.json, cis.sarif)" % out


def test_collection_version(tmp_path):
    (tmp_path / "galaxy.yml").write_text("namespace: x\nversion: '1.2.3'  # released\n")
    assert action_mod.collection_version(str(tmp_path)) == "1.2.3"
    (tmp_path / "MANIFEST.json").write_text(json.dumps({"collection_info": {"version": "2.0.0"}}))
    assert action_mod.collection_version(str(tmp_path)) == "2.0.0"
    assert action_mod.collection_version(str(tmp_path / "missing")) is None


def test_host_names_are_safe_file_names(registered, tmp_path):
    result = run_action({"results": {"../evil host": registered["w1"]}, "report_dir": str(tmp_path)})
    assert result["files"]["hosts"]["../evil host"]["json"] == str(tmp_path / ".._evil_host.json")
    assert report_files.safe_name("") == "host"


def test_check_mode_writes_the_same(registered, tmp_path):
    result = run_action({"results": registered, "report_dir": str(tmp_path)}, check_mode=True)
    assert not result.get("failed") and not result.get("skipped") and result["changed"] is False
    assert (tmp_path / "summary.md").exists()


def test_unwritable_dir_is_a_clear_failure(registered, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_action({"results": registered, "report_dir": str(blocker / "reports")})
    assert result["failed"] is True
    assert result["msg"].startswith("could not write the CIS reports to %s" % (blocker / "reports"))


def test_no_evaluations(tmp_path):
    result = run_action({"results": {}, "report_dir": str(tmp_path)})
    assert not result.get("failed")
    assert "no host was audited" in result["summary"]
    result = run_action({"results": 42, "report_dir": str(tmp_path)})
    assert result["failed"] is True and "results must be" in result["msg"]


def test_invalid_option():
    with pytest.raises(AnsibleActionFail):
        make_action({"results": {}, "fail_on": "sometimes"}).run(task_vars={})
