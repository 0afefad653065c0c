# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``<host>.json`` decodes into kube-bench's own Go types, so tools that import kube-bench output read ours.

The oracle is kube-bench's source, not this collection: the JSON names and Go types of ``OverallControls``,
``Controls`` (with the embedded ``Summary``), ``Group`` and ``Check`` in check/controls.go and check/check.go of
aquasecurity/kube-bench (commit a73ce378418c71c5861e6963753f50dec3badadf). Fields without a json tag are encoded
under their Go name (``AuditEnv``, ``AuditConfig``, ``IsMultiple``); ``json:"-"`` fields are never encoded;
``omitempty`` fields may be absent. encoding/json refuses a value of the wrong JSON type for a field, so every
field we emit under kube-bench's name must have kube-bench's type; fields it does not know are ignored.
"""
from __future__ import annotations

import json

import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_report
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_eval import evaluate
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import catalog as catalog_data
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node

STRING, INT, BOOL, STRINGS = "string", "int", "bool", "[]string"
# name -> (Go type as JSON, omitempty)
SUMMARY = {"total_pass": (INT, False), "total_fail": (INT, False), "total_warn": (INT, False),
           "total_info": (INT, False)}
CONTROLS = dict(SUMMARY, id=(STRING, False), version=(STRING, False), detected_version=(STRING, True),
                text=(STRING, False), node_type=(STRING, False), tests=("[]Group", False))
GROUP = {"section": (STRING, False), "type": (STRING, False), "pass": (INT, False), "fail": (INT, False),
         "warn": (INT, False), "info": (INT, False), "desc": (STRING, False), "results": ("[]Check", False)}
CHECK = {"test_number": (STRING, False), "test_desc": (STRING, False), "audit": (STRING, False),
         "AuditEnv": (STRING, False), "AuditConfig": (STRING, False), "type": (STRING, False),
         "remediation": (STRING, False), "test_info": (STRINGS, False), "status": (STRING, False),
         "actual_value": (STRING, False), "scored": (BOOL, False), "IsMultiple": (BOOL, False),
         "expected_result": (STRING, False), "reason": (STRING, True)}
STATES = {"PASS", "FAIL", "WARN", "INFO"}  # check.State's values


def _is(value, kind):
    if kind == STRING:
        return isinstance(value, str)
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == STRINGS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, list)


def _conforms(obj, fields, where):
    problems = []
    for name, (kind, omitempty) in fields.items():
        if name not in obj:
            if not omitempty:
                problems.append("%s: %s missing" % (where, name))
        elif not _is(obj[name], kind):
            problems.append("%s: %s is %r, kube-bench's type is %s" % (where, name, type(obj[name]).__name__, kind))
    return problems


def _reports(tmp_path):
    cp_root, worker_root = tmp_path / "cp", tmp_path / "w"
    kubeadm_node.build_node(cp_root)
    kubeadm_node.build_node(worker_root, role="worker")
    out = []
    for host, root in (("cp1", cp_root), ("w1", worker_root)):
        facts = collect(root=str(root))
        benchmark, dummy = catalog_data.choose("auto", facts["version"]["kubernetes"])
        out.append(cis_report.to_kube_bench(evaluate(
            facts, benchmark, host=host, parse_yaml=yaml.safe_load, today="2026-06-01",
            waivers=[{"id": "1.2.5", "reason": "pending", "expires": "2026-12-31"}])))
    return out


def test_every_kube_bench_field_has_kube_benchs_type(tmp_path):
    problems = []
    checks = 0
    for report in _reports(tmp_path):
        report = json.loads(json.dumps(report))  # as written to the file
        problems += _conforms(report["Totals"], SUMMARY, "Totals")
        for controls in report["Controls"]:
            problems += _conforms(controls, CONTROLS, "Controls %s" % controls.get("id"))
            for group in controls["tests"]:
                problems += _conforms(group, GROUP, "Group %s" % group.get("section"))
                for check in group["results"]:
                    checks += 1
                    problems += _conforms(check, CHECK, "Check %s" % check.get("test_number"))
                    if check["status"] not in STATES:
                        problems.append("Check %s: status %s is not a kube-bench State" % (
                            check["test_number"], check["status"]))
                # kube-bench's group counts are the counts of its results' states
                for state, key in (("PASS", "pass"), ("FAIL", "fail"), ("WARN", "warn"), ("INFO", "info")):
                    if group[key] != sum(1 for c in group["results"] if c["status"] == state):
                        problems.append("Group %s: %s is not the count of %s results"
                                        % (group["section"], key, state))
    assert checks > 150
    assert problems == []
