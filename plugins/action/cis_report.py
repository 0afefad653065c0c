# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ``secure_cluster.k8s.cis_report``: the fleet step of the CIS audit, on the controller only.

Takes the registered ``secure_cluster.k8s.cis_audit`` results of every host, writes ``<host>.json`` (kube-bench
JSON shape), ``<host>.junit.xml``, ``summary.md``, the fleet's OSCAL assessment results and its SARIF log into one
directory on the controller, and returns the
human summary, the ``set_stats`` data and the verdict of the ``fail_on``/``max_failures`` gate. It never fails
because of the gate (the caller decides what to do with RV(gate)), so the reports and the summary always come
first. It opens no connection to any host.
"""

from __future__ import annotations

import datetime
import json
import os
import re

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_oscal, cis_report, cis_sarif
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import report_files
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.action import CollectionAction

FORMATS = ("json", "junit", "markdown", "oscal", "sarif")
OSCAL_FILE = "oscal-assessment-results.json"
SARIF_FILE = "cis.sarif"
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ARGUMENT_SPEC = dict(
    results=dict(type="raw", required=True),
    report_dir=dict(type="path", default="reports"),
    formats=dict(type="list", elements="str", choices=list(FORMATS), default=list(FORMATS)),
    fail_on=dict(type="str", default="none", choices=["any", "scored", "none"]),
    max_failures=dict(type="int", default=0),
    assessment_plan=dict(type="str", default=cis_oscal.DEFAULT_ASSESSMENT_PLAN),
)

NO_RESULT = "no audit result: the host failed or was unreachable before its audit ran"


def split_results(results):
    """``results``: a dict of host -> registered ``cis_audit`` result (or a bare evaluation, or None), or a list
    of registered results / evaluations. Returns ``(evaluations, not_audited, problems)`` where
    ``not_audited`` maps a host to the reason it has no evaluation."""
    evaluations = []
    not_audited = {}
    problems = []
    if isinstance(results, dict):
        items = sorted(results.items(), key=lambda kv: str(kv[0]))
    elif isinstance(results, list):
        items = [(None, value) for value in results]
    else:
        return [], {}, ["results must be a dict of host to cis_audit result, or a list (got %s)"
                        % type(results).__name__]
    for index, (host, value) in enumerate(items):
        if isinstance(value, dict) and isinstance(value.get("cis"), dict):
            evaluation = value["cis"]
        elif isinstance(value, dict) and isinstance(value.get("controls"), list):
            evaluation = value
        else:
            name = host if host is not None else "result #%d" % index
            if not isinstance(value, dict) or not value:
                reason = NO_RESULT
            elif value.get("unreachable"):
                reason = "unreachable: %s" % (value.get("msg") or "no message")
            elif value.get("skipped"):
                reason = "the audit was skipped on this host"
            else:
                reason = "audit failed: %s" % (value.get("msg") or "no message")
            reason = " ".join(str(reason).split())
            not_audited[str(name)] = reason if len(reason) <= 300 else reason[:297] + "..."
            continue
        if host is not None and evaluation.get("host") != str(host):
            evaluation = dict(evaluation, host=str(host))  # the inventory name is what the reports are named by
        evaluations.append(evaluation)
    evaluations.sort(key=lambda ev: str(ev.get("host")))
    return evaluations, not_audited, problems


def fleet_gate(evaluations, not_audited, fail_on, max_failures):
    """``cis_report.gate`` over the fleet; a host without an audit fails the gate unless it is disabled."""
    ok, msg = cis_report.gate(evaluations, fail_on, max_failures)
    if not_audited and fail_on != "none":
        ok = False
        msg = "%s; %d host(s) not audited: %s" % (msg, len(not_audited), ", ".join(sorted(not_audited)))
    failures = sum(len(cis_report.failing(ev, scored_only=(fail_on == "scored"))) for ev in evaluations)
    return {"passed": ok, "msg": msg, "fail_on": fail_on, "max_failures": max_failures, "failures": failures,
            "not_audited": sorted(not_audited)}


def summary_lines(evaluations, not_audited, gate, files):
    lines = cis_report.summary_lines(evaluations) if evaluations else []
    if not evaluations:
        lines.append("no host was audited")
    for host in sorted(not_audited):
        lines.insert(len(lines) - 1, "%-20s NOT AUDITED: %s" % (host, not_audited[host]))
    lines.append(gate["msg"])
    if files.get("dir"):
        names = [os.path.basename(files[key]) for key in ("summary", "oscal", "sarif") if files.get(key)]
        if any(paths.get("json") for paths in files.get("hosts", {}).values()):
            names.append("<host>.json")
        if any(paths.get("junit") for paths in files.get("hosts", {}).values()):
            names.append("<host>.junit.xml")
        lines.append("reports: %s (%s)" % (files["dir"], ", ".join(names) or "none"))
    return lines


def markdown(evaluations, not_audited, gate):
    text = cis_report.to_markdown(evaluations)
    extra = []
    if not_audited:
        extra += ["", "## Hosts not audited", ""]
        extra += ["- %s: %s" % (host, not_audited[host].replace("|", "\\|")) for host in sorted(not_audited)]
    extra += ["", "## Gate", "", "%s (settings: `cis_fail_on=%s`, `cis_max_failures=%s`)." % (
        gate["msg"], gate["fail_on"], gate["max_failures"])]
    return text + "\n".join(extra) + "\n"


def collection_version(root=COLLECTION_ROOT):
    """The collection's version, for the tool of the OSCAL and SARIF reports: from MANIFEST.json where the
    collection is installed, from galaxy.yml in a source checkout; None when neither says."""
    try:
        with open(os.path.join(root, "MANIFEST.json")) as handle:
            return json.load(handle)["collection_info"]["version"]
    except (IOError, OSError, ValueError, KeyError, TypeError):
        pass
    try:
        with open(os.path.join(root, "galaxy.yml")) as handle:
            match = re.search(r"^version:\s*[\"']?([^\s\"'#]+)", handle.read(), re.M)
    except (IOError, OSError):
        return None
    return match.group(1) if match else None


def write_reports(report_dir, evaluations, not_audited, gate, formats, assessment_plan=None, now=None):
    os.makedirs(report_dir, exist_ok=True)
    files = {"dir": report_dir, "hosts": {}}
    for evaluation in evaluations:
        files["hosts"][str(evaluation.get("host"))] = report_files.write_host_reports(report_dir, evaluation, formats)
    if "markdown" in formats:
        files["summary"] = os.path.join(report_dir, "summary.md")
        report_files.write(files["summary"], markdown(evaluations, not_audited, gate))
    if "oscal" in formats or "sarif" in formats:
        # the report step's time: the evaluations carry none of their own
        stamp = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
        version = collection_version()
    if "oscal" in formats:
        files["oscal"] = os.path.join(report_dir, OSCAL_FILE)
        report_files.write(files["oscal"], report_files.json_text(cis_oscal.to_assessment_results(
            evaluations, stamp, stamp, tool_version=version, assessment_plan=assessment_plan,
            not_audited=not_audited)))
    if "sarif" in formats:
        files["sarif"] = os.path.join(report_dir, SARIF_FILE)
        report_files.write(files["sarif"], report_files.json_text(cis_sarif.to_sarif(
            evaluations, tool_version=version, not_audited=not_audited, started=stamp, ended=stamp)))
    return files


class ActionModule(CollectionAction):

    _requires_connection = False
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, result, args, task_vars):
        evaluations, not_audited, problems = split_results(args["results"])
        if problems:
            result.update(failed=True, changed=False, msg="; ".join(problems))
            return result
        gate = fleet_gate(evaluations, not_audited, args["fail_on"], args["max_failures"])
        report_dir = os.path.abspath(args["report_dir"])

        try:
            files = write_reports(report_dir, evaluations, not_audited, gate, args["formats"],
                                  assessment_plan=args["assessment_plan"])
        except (IOError, OSError) as exc:
            result.update(failed=True, changed=False,
                          msg="could not write the CIS reports to %s: %s" % (report_dir, to_native(exc)))
            return result

        stats = cis_report.set_stats_data(evaluations)
        for host, reason in not_audited.items():
            stats["cis_audit"][host] = {"error": reason}
        stats["cis_audit_gate"] = {"passed": gate["passed"], "msg": gate["msg"]}
        totals = cis_report.fleet_totals(evaluations)

        # Report files are the output of the audit, not managed state: never "changed" (keeps reruns idempotent).
        result["changed"] = False
        result["report_dir"] = report_dir
        result["files"] = files
        result["summary"] = summary_lines(evaluations, not_audited, gate, files)
        result["stats"] = stats
        result["gate"] = gate
        result["totals"] = totals
        result["not_audited"] = not_audited
        result["msg"] = "CIS audit of %d host(s): %d pass, %d fail, %d warn, %d waived%s; reports in %s; %s" % (
            totals["hosts"], totals["pass"], totals["fail"], totals["warn"], totals["waived"],
            "; %d not audited" % len(not_audited) if not_audited else "", report_dir, gate["msg"])
        return result
