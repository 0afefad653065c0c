# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.secure_cluster.k8s.plugins.action import cis_audit
from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_report
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import catalog as catalog_data
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node


def make_action(args, check_mode=False):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.action = "secure_cluster.k8s.cis_audit"
    connection = MagicMock()
    play_context = MagicMock()
    play_context.check_mode = check_mode
    action = cis_audit.ActionModule(task, connection, play_context, loader=None, templar=None,
                                    shared_loader_obj=None)
    return action


@pytest.fixture
def kubeadm_facts(tmp_path):
    root = tmp_path / "node"
    kubeadm_node.build_node(root)
    return collect(root=str(root))


def run_action(args, facts_result, check_mode=False, host="cp1"):
    action = make_action(args, check_mode)
    action._execute_module = MagicMock(return_value=facts_result)
    result = action.run(task_vars={"inventory_hostname": host})
    return action, result


def test_one_module_call_and_evaluation(kubeadm_facts):
    action, result = run_action({"today": "2026-06-01"}, {"changed": False, "node_facts": kubeadm_facts})
    assert action._execute_module.call_count == 1
    kwargs = action._execute_module.call_args.kwargs
    assert kwargs["module_name"] == "secure_cluster.k8s.node_facts"
    assert kwargs["module_args"] == {"kubeadm_config": True}
    assert result["changed"] is False
    assert not result.get("failed")
    cis = result["cis"]
    assert cis["host"] == "cp1"
    assert cis["totals"]["total"] == 131 and cis["totals"]["fail"] == 12
    assert "1.2.15" in cis["failed"]
    assert result["msg"].startswith("cp1: ")
    assert "failing: 1.1.12" in result["msg"]
    assert result["gate"]["passed"] is True


def test_check_mode_is_supported(kubeadm_facts):
    _action, result = run_action({}, {"node_facts": kubeadm_facts}, check_mode=True)
    assert not result.get("failed") and not result.get("skipped")


def test_level_ids_and_waivers_are_passed(kubeadm_facts):
    args = {"level": 1, "ids": ["1.2"], "today": "2026-06-01",
            "waivers": [{"id": "1.2.5", "reason": "serving certs pending", "expires": "2026-12-31"}],
            "sysctls": ["net.ipv4.ip_forward"], "kubeadm_upgrade": False}
    action, result = run_action(args, {"node_facts": kubeadm_facts})
    assert action._execute_module.call_args.kwargs["module_args"] == {"sysctls": ["net.ipv4.ip_forward"],
                                                                      "kubeadm_config": False}
    controls = dict((c["id"], c) for c in result["cis"]["controls"])
    assert set(c.split(".")[1] for c in controls) == {"2"}
    assert controls["1.2.5"]["status"] == "WAIVED"


@pytest.mark.parametrize("deviations, status", [(True, "PASS"), (False, "FAIL")])
def test_deviations_option(kubeadm_facts, deviations, status):
    # the kubelet's anonymous auth turned off by a drop-in only: kube-bench, reading config.yaml, says FAIL
    config = kubeadm_facts["kubelet"]["config"]
    config["text"] = config["text"].replace("    enabled: false\n  webhook:", "    enabled: true\n  webhook:")
    config["dropins"] = [{"path": "/etc/kubernetes/kubelet.conf.d/50-cis.conf",
                          "text": "authentication:\n  anonymous:\n    enabled: false\n"}]
    _action, result = run_action({"today": "2026-06-01", "deviations": deviations}, {"node_facts": kubeadm_facts})
    ctl = dict((c["id"], c) for c in result["cis"]["controls"])["4.2.1"]
    assert (ctl["status"], ctl["kube_bench_status"]) == (status, "FAIL")
    assert ctl["deviation"]["rule"] == "kubelet-config-dropins" and ctl["deviation"]["applied"] is deviations
    assert result["cis"]["deviations_enabled"] is deviations
    assert ("differs from kube-bench: 4.2.1" in result["msg"]) is deviations


def test_reports_written(kubeadm_facts, tmp_path):
    report_dir = tmp_path / "reports"
    _action, result = run_action({"report_dir": str(report_dir)}, {"node_facts": kubeadm_facts}, host="cp/1")
    files = result["report_files"]
    assert files["json"].endswith("cp_1.json")
    data = json.loads((report_dir / "cp_1.json").read_text())
    assert [c["node_type"] for c in data["Controls"]] == ["master", "etcd", "controlplane", "node", "policies"]
    assert data["Totals"]["total_fail"] == 12
    suite = ET.parse(str(report_dir / "cp_1.junit.xml")).getroot()
    assert suite.get("tests") == "131" and suite.get("failures") == "12"


def test_gate_fails_host(kubeadm_facts):
    _action, result = run_action({"fail_on": "scored", "max_failures": 3}, {"node_facts": kubeadm_facts})
    assert result["failed"] is True
    assert result["gate"]["passed"] is False
    assert "more than the 3 allowed" in result["msg"]
    _action, result = run_action({"fail_on": "any", "max_failures": 50}, {"node_facts": kubeadm_facts})
    assert not result.get("failed")


def test_module_failure_is_reported(kubeadm_facts):
    _action, result = run_action({}, {"failed": True, "msg": "MODULE FAILURE: python not found"})
    assert result["failed"] is True
    assert "python not found" in result["msg"]


def test_bad_catalog(tmp_path, kubeadm_facts):
    bad = tmp_path / "bad.yml"
    bad.write_text("controls: [")
    _action, result = run_action({"catalog": str(bad)}, {"node_facts": kubeadm_facts})
    assert result["failed"] is True and "not valid YAML" in result["msg"]
    _action, result = run_action({"benchmark": "cis-0.1"}, {"node_facts": kubeadm_facts})
    assert result["failed"] is True and "cannot read CIS catalog" in result["msg"]
    _action, result = run_action({"benchmark": "bogus"}, {"node_facts": kubeadm_facts})
    assert result["failed"] is True and "cis-1.12" in result["msg"]
    empty = tmp_path / "empty.yml"
    empty.write_text("controls: []\n")
    _action, result = run_action({"catalog": str(empty)}, {"node_facts": kubeadm_facts})
    assert result["failed"] is True and "not usable" in result["msg"]


def test_invalid_option():
    action = make_action({"levle": 2})
    action._execute_module = MagicMock()
    with pytest.raises(AnsibleActionFail):
        action.run(task_vars={})
    action._execute_module.assert_not_called()


def test_node_without_kubernetes(tmp_path):
    facts = collect(root=str(tmp_path))
    _action, result = run_action({}, {"node_facts": facts})
    assert not result.get("failed")
    assert result["cis"]["controls"] == []
    assert any("no Kubernetes component" in m for m in result["cis"]["messages"])


def test_default_catalog_path():
    path = catalog_data.catalog_path("cis-1.12")
    assert path.endswith("catalog/cis_kubernetes_v1.12.yml")
    assert catalog_data.load_catalog(path)["benchmark"]["id"] == "cis-1.12"


def with_version(facts, version):
    facts = json.loads(json.dumps(facts))
    facts["version"]["kubernetes"] = version
    return facts


@pytest.mark.parametrize("version, benchmark", [
    ("v1.28.15", "cis-1.10"), ("v1.29.3", "cis-1.11"), ("v1.31.0", "cis-1.11"), ("v1.33.4", "cis-1.12"),
    ("v1.34.4", "cis-2.0"), ("v1.35.1", "cis-2.0"), ("v1.37.2", "cis-2.0"),
])
def test_auto_chooses_the_benchmark_from_the_node_s_version(kubeadm_facts, version, benchmark):
    _action, result = run_action({"today": "2026-06-01"}, {"node_facts": with_version(kubeadm_facts, version)})
    assert not result.get("failed"), result["msg"]
    assert result["cis"]["benchmark"]["id"] == benchmark
    assert "(%s level 2)" % benchmark in result["msg"]
    outside = [m for m in result["cis"]["messages"] if "is not one of the versions" in m]
    assert bool(outside) == (version == "v1.37.2")


def test_a_fixed_benchmark_is_used_whatever_the_version(kubeadm_facts):
    _action, result = run_action({"benchmark": "cis-1.11"}, {"node_facts": kubeadm_facts})
    assert result["cis"]["benchmark"]["id"] == "cis-1.11" and result["cis"]["totals"]["total"] == 133
    assert any("1.33.4 is not one of the versions cis-1.11 targets" in m for m in result["cis"]["messages"])


def test_auto_without_a_version_uses_the_newest_and_says_so(kubeadm_facts):
    facts = with_version(kubeadm_facts, None)
    _action, result = run_action({}, {"node_facts": facts})
    assert result["cis"]["benchmark"]["id"] == "cis-2.0"
    assert result["cis"]["messages"][0] == ("no Kubernetes version could be read: judged against the newest "
                                            "benchmark, cis-2.0")


def test_auto_on_a_version_older_than_every_benchmark(kubeadm_facts):
    _action, result = run_action({}, {"node_facts": with_version(kubeadm_facts, "v1.27.16")})
    assert result["cis"]["benchmark"]["id"] == "cis-1.10"
    assert "older than every benchmark" in result["cis"]["messages"][0]
    _action, result = run_action({}, {"node_facts": with_version(kubeadm_facts, "weird")})
    assert result["failed"] is True and "'weird' is not a Kubernetes version" in result["msg"]


def test_a_mixed_fleet_gets_one_report_with_each_host_s_benchmark(kubeadm_facts, tmp_path):
    evaluations = []
    for host, version in (("old", "1.29.3"), ("new", "1.35.1")):
        _action, result = run_action({"report_dir": str(tmp_path), "today": "2026-06-01"},
                                     {"node_facts": with_version(kubeadm_facts, version)}, host=host)
        evaluations.append(result["cis"])
        report = json.loads((tmp_path / ("%s.json" % host)).read_text())
        assert set(c["version"] for c in report["Controls"]) == {result["cis"]["benchmark"]["id"]}
    assert [e["benchmark"]["id"] for e in evaluations] == ["cis-1.11", "cis-2.0"]
    md = cis_report.to_markdown(evaluations, generated="2026-06-01 00:00 UTC")
    assert ("benchmark per host (CIS Kubernetes Benchmark 1.11 (cis-1.11), CIS Kubernetes Benchmark 2.0.1 "
            "(cis-2.0)), level 2") in md
    assert "| old | 1.29.3 | cis-1.11 | master, etcd, controlplane, node, policies |" in md
    assert "| new | 1.35.1 | cis-2.0 | master, etcd, controlplane, node, policies |" in md
    sections = md.split("\n## ")
    assert "Judged against CIS Kubernetes Benchmark 1.11 (cis-1.11)." in sections[2]  # old after new
    assert "Judged against CIS Kubernetes Benchmark 2.0.1 (cis-2.0)." in sections[1]
    suites = ET.fromstring(cis_report.to_junit(evaluations)).findall("testsuite")
    assert [(s.get("name"), s.get("tests")) for s in suites] == [("old cis-1.11", "133"), ("new cis-2.0", "131")]
    single = cis_report.to_markdown(evaluations[1:], generated="2026-06-01 00:00 UTC")
    assert "\nCIS Kubernetes Benchmark 2.0.1 (cis-2.0), level 2, generated" in single
