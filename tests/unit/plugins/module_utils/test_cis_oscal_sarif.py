# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OSCAL assessment results and the SARIF log of real evaluations (the kubeadm node fixtures), validated
against the official schemas vendored in tests/fixtures/schemas, and what they say checked against the
evaluations they come from."""
from __future__ import annotations

import copy
import json
import os

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_oscal, cis_report, cis_sarif
from ansible_collections.secure_cluster.k8s.tests.fixtures.schemas import schema_check
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node

CATALOG_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "catalog", "cis_kubernetes_v1.12.yml")
START, END = "2026-06-01T10:00:00Z", "2026-06-01T10:02:30Z"


@pytest.fixture(scope="module")
def catalog():
    with open(CATALOG_PATH) as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, catalog):
    """A fresh kubeadm control plane with a valid and an expired waiver, and a worker asked for control plane
    ids too (so it has INFO results). The worker's evaluation is then relabelled as another benchmark, the way
    a fleet that mixes benchmarks looks, with the optional fields other
    steps add (kube_bench_status, deviation) on one result."""
    cp, worker = kubeadm_node.evaluate_fleet(
        tmp_path_factory.mktemp("fleet"), catalog,
        cp={"waivers": [{"id": "1.2.5", "reason": "serving certs pending, CHG-42", "expires": "2026-12-31"},
                        {"id": "1.2.16", "reason": "old exception", "expires": "2026-01-01"},
                        {"id": "1.2.11", "reason": "reviewed by hand, AUD-7", "expires": "2026-12-31"},
                        {"id": "1.2.2", "reason": "passes anyway", "expires": "2026-12-31"}]},
        worker={"ids": ["1.2.15", "4"]})
    worker = copy.deepcopy(worker)
    worker["benchmark"] = dict(worker["benchmark"], id="cis-2.0", version="2.0.0")
    extra = next(r for r in worker["controls"] if r["id"] == "4.1.9")
    extra.update(kube_bench_status="FAIL", deviation={"rule": "kubelet-config-dropins", "why": "kube-bench reads no drop-in",
                                                      "issues": [1973], "status": "PASS", "applied": True})
    return [cp, worker]


def result_of(fleet, host, cid):
    evaluation = next(ev for ev in fleet if ev["host"] == host)
    return next(r for r in evaluation["controls"] if r["id"] == cid)


@pytest.fixture(scope="module")
def oscal(fleet):
    return cis_oscal.to_assessment_results(fleet, START, END, tool_version="0.1.0",
                                           not_audited={"w2": "unreachable: Failed to connect"})


@pytest.fixture(scope="module")
def sarif(fleet):
    return cis_sarif.to_sarif(fleet, tool_version="0.1.0", not_audited={"w2": "unreachable: Failed to connect"},
                              started=START, ended=END)


def by_target(oscal_doc):
    findings = oscal_doc["assessment-results"]["results"][0]["findings"]
    return dict(((props(f)["host"], f["target"]["target-id"]), f) for f in findings)


def props(item):
    return dict((p["name"], p["value"]) for p in item.get("props") or [])


# ---------------------------------------------------------------------------------------------------------------
# the schemas
# ---------------------------------------------------------------------------------------------------------------
def test_oscal_document_is_valid(oscal):
    assert schema_check.oscal_errors(oscal) == []


def test_sarif_log_is_valid(sarif):
    assert schema_check.sarif_errors(sarif) == []


def test_validation_enforces_the_unicode_token_pattern(oscal):
    """The OSCAL token pattern (with \\p{L}/\\p{N}) is enforced after its translation, not skipped: a CIS id as
    such (a leading digit) is not a token, a letter from outside ASCII is."""
    bad = copy.deepcopy(oscal)
    bad["assessment-results"]["results"][0]["findings"][0]["target"]["target-id"] = "1.2.15"
    assert schema_check.oscal_errors(bad) == [
        "assessment-results/results/0/findings/0/target/target-id: '1.2.15' does not match "
        "'^(\\\\p{L}|_)(\\\\p{L}|\\\\p{N}|[.\\\\-_])*$'"]
    good = copy.deepcopy(oscal)
    good["assessment-results"]["results"][0]["findings"][0]["target"]["target-id"] = "\u00e9tape_\u0663.1"
    assert schema_check.oscal_errors(good) == []
    with pytest.raises(ValueError):
        schema_check.python_pattern("^\\p{Lu}$")


def test_validation_catches_structure_and_formats(oscal, sarif):
    bad = copy.deepcopy(oscal)
    del bad["assessment-results"]["import-ap"]
    bad["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] = "PASS"
    bad["assessment-results"]["results"][0]["start"] = "2026-06-01 10:00"
    errors = schema_check.oscal_errors(bad)
    assert any(e.startswith("assessment-results: 'import-ap' is a required property") for e in errors), errors
    assert any("findings/0/target/status/state: 'PASS' is not one of" in e for e in errors), errors
    assert any(e.startswith("assessment-results/results/0/start:") for e in errors), errors
    bad = copy.deepcopy(sarif)
    bad["runs"][0]["results"][0]["kind"] = "passed"
    bad["runs"][0]["invocations"][0]["startTimeUtc"] = "yesterday"
    errors = schema_check.sarif_errors(bad)
    assert any(e.startswith("runs/0/invocations/0/startTimeUtc:") for e in errors), errors
    assert any(e.startswith("runs/0/results/0/kind: 'passed' is not one of") for e in errors), errors


# ---------------------------------------------------------------------------------------------------------------
# OSCAL content
# ---------------------------------------------------------------------------------------------------------------
def test_oscal_findings_follow_the_statuses(fleet, oscal):
    findings = by_target(oscal)
    result = oscal["assessment-results"]["results"][0]
    observations = dict((o["uuid"], o) for o in result["observations"])
    for evaluation in fleet:
        bench = evaluation["benchmark"]["id"]
        for res in evaluation["controls"]:
            finding = findings.get((evaluation["host"], "%s_%s" % (bench, res["id"])))
            if res["status"] == "INFO":
                assert finding is None
                continue
            state = finding["target"]["status"]["state"]
            assert finding["target"]["type"] == "objective-id"
            assert props(finding)["cis-status"] == res["status"] and props(finding)["cis-id"] == res["id"]
            underlying = res.get("underlying_status") if res["status"] == "WAIVED" else res["status"]
            assert state == ("satisfied" if underlying == "PASS" else "not-satisfied"), res["id"]
            obs = observations[finding["related-observations"][0]["observation-uuid"]]
            assert obs["methods"] == (["TEST"] if res["automated"] else ["EXAMINE"])
            assert obs["subjects"][0]["subject-uuid"] == cis_oscal.stable_uuid("host", evaluation["host"])
    # a FAIL of the control plane: not-satisfied, with its evidence
    fail = findings[("cp1", "cis-1.12_1.2.15")]
    assert fail["target"]["status"] == {"state": "not-satisfied", "reason": "fail"}
    evidence = observations[fail["related-observations"][0]["observation-uuid"]]["relevant-evidence"][0]
    assert "expected: '--profiling' is equal to 'false'" in evidence["description"]
    assert "actual: --profiling not set" in evidence["description"]
    assert "file: /etc/kubernetes/manifests/kube-apiserver.yaml" in evidence["description"]
    # a manual recommendation not judged automatically is not satisfied, and says why
    warn = findings[("cp1", "cis-1.12_1.2.20")]
    assert warn["target"]["status"] == {"state": "not-satisfied", "reason": "other"}
    assert props(warn)["cis-status"] == "WARN"


def test_oscal_subjects_and_selection(fleet, oscal):
    result = oscal["assessment-results"]["results"][0]
    items = dict((props(i)["asset-id"], i) for i in result["local-definitions"]["inventory-items"])
    assert sorted(items) == ["cp1", "w1"]
    assert props(items["w1"])["benchmark"] == "cis-2.0" and props(items["cp1"])["kubernetes-version"] == "1.33.4"
    selections = dict((props(s)["benchmark"], [c["control-id"] for c in s["include-controls"]])
                      for s in result["reviewed-controls"]["control-selections"])
    judged_w1 = [r["id"] for r in fleet[1]["controls"] if r["status"] != "INFO"]
    assert selections["cis-2.0"] == ["cis-2.0_%s" % cid for cid in judged_w1]
    assert "cis-1.12_1.2.15" in selections["cis-1.12"] and "cis-2.0_1.2.15" not in selections["cis-2.0"]
    assert len(selections["cis-1.12"]) == len(fleet[0]["controls"])
    # the observations cover every result, INFO included (the evidence that it does not apply)
    assert len(result["observations"]) == sum(len(ev["controls"]) for ev in fleet)
    assert "w2 (unreachable: Failed to connect)" in result["remarks"]
    metadata = oscal["assessment-results"]["metadata"]
    assert metadata["oscal-version"] == "1.1.2" and metadata["version"] == "0.1.0"
    assert metadata["last-modified"] == END and result["start"] == START and result["end"] == END
    assert oscal["assessment-results"]["import-ap"]["href"] == cis_oscal.DEFAULT_ASSESSMENT_PLAN


def test_oscal_waiver_is_an_approved_deviation(fleet, oscal):
    result = oscal["assessment-results"]["results"][0]
    risks = dict((r["uuid"], r) for r in result["risks"])
    waived = by_target(oscal)[("cp1", "cis-1.12_1.2.5")]
    assert waived["target"]["status"]["state"] == "not-satisfied"
    assert props(waived)["waiver-reason"] == "serving certs pending, CHG-42"
    assert props(waived)["waiver-expires"] == "2026-12-31"
    risk = risks[waived["related-risks"][0]["risk-uuid"]]
    assert risk["status"] == "deviation-approved" and risk["deadline"] == "2026-12-31T23:59:59Z"
    assert "serving certs pending, CHG-42" in risk["description"]
    passing = by_target(oscal)[("cp1", "cis-1.12_1.2.2")]
    assert passing["target"]["status"]["state"] == "satisfied" and props(passing)["cis-status"] == "WAIVED"
    # an expired waiver is a plain FAIL with no risk, the expiry kept in the props
    expired = by_target(oscal)[("cp1", "cis-1.12_1.2.16")]
    assert expired["target"]["status"]["state"] == "not-satisfied" and "related-risks" not in expired
    assert props(expired)["waiver-expired"] == "true" and props(expired)["cis-status"] == "FAIL"
    assert len(risks) == sum(1 for ev in fleet for r in ev["controls"] if r["status"] == "WAIVED")


def test_oscal_optional_fields_are_props(oscal):
    finding = by_target(oscal)[("w1", "cis-2.0_4.1.9")]
    assert props(finding)["kube-bench-status"] == "FAIL"
    assert props(finding)["deviation"] == "kubelet-config-dropins: kube-bench reads no drop-in"
    assert all(p["ns"] == cis_oscal.PROP_NS for p in finding["props"])
    other = by_target(oscal)[("w1", "cis-2.0_4.1.1")]
    # no rule fired: kube-bench's verdict is ours, and there is no deviation to show
    assert props(other)["kube-bench-status"] == props(other)["cis-status"] == "FAIL" and "deviation" not in props(other)


def test_oscal_uuids_depend_on_the_state_only(fleet, oscal):
    again = cis_oscal.to_assessment_results(copy.deepcopy(fleet), "2027-01-01T00:00:00Z", "2027-01-01T00:05:00Z",
                                            tool_version="0.1.0", not_audited={"w2": "unreachable: Failed to connect"})
    first, second = json.dumps(oscal, sort_keys=True), json.dumps(again, sort_keys=True)
    for old, new in ((START, "2027-01-01T00:00:00Z"), (END, "2027-01-01T00:05:00Z")):
        first = first.replace(old, new)
    assert first == second
    uuids = [o["uuid"] for o in oscal["assessment-results"]["results"][0]["observations"]]
    uuids += [f["uuid"] for f in oscal["assessment-results"]["results"][0]["findings"]]
    assert len(set(uuids)) == len(uuids)
    # the same id on hosts of two benchmarks are two findings
    assert by_target(oscal)[("cp1", "cis-1.12_4.1.1")]["uuid"] != by_target(oscal)[("w1", "cis-2.0_4.1.1")]["uuid"]
    # another fleet is another document
    other = cis_oscal.to_assessment_results(fleet[:1], START, END)
    assert other["assessment-results"]["uuid"] != oscal["assessment-results"]["uuid"]


def test_oscal_of_no_host_is_valid():
    doc = cis_oscal.to_assessment_results([], START, assessment_plan="https://example.org/plans/ap.json")
    assert schema_check.oscal_errors(doc) == []
    assert doc["assessment-results"]["import-ap"]["href"] == "https://example.org/plans/ap.json"


# ---------------------------------------------------------------------------------------------------------------
# SARIF content
# ---------------------------------------------------------------------------------------------------------------
def sarif_results(sarif_log):
    return dict(((r["properties"]["host"], r["ruleId"]), r) for r in sarif_log["runs"][0]["results"])


def test_sarif_results_follow_the_statuses(fleet, sarif):
    results = sarif_results(sarif)
    assert len(results) == sum(len(ev["controls"]) for ev in fleet)
    expected_kind = {"PASS": "pass", "FAIL": "fail", "WARN": "review", "INFO": "notApplicable"}
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    for evaluation in fleet:
        for res in evaluation["controls"]:
            got = results[(evaluation["host"], "%s/%s" % (evaluation["benchmark"]["id"], res["id"]))]
            judged = res["underlying_status"] if res["status"] == "WAIVED" else res["status"]
            assert got["kind"] == expected_kind[judged], res["id"]
            if got["kind"] == "fail":
                assert got["level"] == ("error" if res["scored"] else "warning")
            else:
                assert got["level"] == "none"
            assert rules[got["ruleIndex"]]["id"] == got["ruleId"]
            assert ("suppressions" in got) == (res["status"] == "WAIVED" and judged != "PASS")
    fail = results[("cp1", "cis-1.12/1.2.15")]
    assert fail["kind"] == "fail" and fail["level"] == "error"
    assert fail["message"]["text"].startswith("cp1: 1.2.15 FAIL: running: --profiling not set")
    location = fail["locations"][0]
    assert location["logicalLocations"][0]["name"] == "cp1"
    assert location["physicalLocation"]["artifactLocation"] == {
        "uri": "cp1/etc/kubernetes/manifests/kube-apiserver.yaml", "uriBaseId": "NODES"}
    # a result over several files is the host's
    several = results[("cp1", "cis-1.12/1.1.13")]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert several["uri"] == "cp1/"
    assert "NODES" in sarif["runs"][0]["originalUriBaseIds"]
    # every result has a physical location (code-scanning services take no other)
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith(
        r["properties"]["host"] + "/") for r in sarif["runs"][0]["results"])
    assert results[("w1", "cis-2.0/1.2.15")]["kind"] == "notApplicable"


def test_sarif_waiver_is_an_accepted_suppression(sarif):
    waived = sarif_results(sarif)[("cp1", "cis-1.12/1.2.5")]
    assert waived["kind"] == "fail" and waived["level"] == "error"
    assert waived["suppressions"] == [{"kind": "external", "status": "accepted",
                                       "justification": "serving certs pending, CHG-42 (until 2026-12-31)"}]
    assert waived["properties"]["underlying_status"] == "FAIL"
    expired = sarif_results(sarif)[("cp1", "cis-1.12/1.2.16")]
    assert "suppressions" not in expired and expired["properties"]["waiver"]["expired"] is True
    # a waived manual recommendation is still one to review, suppressed; a waived one that passes is a pass
    manual = sarif_results(sarif)[("cp1", "cis-1.12/1.2.11")]
    assert (manual["kind"], manual["level"]) == ("review", "none")
    assert manual["suppressions"][0]["justification"] == "reviewed by hand, AUD-7 (until 2026-12-31)"
    passing = sarif_results(sarif)[("cp1", "cis-1.12/1.2.2")]
    assert (passing["kind"], passing["level"], "suppressions" in passing) == ("pass", "none", False)
    assert passing["properties"]["status"] == "WAIVED" and passing["properties"]["underlying_status"] == "PASS"


def test_sarif_rules_per_benchmark(fleet, sarif):
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["name"] == "secure_cluster.k8s cis audit" and driver["version"] == "0.1.0"
    rules = dict((r["id"], r) for r in driver["rules"])
    assert len(rules) == len(driver["rules"])
    assert {"cis-1.12/4.1.1", "cis-2.0/4.1.1"} <= set(rules)
    rule = rules["cis-1.12/1.2.15"]
    res = result_of(fleet, "cp1", "1.2.15")
    assert rule["shortDescription"]["text"] == "1.2.15 " + res["title"]
    assert rule["help"]["text"] == res["remediation"]
    assert rule["properties"]["scored"] is True and rule["properties"]["level"] == 1
    assert rule["defaultConfiguration"]["level"] == "error"
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["message"]["text"] == "w2 not audited: unreachable: Failed to connect"
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_sarif_optional_fields_and_fingerprints(fleet, sarif):
    results = sarif_results(sarif)
    got = results[("w1", "cis-2.0/4.1.9")]["properties"]
    assert got["kube_bench_status"] == "FAIL" and got["deviation"]["rule"] == "kubelet-config-dropins"
    assert results[("w1", "cis-2.0/4.1.1")]["properties"]["kube_bench_status"] == "FAIL"
    assert "deviation" not in results[("w1", "cis-2.0/4.1.1")]["properties"]
    again = cis_sarif.to_sarif(copy.deepcopy(fleet))
    assert [r["partialFingerprints"] for r in again["runs"][0]["results"]] == \
        [r["partialFingerprints"] for r in sarif["runs"][0]["results"]]
    prints = [list(r["partialFingerprints"].values())[0] for r in sarif["runs"][0]["results"]]
    assert len(set(prints)) == len(prints)


def test_judged_file():
    assert cis_report.judged_file({"sources": {"configured": "/etc/kubernetes/manifests/etcd.yaml"}}) == \
        "/etc/kubernetes/manifests/etcd.yaml"
    assert cis_report.judged_file({"sources": {"configured": "systemd unit /a, /b"}}) is None
    assert cis_report.judged_file({"actual": {"configured": "644 /var/lib/kubelet/config.yaml"}}) == \
        "/var/lib/kubelet/config.yaml"
    assert cis_report.judged_file({"actual": {"configured": "2 files, all ownership root:root"}}) is None
    assert cis_report.judged_file({"actual": None}) is None
