# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.secure_cluster.k8s.plugins.filter.cis_remediation import FilterModule
from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_remediation
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_eval import evaluate
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node

CATALOG_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "catalog", "cis_kubernetes_v1.12.yml")


@pytest.fixture(scope="module")
def catalog():
    with open(CATALOG_PATH) as handle:
        return yaml.safe_load(handle)


def _evaluate(tmp_path, catalog, name, waivers=None, **node):
    root = tmp_path / name
    kubeadm_node.build_node(root, **node)
    return evaluate(collect(root=str(root)), catalog, host=name, parse_yaml=yaml.safe_load, today="2026-06-01",
                    waivers=waivers or [])


def test_plan_enables_exactly_the_failing_controls(tmp_path, catalog):
    ev = _evaluate(tmp_path, catalog, "cp1")
    failing = [c for c in ev["controls"] if c["status"] == "FAIL"]
    assert failing, "a fresh kubeadm node fails some controls"
    p = cis_remediation.plan(ev)
    catalog_vars = {c["remediated_by"]["var"] for c in ev["controls"] if c.get("remediated_by")}
    assert set(p["toggles"]) == catalog_vars
    on = {v for v, enabled in p["toggles"].items() if enabled}
    assert on == {c["remediated_by"]["var"] for c in failing if c.get("remediated_by")}
    assert p["fix"] == [c["id"] for c in failing if c.get("remediated_by")]
    assert p["unfixable"] == [c["id"] for c in failing if not c.get("remediated_by")]
    assert sorted(i for ids in p["by_role"].values() for i in ids) == sorted(p["fix"])
    # site.yml order: node roles before control-plane roles, etcd before the apiserver
    order = list(cis_remediation.ROLE_ORDER)
    assert p["roles"] == sorted(p["roles"], key=order.index)
    assert "apiserver" in p["roles"]


def test_plan_respects_waivers_and_accepts_a_registered_result(tmp_path, catalog):
    plain = cis_remediation.plan(_evaluate(tmp_path, catalog, "a"))
    target = next(i for i in plain["fix"] if i.startswith("1.2."))
    waived = _evaluate(tmp_path, catalog, "b",
                       waivers=[{"id": target, "reason": "ticket 42", "expires": "2026-12-31"}])
    p = cis_remediation.plan({"changed": False, "cis": waived})
    assert target not in p["fix"]
    var = next(c["remediated_by"]["var"] for c in waived["controls"] if c["id"] == target)
    assert p["toggles"][var] is False


def test_plan_on_a_hardened_worker_runs_no_role(tmp_path, catalog):
    ev = _evaluate(tmp_path, catalog, "w1", variant="hardened", role="worker")
    p = cis_remediation.plan(ev)
    assert not any(p["toggles"].values())
    assert p["roles"] == [] and p["fix"] == []


def test_compare_and_fleet(tmp_path, catalog):
    before = _evaluate(tmp_path, catalog, "before")
    after = _evaluate(tmp_path, catalog, "after", variant="hardened")
    delta = cis_remediation.compare(before, after)
    failed_before = [c["id"] for c in before["controls"] if c["status"] == "FAIL"]
    failed_after = [c["id"] for c in after["controls"] if c["status"] == "FAIL"]
    assert delta["failed_before"] == len(failed_before) and delta["failed_after"] == len(failed_after)
    assert sorted(delta["fixed"] + delta["still_failing"]) == sorted(failed_before)
    assert set(delta["still_failing"]) == set(failed_before) & set(failed_after)
    assert set(delta["new_failures"]) == set(failed_after) - set(failed_before)
    assert delta["fixed"], "the hardened variant fixes some failures"
    same = cis_remediation.compare(before, before)
    assert same["fixed"] == [] and same["new_failures"] == [] and same["still_failing"] == failed_before
    totals = cis_remediation.fleet({"h1": delta, "h2": same})
    assert totals["hosts"] == 2
    assert totals["fixed"] == len(delta["fixed"])
    assert totals["still_failing"] == len(delta["still_failing"]) + len(failed_before)
    assert totals["hosts_still_failing"] == (["h1", "h2"] if failed_after else ["h2"])


def test_controls_that_will_drift_on_upgrade_are_kept_by_their_roles(tmp_path, catalog):
    ev = _evaluate(tmp_path, catalog, "cp1", variant="hardened")
    base = cis_remediation.plan(ev)
    # as cis_eval marks them when the ClusterConfiguration would not keep the apiserver's and scheduler's profiling
    # (test_cis_eval_upgrade.py), and a drifting control without a role
    controls = {c["id"]: c for c in ev["controls"]}
    unowned = next(c for c in ev["controls"] if c["status"] == "PASS" and not c.get("remediated_by"))
    for cid in ("1.2.15", "1.4.1", unowned["id"]):
        assert controls[cid]["status"] == "PASS"
        controls[cid]["upgrade_drift"] = True
    p = cis_remediation.plan(ev)
    assert p["fix"] == base["fix"] and p["keep"] == ["1.2.15", "1.4.1"]
    assert p["unfixable"] == base["unfixable"] + [unowned["id"]]
    assert p["by_role"]["apiserver"] == base["by_role"].get("apiserver", []) + ["1.2.15"]
    assert p["by_role"]["scheduler"] == base["by_role"].get("scheduler", []) + ["1.4.1"]
    assert set(p["roles"]) == set(base["roles"]) | {"apiserver", "scheduler"}
    on = {v for v, enabled in p["toggles"].items() if enabled}
    assert on - {v for v, enabled in base["toggles"].items() if enabled} == {
        controls["1.2.15"]["remediated_by"]["var"], controls["1.4.1"]["remediated_by"]["var"]}
    delta = cis_remediation.compare(ev, _evaluate(tmp_path, catalog, "after", variant="hardened"))
    assert sorted(delta["upgrade_drift_before"]) == sorted(["1.2.15", "1.4.1", unowned["id"]])
    assert delta["upgrade_drift_after"] == []


@pytest.mark.parametrize("bad", [None, [], {"cis": {"no": "controls"}}, {"controls": "x"}])
def test_bad_input_is_a_clear_filter_error(bad):
    filters = FilterModule().filters()
    with pytest.raises(AnsibleFilterError, match="cis_remediation_plan|plan"):
        filters["cis_remediation_plan"](bad)
