# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cis_remediation_report: remediation.json and remediation.md of a fleet evaluated from real kubeadm-shaped node
trees (a host fixed by remediation, one still failing), the gate and the AWX stats."""
from __future__ import annotations

import json
import os

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.action import cis_remediation_report as action_mod
from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_remediation
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_eval import evaluate
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect
from ansible_collections.secure_cluster.k8s.plugins.modules import cis_remediation_report as doc_stub
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.action.action_task import new_action
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.doc_options import documented_options
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node

CATALOG_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "catalog", "cis_kubernetes_v1.12.yml")


@pytest.fixture(scope="module")
def entries(tmp_path_factory):
    with open(CATALOG_PATH) as handle:
        catalog = yaml.safe_load(handle)
    tmp = tmp_path_factory.mktemp("fleet")

    def ev(name, **node):
        kubeadm_node.build_node(tmp / name, **node)
        return evaluate(collect(root=str(tmp / name)), catalog, host=name, parse_yaml=yaml.safe_load,
                        today="2026-06-01")

    fresh, hardened = ev("fresh"), ev("hardened", variant="hardened")
    plan = cis_remediation.plan(fresh)
    return {
        "cp-fixed": {"plan": plan, "delta": cis_remediation.compare(fresh, hardened)},
        "cp-stuck": {"plan": plan, "delta": cis_remediation.compare(fresh, fresh)},
    }


def run(tmp_path, entries, check_mode=False, **args):
    args = dict(entries=entries, report_dir=str(tmp_path / "r"), **args)
    action = new_action(action_mod, "cis_remediation_report", args, check_mode=check_mode)
    return action.run(task_vars={})


def test_writes_both_files_and_judges_what_still_fails(tmp_path, entries):
    result = run(tmp_path, entries)
    assert not result.get("failed") and result["changed"] is False
    stuck = entries["cp-stuck"]["delta"]
    with open(tmp_path / "r" / "remediation.json") as f:
        written = json.load(f)
    assert written == result["report"] and written["check_mode"] is False
    assert sorted(written["hosts"]) == ["cp-fixed", "cp-stuck"]
    assert written["fleet"]["hosts"] == 2 and written["fleet"]["hosts_still_failing"][-1] == "cp-stuck"
    assert written["fleet"]["fixed"] == len(entries["cp-fixed"]["delta"]["fixed"]) > 0
    md = (tmp_path / "r" / "remediation.md").read_text()
    assert md == result["summary"] and md.startswith("# CIS drift remediation\n")
    row = [line for line in md.splitlines() if line.startswith("| cp-stuck |")][0].split(" | ")
    assert row[1] == str(stuck["failed_before"]) == row[2] and row[3] == "-"
    assert row[4] == ", ".join(stuck["still_failing"])
    # the gate fails (any control still failing); it is the playbook that fails, after the summary
    assert result["gate"]["passed"] is False and "cp-stuck" in result["gate"]["msg"]
    assert result["gate"]["msg"].endswith("see %s" % (tmp_path / "r" / "remediation.md"))
    assert result["ansible_stats"] == {"data": {"remediation": written["fleet"]}, "per_host": False, "aggregate": True}


def test_gate_settings_and_check_mode(tmp_path, entries):
    failing = entries["cp-stuck"]["delta"]["failed_before"] + entries["cp-fixed"]["delta"]["failed_after"]
    assert run(tmp_path, entries, fail_on="none")["gate"]["passed"] is True
    assert run(tmp_path, entries, max_failures=failing)["gate"]["passed"] is True
    assert run(tmp_path, entries, max_failures=failing - 1)["gate"]["passed"] is False
    fixed_only = {"cp-fixed": entries["cp-fixed"]}
    if not entries["cp-fixed"]["delta"]["failed_after"]:
        assert run(tmp_path, fixed_only)["gate"] == {"passed": True, "msg": "every failing control was remediated"}
    predicted = run(tmp_path, entries, check_mode=True)
    assert predicted["report"]["check_mode"] is True
    assert "(check mode: predicted, nothing changed)" in predicted["summary"].splitlines()[0]


@pytest.mark.parametrize("entries, message", [
    ({"h1": {"plan": {}}}, "the entry of h1 must hold a 'plan' and a 'delta'"),
    ({"h1": "x"}, "the entry of h1 must hold"),
])
def test_bad_entries_fail_and_write_nothing(tmp_path, entries, message):
    result = run(tmp_path, entries)
    assert result["failed"] and message in result["msg"]
    assert not (tmp_path / "r").exists()


def test_documented_options_are_the_argument_spec():
    assert set(documented_options(doc_stub)) == set(action_mod.ARGUMENT_SPEC)
