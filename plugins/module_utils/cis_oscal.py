# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OSCAL 1.1.2 assessment results (JSON) of a fleet's ``cis_eval.evaluate`` results. Standard library only.

One document, one result. The hosts are inventory items of the result's local definitions, the collection is a
software component, the actor of every observation. Per host and recommendation: one observation (the evidence:
expected, actual, reason; method TEST when the recommendation is judged automatically, EXAMINE when it is
manual) and, unless the recommendation does not apply to the host, one finding whose target is the
recommendation as an objective:

- PASS -> ``satisfied``; FAIL -> ``not-satisfied`` (reason ``fail``);
- WARN (manual or not judged automatically) -> ``not-satisfied`` (reason ``other``): nothing showed that it holds,
  and an assessor must not read it as met;
- INFO (the host has no component the recommendation is about) -> observation only, no finding;
- WAIVED -> the state of the underlying result, plus a risk with status ``deviation-approved`` that carries the
  waiver's reason and expiry (``deadline``).

OSCAL ids (``control-id``, ``target-id``) are tokens and may not start with a digit, so a CIS id is written
``<benchmark>_<CIS id>`` (``cis-1.12_1.2.15``), which also keeps two benchmarks of one fleet apart; the plain id
and the benchmark are props of every finding and observation. Every UUID is a version 5 UUID of a fixed
namespace and what it identifies (benchmark, host, CIS id), so two runs over the same state differ only in their
timestamps.
"""

from __future__ import annotations

import uuid

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_report

OSCAL_VERSION = "1.1.2"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/secure-cluster/k8s/oscal")
# Our props are not OSCAL's own names: they live in the collection's namespace.
PROP_NS = "https://github.com/secure-cluster/k8s/ns/oscal"
DEFAULT_ASSESSMENT_PLAN = "https://github.com/secure-cluster/k8s/blob/main/docs/audit.md"
STATE = {"PASS": ("satisfied", "pass"), "FAIL": ("not-satisfied", "fail"), "WARN": ("not-satisfied", "other")}


def stable_uuid(*parts):
    return str(uuid.uuid5(NAMESPACE, "|".join(str(p) for p in parts)))


def control_token(bench, cid):
    return "%s_%s" % (bench, cid)


def _text(value):
    """A StringDatatype value: OSCAL forbids empty strings and leading or trailing whitespace."""
    text = " ".join(str(value).split()) if value is not None else ""
    return text or "-"


def _prop(name, value):
    return {"name": name, "ns": PROP_NS, "value": _text(value)}


def _control_props(host, bench, res):
    props = [_prop("host", host), _prop("benchmark", bench), _prop("cis-id", res.get("id")),
             _prop("cis-status", res.get("status")), _prop("scored", str(bool(res.get("scored"))).lower()),
             _prop("level", res.get("level"))]
    extra = cis_report.optional_fields(res)
    if "kube_bench_status" in extra:
        props.append(_prop("kube-bench-status", extra["kube_bench_status"]))
    if "deviation" in extra:
        deviation = extra["deviation"]
        if isinstance(deviation, dict):  # cis_deviations: the rule's name and why kube-bench is wrong there
            deviation = "%s: %s" % (deviation.get("rule"), deviation.get("why"))
        props.append(_prop("deviation", deviation))
    if res.get("underlying_status"):
        props.append(_prop("underlying-status", res["underlying_status"]))
    if res.get("drift"):
        props.append(_prop("drift", "configured and running state differ"))
    if res.get("upgrade_drift"):
        props.append(_prop("upgrade-drift", "the next kubeadm upgrade would undo it"))
    waiver = res.get("waiver")
    if waiver:
        props.append(_prop("waiver-reason", waiver.get("reason")))
        if waiver.get("expires"):
            props.append(_prop("waiver-expires", waiver["expires"]))
        props.append(_prop("waiver-expired", str(bool(waiver.get("expired"))).lower()))
    return props


def _inventory_item(host_result, bench):
    host = str(host_result.get("host"))
    node = host_result.get("node") or {}
    targets = node.get("targets") or []
    what = "the cluster's API objects of" if targets == ["policies"] else "Kubernetes node"
    item = {
        "uuid": stable_uuid("host", host),
        "description": "%s %s (targets: %s), audited against %s" % (
            what, host, ", ".join(targets) or "none", bench),
        # asset-id is one of OSCAL's own prop names, so it has no namespace
        "props": [{"name": "asset-id", "value": _text(host)}, _prop("benchmark", bench),
                  _prop("level", host_result.get("level"))],
    }
    if node.get("hostname"):
        item["props"].append(_prop("hostname", node["hostname"]))
    if node.get("kubernetes_version"):
        item["props"].append(_prop("kubernetes-version", node["kubernetes_version"]))
    return item


def _evidence(res):
    actual = cis_report.actual_text(res.get("actual"))
    lines = ["expected: %s" % _text(res.get("expected")), "actual: %s" % _text(actual),
             "reason: %s" % _text(res.get("reason"))]
    path = cis_report.judged_file(res)
    if path:
        lines.append("file: %s" % path)
    return "\n\n".join(lines)


def _observation(host, bench, res, tool_uuid, collected):
    obs = {
        "uuid": stable_uuid("observation", bench, host, res.get("id")),
        "title": _text("%s %s on %s" % (res.get("id"), res.get("title"), host)),
        "description": _text("%s: %s" % (res.get("status"), res.get("reason"))),
        "props": _control_props(host, bench, res),
        "methods": ["TEST" if res.get("automated") else "EXAMINE"],
        "types": ["control-objective"],
        "origins": [{"actors": [{"type": "tool", "actor-uuid": tool_uuid}]}],
        "subjects": [{"subject-uuid": stable_uuid("host", host), "type": "inventory-item", "title": _text(host)}],
        "relevant-evidence": [{"description": _evidence(res)}],
        "collected": collected,
    }
    return obs


def _risk(host, bench, res, observation_uuid):
    waiver = res["waiver"]
    risk = {
        "uuid": stable_uuid("risk", bench, host, res.get("id")),
        "title": _text("Waived: %s %s on %s" % (res.get("id"), res.get("title"), host)),
        "description": _text("%s does not meet %s %s; the deviation is accepted: %s" % (
            host, bench, res.get("id"), waiver.get("reason"))),
        "statement": _text(res.get("reason")),
        "props": _control_props(host, bench, res),
        "status": "deviation-approved",
        "related-observations": [{"observation-uuid": observation_uuid}],
    }
    if waiver.get("expires"):
        risk["deadline"] = "%sT23:59:59Z" % waiver["expires"]
    return risk


def _finding(host, bench, res, observation_uuid, risk_uuid):
    state, reason = STATE.get(res.get("underlying_status") if res.get("status") == "WAIVED" else res.get("status"),
                              ("not-satisfied", "other"))
    finding = {
        "uuid": stable_uuid("finding", bench, host, res.get("id")),
        "title": _text("%s %s on %s" % (res.get("id"), res.get("title"), host)),
        "description": _text("%s: %s" % (res.get("status"), res.get("reason"))),
        "props": _control_props(host, bench, res),
        "target": {
            "type": "objective-id",
            "target-id": control_token(bench, res.get("id")),
            "title": _text("%s %s" % (res.get("id"), res.get("title"))),
            "status": {"state": state, "reason": reason},
        },
        "related-observations": [{"observation-uuid": observation_uuid}],
    }
    if risk_uuid:
        finding["related-risks"] = [{"risk-uuid": risk_uuid}]
    if res.get("remediation") and state == "not-satisfied":
        finding["remarks"] = "Remediation: %s" % res["remediation"]
    return finding


def to_assessment_results(results, started, ended=None, tool_version=None, assessment_plan=None,
                          not_audited=None):
    """The OSCAL assessment-results document (a dict) of ``results`` (the fleet's evaluations).

    ``started``/``ended``: ISO 8601 timestamps with a time zone (the audit's start and end; also the document's
    last-modified and every observation's collected). ``assessment_plan``: the href of ``import-ap``, what
    governed the assessment (default: the collection's audit documentation, there being no OSCAL assessment plan
    of our own). ``not_audited``: host -> reason, listed in the result's remarks."""
    ended = ended or started
    results = sorted(results, key=lambda r: str(r.get("host")))
    version = str(tool_version or "0.0.0")
    tool_uuid = stable_uuid("tool", "secure_cluster.k8s")
    benches = sorted(set(cis_report.benchmark_id(r) for r in results))
    scope = benches + sorted(str(r.get("host")) for r in results)
    items, observations, findings, risks, selections = [], [], [], [], {}
    for host_result in results:
        host = str(host_result.get("host"))
        bench = cis_report.benchmark_id(host_result)
        items.append(_inventory_item(host_result, bench))
        for res in host_result.get("controls") or []:
            obs = _observation(host, bench, res, tool_uuid, ended)
            observations.append(obs)
            if res.get("status") == "INFO":
                continue
            selections.setdefault(bench, []).append(res.get("id"))
            risk_uuid = None
            if res.get("status") == "WAIVED" and res.get("waiver"):
                risk = _risk(host, bench, res, obs["uuid"])
                risks.append(risk)
                risk_uuid = risk["uuid"]
            findings.append(_finding(host, bench, res, obs["uuid"], risk_uuid))
    control_selections = []
    for bench in sorted(selections):
        ids = sorted(set(selections[bench]), key=lambda cid: tuple(int(p) if p.isdigit() else 0
                                                                   for p in str(cid).split(".")))
        control_selections.append({
            "description": "The %s recommendations judged on at least one host." % bench,
            "props": [_prop("benchmark", bench)],
            "include-controls": [{"control-id": control_token(bench, cid)} for cid in ids],
        })
    if not control_selections:
        # reviewed-controls needs a selection even when nothing was judged; an empty include list says so
        control_selections.append({"description": "No recommendation was judged."})
    local = {"components": [{
        "uuid": tool_uuid, "type": "software", "title": "secure_cluster.k8s CIS audit",
        "description": "The Ansible collection secure_cluster.k8s: cis_audit judged each host, cis_report wrote "
                       "this document.",
        "props": [{"name": "version", "value": version}],
        "status": {"state": "operational"},
    }]}
    if items:
        local["inventory-items"] = items
    result = {
        "uuid": stable_uuid("result", *scope),
        "title": "CIS Kubernetes Benchmark audit (%s)" % (", ".join(benches) or "no host audited"),
        "description": "Automated audit of %d host(s) against %s by secure_cluster.k8s %s." % (
            len(results), ", ".join(benches) or "the CIS Kubernetes Benchmark", version),
        "start": started,
        "end": ended,
        "local-definitions": local,
        "reviewed-controls": {"control-selections": control_selections},
    }
    for key, values in (("observations", observations), ("risks", risks), ("findings", findings)):
        if values:
            result[key] = values
    if not_audited:
        result["remarks"] = "Not audited: " + "; ".join(
            "%s (%s)" % (host, reason) for host, reason in sorted(not_audited.items()))
    metadata = {
        "title": "CIS Kubernetes Benchmark assessment results",
        "last-modified": ended,
        "version": version,
        "oscal-version": OSCAL_VERSION,
    }
    if benches:
        metadata["props"] = [_prop("benchmark", bench) for bench in benches]
    return {"assessment-results": {
        "uuid": stable_uuid("assessment-results", *scope),
        "metadata": metadata,
        "import-ap": {
            "href": assessment_plan or DEFAULT_ASSESSMENT_PLAN,
            "remarks": "The assessment followed the audit procedure this points at (the secure_cluster.k8s audit "
                       "role and its settings); it is not an OSCAL assessment plan document.",
        },
        "results": [result],
    }}
