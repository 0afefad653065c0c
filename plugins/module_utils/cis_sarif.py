# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SARIF 2.1.0 log of a fleet's ``cis_eval.evaluate`` results, for code-scanning dashboards. Standard library only.

One run; its rules are the recommendations judged, one per benchmark and CIS id, so a fleet that mixes benchmarks
(``cis-1.11`` on some hosts, ``cis-2.0`` on others) keeps them apart: the rule id is ``<benchmark>/<CIS id>``
(``cis-1.12/1.2.15``). One result per host and recommendation, with SARIF's own ``kind``:

- PASS -> ``pass``; FAIL -> ``fail`` with level ``error`` (scored) or ``warning`` (not scored);
- WARN (manual, or not judged automatically) -> ``review``; INFO (not applicable to the node) -> ``notApplicable``;
- WAIVED -> the kind of the result the waiver covers (``fail`` at the level a FAIL would have, or ``review`` for a
  manual recommendation) with an accepted external suppression giving the waiver; a waived recommendation that
  passes anyway is a plain ``pass``, there being nothing to suppress.

SARIF allows a level other than ``none`` only on ``fail`` results, so the other kinds carry ``none``.

Every result has the host as its logical location and a physical one relative to the base ``NODES`` (the
audited hosts): ``<host>/<path on the host>`` for the file it was judged from, ``<host>/`` when it was judged
from several files, processes or API objects. Code-scanning services (GitHub's) take only results with a
physical location, and only relative or ``file:`` URIs.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_report

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "secure_cluster.k8s cis audit"
INFORMATION_URI = "https://github.com/secure-cluster/k8s"
KIND = {"PASS": "pass", "FAIL": "fail", "WARN": "review", "INFO": "notApplicable"}
FINGERPRINT = "secureClusterCisResult/v1"
NODES_BASE = "NODES"


def rule_id(bench, cid):
    return "%s/%s" % (bench, cid)


def _kind(res):
    status = res.get("status")
    if status == "WAIVED":
        status = res.get("underlying_status") or "FAIL"
    return KIND.get(status, "review")


def _level(res):
    if _kind(res) != "fail":
        return "none"
    return "error" if res.get("scored") else "warning"


def _rule(bench, res, benchmark):
    tags = ["CIS", bench, "level%s" % res.get("level")]
    rule = {
        "id": rule_id(bench, res.get("id")),
        "shortDescription": {"text": "%s %s" % (res.get("id"), res.get("title") or "")},
        "fullDescription": {"text": "%s %s: %s %s (%s)" % (
            benchmark.get("name") or "CIS Kubernetes Benchmark", benchmark.get("version") or bench, res.get("id"),
            res.get("title") or "", "Automated" if res.get("automated") else "Manual")},
        "defaultConfiguration": {"level": "error" if res.get("scored") else "warning"},
        "properties": {
            "benchmark": bench, "cis_id": res.get("id"), "section": res.get("section"), "level": res.get("level"),
            "scored": bool(res.get("scored")), "type": res.get("type"), "target": res.get("target"), "tags": tags,
        },
    }
    if res.get("remediation"):
        rule["help"] = {"text": res["remediation"]}
    return rule


def _message(host, res):
    text = "%s: %s %s: %s" % (host, res.get("id"), res.get("status"), res.get("reason") or res.get("title") or "")
    if res.get("status") in ("FAIL", "WAIVED") and res.get("expected"):
        text += " (expected %s)" % res["expected"]
    return {"text": text}


def _location(host, res):
    path = cis_report.judged_file(res) or ""
    return {
        "physicalLocation": {"artifactLocation": {"uri": "%s/%s" % (quote(host, safe=""), quote(path.lstrip("/"))),
                                                  "uriBaseId": NODES_BASE}},
        "logicalLocations": [{"name": host, "fullyQualifiedName": "%s/%s" % (host, res.get("target")),
                              "kind": "resource"}],
    }


def _result(host, bench, index, res):
    result = {
        "ruleId": rule_id(bench, res.get("id")),
        "ruleIndex": index,
        "kind": _kind(res),
        "level": _level(res),
        "message": _message(host, res),
        "locations": [_location(host, res)],
        # the same host, benchmark and recommendation is the same result from one audit to the next
        "partialFingerprints": {FINGERPRINT: hashlib.sha256(
            ("%s|%s|%s" % (bench, host, res.get("id"))).encode("utf-8")).hexdigest()},
        "properties": {
            "host": host, "benchmark": bench, "status": res.get("status"), "expected": res.get("expected"),
            "actual": res.get("actual"), "reason": res.get("reason"), "drift": bool(res.get("drift")),
            "upgrade_drift": bool(res.get("upgrade_drift")), "remediated_by": res.get("remediated_by"),
        },
    }
    result["properties"].update(cis_report.optional_fields(res))
    if res.get("underlying_status"):
        result["properties"]["underlying_status"] = res["underlying_status"]
    if res.get("findings") is not None:  # a cluster result: the API objects behind the verdict
        result["properties"]["findings"] = res["findings"]
        result["properties"]["exempted"] = res.get("exempted") or []
    waiver = res.get("waiver")
    if waiver:
        result["properties"]["waiver"] = waiver
    if res.get("status") == "WAIVED" and waiver and res.get("underlying_status") != "PASS":
        justification = waiver.get("reason") or "waived"
        if waiver.get("expires"):
            justification += " (until %s)" % waiver["expires"]
        result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": justification}]
    return result


def to_sarif(results, tool_version=None, not_audited=None, started=None, ended=None):
    """The SARIF log (a dict) of ``results`` (the fleet's evaluations). ``not_audited``: host -> reason, reported
    as error notifications of the invocation. ``started``/``ended``: ISO 8601 UTC timestamps of the audit."""
    rules = []
    index = {}
    out = []
    for host_result in sorted(results, key=lambda r: str(r.get("host"))):
        host = str(host_result.get("host") or "unknown")
        bench = cis_report.benchmark_id(host_result)
        for res in host_result.get("controls") or []:
            key = rule_id(bench, res.get("id"))
            if key not in index:
                index[key] = len(rules)
                rules.append(_rule(bench, res, host_result.get("benchmark") or {}))
            out.append(_result(host, bench, index[key], res))
    driver = {"name": TOOL_NAME, "informationUri": INFORMATION_URI, "rules": rules}
    if tool_version:
        driver["version"] = str(tool_version)
        driver["semanticVersion"] = str(tool_version)
    invocation = {"executionSuccessful": not not_audited}
    if started:
        invocation["startTimeUtc"] = started
    if ended:
        invocation["endTimeUtc"] = ended
    if not_audited:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": "%s not audited: %s" % (host, reason)},
             "locations": [{"logicalLocations": [{"name": host, "kind": "resource"}]}]}
            for host, reason in sorted(not_audited.items())]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "automationDetails": {"id": "secure_cluster.k8s/cis-audit/"},
            "originalUriBaseIds": {NODES_BASE: {"description": {
                "text": "The audited hosts: <host>/<absolute path on that host without its leading slash>; "
                        "<host>/ alone stands for the host."}}},
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": out,
        }],
    }
