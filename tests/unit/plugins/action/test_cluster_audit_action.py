# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from unittest.mock import MagicMock

import yaml

from ansible_collections.secure_cluster.k8s.plugins.action import cis_report as report_action
from ansible_collections.secure_cluster.k8s.plugins.action import cluster_audit as action_mod
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_eval import evaluate
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import catalog as catalog_data
from ansible_collections.secure_cluster.k8s.plugins.modules import cluster_audit as doc_stub
from ansible_collections.secure_cluster.k8s.tests.fixtures.schemas import schema_check
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.doc_options import documented_options
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node

DUMP = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "cluster_dump")
JUDGED = 29  # section-5 recommendations the catalog maps to a cluster rule


def run_action(args):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = False
    task.action = "secure_cluster.k8s.cluster_audit"
    action = action_mod.ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None,
                                     shared_loader_obj=None)
    action._execute_module = MagicMock()
    result = action.run(task_vars={"inventory_hostname": "localhost"})
    action._execute_module.assert_not_called()  # controller only
    return result


def test_doc_stub_matches_the_argument_spec():
    doc = yaml.safe_load(doc_stub.DOCUMENTATION)
    options = documented_options(doc_stub)
    assert doc["module"] == "cluster_audit"
    assert doc["author"] == ["secure_cluster.k8s maintainers (@secure-cluster)"]
    assert set(options) == set(action_mod.ARGUMENT_SPEC)
    for name, spec in action_mod.ARGUMENT_SPEC.items():
        assert options[name]["type"] == spec["type"], name
        assert options[name].get("default") == spec.get("default"), name
    assert isinstance(yaml.safe_load(doc_stub.EXAMPLES), list)
    assert set(yaml.safe_load(doc_stub.RETURN)) == {"cis", "findings", "inventory", "gate", "msg"}


def test_dump_dir():
    result = run_action({"dump_dir": DUMP, "cluster_name": "prod", "today": "2026-11-27"})
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    cis = result["cis"]
    assert cis["host"] == "prod" and cis["node"]["targets"] == ["policies"]
    assert cis["totals"]["fail"] == JUDGED and cis["totals"]["warn"] == 5 and cis["totals"]["pass"] == 0
    assert result["msg"].startswith("prod: 0 pass, 29 fail, 5 warn, 0 waived of 34 (cis-1.12 level 2), 81 finding(s)")
    assert len(result["findings"]) == 81
    assert result["inventory"]["NetworkPolicy"] == 3
    assert result["gate"]["passed"] is True  # fail_on defaults to none


def test_objects_from_k8s_info_give_the_same_result():
    objects = {}
    for name in sorted(os.listdir(DUMP)):
        if name.endswith(".json") and name != "version.json":
            with open(os.path.join(DUMP, name)) as handle:
                objects[name[:-5]] = {"resources": json.load(handle)["items"]}
    with open(os.path.join(DUMP, "networkpolicies.yaml")) as handle:
        objects["networkpolicies"] = yaml.safe_load(handle)["items"]
    online = run_action({"objects": objects, "cluster_name": "prod", "today": "2026-11-27"})
    offline = run_action({"dump_dir": DUMP, "cluster_name": "prod", "today": "2026-11-27"})
    assert online["findings"] == offline["findings"]
    assert online["cis"]["failed"] == offline["cis"]["failed"]
    assert online["cis"]["node"]["kubernetes_version"] == "1.33.4"  # from the control-plane Node here


def test_level_ids_and_gate():
    result = run_action({"dump_dir": DUMP, "level": 1, "ids": ["5.2"], "fail_on": "any", "max_failures": 3})
    ids = [c["id"] for c in result["cis"]["controls"]]
    assert ids and all(i.startswith("5.2.") for i in ids) and "5.2.7" not in ids  # 5.2.7 is level 2
    assert result["failed"] is True and result["gate"]["passed"] is False
    assert "CIS gate: 10 failure(s), more than the 3 allowed" in result["msg"]
    scored = run_action({"dump_dir": DUMP, "fail_on": "scored"})
    assert scored["gate"]["passed"] is True  # section 5 is not scored
    assert scored["gate"]["msg"] == "CIS gate passed: 0 scored failure(s), 0 allowed"


def test_bad_input(tmp_path):
    assert run_action({})["msg"] == "cluster audit: give exactly one of dump_dir or objects"
    assert run_action({"dump_dir": DUMP, "objects": {}})["failed"] is True
    missing = run_action({"dump_dir": str(tmp_path / "nope")})
    assert missing["failed"] is True and "is not a directory" in missing["msg"]
    empty = run_action({"objects": {"foo": []}})
    assert empty["failed"] is True
    assert empty["msg"] == ("cluster audit: the input has no Kubernetes objects this audit reads "
                            "(input key 'foo' is not a kind this audit reads; ignored)")
    bad_catalog = run_action({"dump_dir": DUMP, "benchmark": "1.12"})
    assert bad_catalog["failed"] is True and "cis-1.12" in bad_catalog["msg"]


def test_reports_for_the_pseudo_host_and_the_fleet_summary(tmp_path):
    """cis_report writes cluster.json / cluster.junit.xml and puts the cluster in summary.md next to the nodes."""
    waivers = [{"id": "5.2.5", "reason": "node-exporter needs the host network", "expires": "2027-03-31"},
               {"id": "5.4.1", "reason": "ledger moves to file mounts", "expires": "2026-10-31"}]
    cluster = run_action({"dump_dir": DUMP, "waivers": waivers, "today": "2026-11-27"})
    kubeadm_node.build_node(tmp_path / "cp")
    node = evaluate(collect(root=str(tmp_path / "cp")), _catalog(), host="cp1",
                    parse_yaml=yaml.safe_load, today="2026-11-27")
    results = {"cp1": {"cis": node}, "cluster": cluster}
    evaluations, not_audited, problems = report_action.split_results(json.loads(json.dumps(results)))
    assert problems == [] and not_audited == {}
    gate = report_action.fleet_gate(evaluations, not_audited, "any", 0)
    out = tmp_path / "reports"
    files = report_action.write_reports(str(out), evaluations, not_audited, gate, report_action.FORMATS)
    assert sorted(os.listdir(out)) == ["cis.sarif", "cluster.json", "cluster.junit.xml", "cp1.json", "cp1.junit.xml",
                                       "oscal-assessment-results.json", "summary.md"]
    assert files["hosts"]["cluster"]["json"] == str(out / "cluster.json")

    # the cluster is a host of the OSCAL and SARIF reports too, with the objects behind its verdicts
    oscal = json.loads((out / "oscal-assessment-results.json").read_text())
    sarif = json.loads((out / "cis.sarif").read_text())
    assert schema_check.oscal_errors(oscal) == [] and schema_check.sarif_errors(sarif) == []
    result = dict(((r["properties"]["host"], r["ruleId"]), r) for r in sarif["runs"][0]["results"])
    host_pid = result[("cluster", "cis-1.12/5.2.3")]
    assert host_pid["kind"] == "fail" and host_pid["level"] == "warning"  # section 5 is not scored
    assert host_pid["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "cluster/"
    assert host_pid["properties"]["findings"][0]["object"] == "DaemonSet/monitoring/node-exporter"
    assert result[("cluster", "cis-1.12/5.2.5")]["suppressions"][0]["status"] == "accepted"
    items = oscal["assessment-results"]["results"][0]["local-definitions"]["inventory-items"]
    assert [i["description"].split(" (")[0] for i in items] == ["the cluster's API objects of cluster",
                                                                "Kubernetes node cp1"]

    data = json.loads((out / "cluster.json").read_text())
    assert [c["node_type"] for c in data["Controls"]] == ["policies"]
    assert data["Controls"][0]["id"] == "5" and data["Controls"][0]["detected_version"] == "1.33"
    checks = dict((r["test_number"], r) for g in data["Controls"][0]["tests"] for r in g["results"])
    assert checks["5.2.5"]["status"] == "INFO" and checks["5.2.5"]["secure_cluster_status"] == "WAIVED"
    assert checks["5.4.1"]["status"] == "FAIL" and checks["5.4.1"]["waiver"]["expired"] is True
    assert checks["5.4.1"]["underlying_status"] == "FAIL"
    assert checks["5.3.2"]["scored"] is False
    namespaces = [f["object"] for f in checks["5.3.2"]["findings"]]
    assert namespaces == ["Namespace/ci", "Namespace/default", "Namespace/legacy"]
    assert checks["5.1.7"]["status"] == "WARN" and "findings" not in checks["5.1.7"]
    assert data["Totals"] == {"total_pass": 0, "total_fail": 28, "total_warn": 5, "total_info": 1,
                              "total_waived": 1}
    node_json = json.loads((out / "cp1.json").read_text())
    node_checks = [r for c in node_json["Controls"] for g in c["tests"] for r in g["results"]]
    assert not any("findings" in r for r in node_checks)  # node reports look as before

    suite = ET.parse(str(out / "cluster.junit.xml")).getroot().find("testsuite")
    assert suite.get("name") == "cluster cis-1.12"
    assert suite.get("failures") == "28" and suite.get("tests") == "34"
    failure = [c for c in suite.findall("testcase") if c.get("name").startswith("5.2.3 ")][0].find("failure")
    assert failure.get("message") == "1 finding(s): DaemonSet/monitoring/node-exporter: spec.hostPID is true"

    summary = (out / "summary.md").read_text()
    assert "| cluster | 1.33.4 | cis-1.12 | policies | 0 | 28 | 5 | 1 | 0 |" in summary
    assert "| cp1 | 1.33.4 |" in summary
    assert "- 5.4.1: ledger moves to file mounts until 2026-10-31 (EXPIRED)" in summary
    assert "| 5.2.3 | Minimize the admission of containers wishing to share the host process ID namespace |" in summary


def _catalog():
    with open(catalog_data.catalog_path("cis-1.12")) as handle:
        return yaml.safe_load(handle)
