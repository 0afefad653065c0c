# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports from ``cis_eval.evaluate`` results: kube-bench JSON, JUnit XML, Markdown and a threshold gate.

Standard library only. ``host_result`` below is one ``evaluate()`` return value; ``results`` a list of them
(the fleet).

kube-bench JSON: ``{"Controls": [...], "Totals": {...}}`` exactly as ``kube-bench --json`` shapes it, so
dashboards that ingest kube-bench read it, plus fields of our own (``secure_cluster``, and per result
``secure_cluster_status``, ``drift``, ``upgrade_drift``, ``actual``, ``waiver``, ``level``, ``remediated_by``,
``kube_bench_status``, ``deviation``).
kube-bench knows only PASS/FAIL/WARN/INFO, so a WAIVED result appears there with ``status: INFO`` and
``secure_cluster_status: WAIVED``, and is counted in ``total_info`` and in our ``total_waived``.
``status`` is this audit's verdict, also where a deviation rule overrides kube-bench's (``cis_deviations``);
what kube-bench itself says is ``kube_bench_status``.
"""

from __future__ import annotations

import datetime
import re
from xml.sax.saxutils import escape, quoteattr

from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_version

KUBE_BENCH_STATUS = {"PASS": "PASS", "FAIL": "FAIL", "WARN": "WARN", "INFO": "INFO", "WAIVED": "INFO"}
DEFAULT_TARGETS = {
    "master": {"id": "1", "title": "Control Plane Security Configuration"},
    "etcd": {"id": "2", "title": "Etcd Node Configuration"},
    "controlplane": {"id": "3", "title": "Control Plane Configuration"},
    "node": {"id": "4", "title": "Worker Node Security Configuration"},
    "policies": {"id": "5", "title": "Kubernetes Policies"},
}
TARGET_ORDER = ("master", "etcd", "controlplane", "node", "policies")


def _id_key(cid):
    return tuple(int(p) if p.isdigit() else 0 for p in str(cid).split("."))


def actual_text(actual):
    """``actual`` {running, configured} as one line; both only when they differ."""
    if not isinstance(actual, dict):
        return "" if actual is None else str(actual)
    running, configured = actual.get("running"), actual.get("configured")
    if running is not None and configured is not None and running != configured:
        return "running: %s | configured: %s" % (running, configured)
    return str(running if running is not None else (configured if configured is not None else ""))


# The optional per-control fields other writers add (kube-bench's own verdict, a documented deviation); carried
# into the OSCAL props and SARIF properties only when a result has them, so evaluations without them stay valid.
OPTIONAL_FIELDS = ("kube_bench_status", "deviation")
_MODE_OR_OWNER_AND_PATH = re.compile(r"^\S+ (/\S+)$")


def benchmark_id(host_result):
    """The benchmark a host was judged against (hosts of one fleet may differ)."""
    return (host_result.get("benchmark") or {}).get("id") or "cis"


def optional_fields(res):
    return dict((key, res[key]) for key in OPTIONAL_FIELDS if res.get(key) not in (None, "", [], {}))


def judged_file(res):
    """The one file a node result was judged from, or None: the manifest or config named as the configured
    source, or the single path of a file permission/ownership check (``600 /etc/...``). Results over several
    files, processes or API objects have none."""
    source = (res.get("sources") or {}).get("configured")
    if isinstance(source, str) and source.startswith("/") and not any(c.isspace() or c == "," for c in source):
        return source
    configured = (res.get("actual") or {}).get("configured") if isinstance(res.get("actual"), dict) else None
    match = _MODE_OR_OWNER_AND_PATH.match(configured) if isinstance(configured, str) else None
    return match.group(1) if match else None


def _summary(counts_from):
    out = {"total_pass": 0, "total_fail": 0, "total_warn": 0, "total_info": 0}
    for res in counts_from:
        key = "total_" + KUBE_BENCH_STATUS.get(res.get("status"), "INFO").lower()
        out[key] += 1
    return out


# ---------------------------------------------------------------------------------------------------------------
# kube-bench JSON
# ---------------------------------------------------------------------------------------------------------------
def to_kube_bench(host_result):
    bench = host_result.get("benchmark") or {}
    targets = dict(DEFAULT_TARGETS)
    targets.update(bench.get("targets") or {})
    sections = bench.get("sections") or {}
    version = host_result.get("node", {}).get("kubernetes_version")
    try:
        detected = k8s_version.minor(version, supported=None)
    except ValueError:  # no version read from the node (None), or one that is not a version: kube-bench's ""
        detected = ""
    by_target = {}
    for res in host_result.get("controls") or []:
        by_target.setdefault(res.get("target"), []).append(res)
    controls = []
    totals = {"total_pass": 0, "total_fail": 0, "total_warn": 0, "total_info": 0}
    order = [t for t in TARGET_ORDER if t in by_target] + sorted(t for t in by_target if t not in TARGET_ORDER)
    for target in order:
        results = by_target[target]
        groups = []
        by_section = {}
        for res in results:
            by_section.setdefault(res.get("section"), []).append(res)
        for section in sorted(by_section, key=_id_key):
            checks = by_section[section]
            group_sum = _summary(checks)
            groups.append({
                "section": section,
                "type": "",
                "pass": group_sum["total_pass"],
                "fail": group_sum["total_fail"],
                "warn": group_sum["total_warn"],
                "info": group_sum["total_info"],
                "desc": (sections.get(section) or {}).get("title", ""),
                "results": [_kube_bench_check(res) for res in checks],
            })
        summary = _summary(results)
        for key in totals:
            totals[key] += summary[key]
        entry = {
            "id": (targets.get(target) or {}).get("id", ""),
            "version": bench.get("id") or "",
            "detected_version": detected,
            "text": (targets.get(target) or {}).get("title", target),
            "node_type": target,
            "tests": groups,
        }
        entry.update(summary)
        controls.append(entry)
    totals_ext = dict(totals)
    totals_ext["total_waived"] = sum(1 for r in host_result.get("controls") or [] if r.get("status") == "WAIVED")
    return {
        "Controls": controls,
        "Totals": totals_ext,
        "secure_cluster": {
            "host": host_result.get("host"),
            "node": host_result.get("node"),
            "benchmark": {k: bench.get(k) for k in ("id", "name", "version")},
            "level": host_result.get("level"),
            "totals": host_result.get("totals"),
            "failed": host_result.get("failed"),
            "drift": host_result.get("drift"),
            "upgrade_drift": host_result.get("upgrade_drift"),
            "deviations": host_result.get("deviations") or [],
            "upgrade": host_result.get("upgrade"),
            "messages": host_result.get("messages"),
        },
    }


def _kube_bench_check(res):
    check = {
        "test_number": res.get("id"),
        "test_desc": "%s (%s)" % (res.get("title"), "Automated" if res.get("automated") else "Manual"),
        "audit": "",
        "AuditEnv": "",
        "AuditConfig": "",
        "type": "" if res.get("automated") or res.get("expected") else "manual",
        "remediation": res.get("remediation") or "",
        "test_info": [res.get("remediation") or ""],
        "status": KUBE_BENCH_STATUS.get(res.get("status"), "INFO"),
        "actual_value": actual_text(res.get("actual")),
        "scored": bool(res.get("scored")),
        "IsMultiple": False,
        "expected_result": res.get("expected") or "",
        "reason": res.get("reason") or "",
        # ours
        "secure_cluster_status": res.get("status"),
        "level": res.get("level"),
        "actual": res.get("actual"),
        "drift": bool(res.get("drift")),
        "upgrade_drift": bool(res.get("upgrade_drift")),
        "waiver": res.get("waiver"),
        "underlying_status": res.get("underlying_status"),
        "remediated_by": res.get("remediated_by"),
        "kube_bench_status": res.get("kube_bench_status", res.get("status")),
        "deviation": res.get("deviation"),
    }
    if res.get("findings") is not None:  # cluster audit: the objects behind the verdict
        check["findings"] = res["findings"]
        check["exempted"] = res.get("exempted") or []
    return check


# ---------------------------------------------------------------------------------------------------------------
# JUnit XML
# ---------------------------------------------------------------------------------------------------------------
def to_junit(results, name="CIS Kubernetes Benchmark"):
    """One <testsuite> per host, one <testcase> per control. FAIL is a <failure>; WARN, INFO and WAIVED are
    <skipped> with the reason (CI treats them as not failing), PASS is a plain testcase."""
    suites = []
    total = failures = skipped = 0
    for host_result in results:
        host = host_result.get("host") or "unknown"
        bench_id = benchmark_id(host_result)
        cases = []
        h_fail = h_skip = 0
        for res in host_result.get("controls") or []:
            status = res.get("status")
            classname = "%s.%s.%s" % (bench_id, host, res.get("section") or "")
            tname = "%s %s" % (res.get("id"), res.get("title"))
            body = []
            detail = "expected: %s\nactual: %s\nreason: %s\nremediation: %s" % (
                res.get("expected") or "-", actual_text(res.get("actual")) or "-", res.get("reason") or "-",
                res.get("remediation") or "-")
            if status == "FAIL":
                h_fail += 1
                body.append("<failure message=%s type=\"FAIL\">%s</failure>" % (
                    quoteattr(res.get("reason") or "failed"), escape(detail)))
            elif status in ("WARN", "INFO", "WAIVED"):
                h_skip += 1
                body.append("<skipped message=%s/>" % quoteattr("%s: %s" % (status, res.get("reason") or "")))
            body.append("<system-out>%s</system-out>" % escape("status: %s\n%s" % (status, detail)))
            cases.append("    <testcase classname=%s name=%s>%s</testcase>" % (
                quoteattr(classname), quoteattr(tname), "".join(body)))
        count = len(host_result.get("controls") or [])
        total += count
        failures += h_fail
        skipped += h_skip
        props = "".join("<property name=%s value=%s/>" % (quoteattr(k), quoteattr(str(v))) for k, v in (
            ("kubernetes_version", (host_result.get("node") or {}).get("kubernetes_version")),
            ("benchmark", bench_id), ("level", host_result.get("level"))))
        suites.append("  <testsuite name=%s tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\">\n"
                      "    <properties>%s</properties>\n%s\n  </testsuite>" % (
                          quoteattr("%s %s" % (host, bench_id)), count, h_fail, h_skip, props, "\n".join(cases)))
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<testsuites name=%s tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\">\n%s\n</testsuites>\n" % (
                quoteattr(name), total, failures, skipped, "\n".join(suites)))


# ---------------------------------------------------------------------------------------------------------------
# summaries
# ---------------------------------------------------------------------------------------------------------------
def fleet_totals(results):
    out = {"hosts": 0, "pass": 0, "fail": 0, "warn": 0, "info": 0, "waived": 0, "total": 0}
    for host_result in results:
        out["hosts"] += 1
        for key, val in (host_result.get("totals") or {}).items():
            if key in out:
                out[key] += val
    return out


def failing(host_result, scored_only=False):
    return [r for r in host_result.get("controls") or []
            if r.get("status") == "FAIL" and (r.get("scored") or not scored_only or r.get("underlying_status"))]


def gate(results, fail_on="any", max_failures=0):
    """The CI gate: ``(ok, message)``. ``fail_on``: ``any`` counts every FAIL, ``scored`` only scored ones (and
    expired waivers), ``none`` never fails. The gate fails when the count is above ``max_failures``."""
    if fail_on not in ("any", "scored", "none"):
        return False, "cis_fail_on must be any, scored or none (got %r)" % (fail_on,)
    try:
        max_failures = int(max_failures or 0)
    except (TypeError, ValueError):
        return False, "cis_max_failures must be a number (got %r)" % (max_failures,)
    count = 0
    per_host = []
    for host_result in results:
        bad = failing(host_result, scored_only=(fail_on == "scored"))
        count += len(bad)
        if bad:
            per_host.append("%s: %s" % (host_result.get("host"), ", ".join(r["id"] for r in bad)))
    if fail_on == "none":
        return True, "CIS gate disabled (cis_fail_on=none); %d failure(s)" % count
    if count > max_failures:
        return False, "CIS gate: %d %sfailure(s), more than the %d allowed (%s)" % (
            count, "scored " if fail_on == "scored" else "", max_failures, "; ".join(per_host))
    return True, "CIS gate passed: %d %sfailure(s), %d allowed" % (
        count, "scored " if fail_on == "scored" else "", max_failures)


def apply_gate(result, evaluations, fail_on, max_failures):
    """Record the gate's verdict on a module result (``gate``), failing it with the gate's message appended."""
    ok, msg = gate(evaluations, fail_on, max_failures)
    result["gate"] = {"passed": ok, "msg": msg}
    if not ok:
        result["failed"] = True
        result["msg"] = "%s; %s" % (result.get("msg", ""), msg)
    return result


def summary_lines(results, width=100):
    """Plain-text summary for the end of a play: one line of counts per host, then its failing ids."""
    lines = []
    for host_result in sorted(results, key=lambda r: str(r.get("host"))):
        t = host_result.get("totals") or {}
        node = host_result.get("node") or {}
        lines.append("%-20s k8s %-8s %3d pass %3d fail %3d warn %3d waived  [%s]" % (
            host_result.get("host"), node.get("kubernetes_version") or "?", t.get("pass", 0), t.get("fail", 0),
            t.get("warn", 0), t.get("waived", 0), ",".join(node.get("targets") or []) or "no kubernetes"))
        for res in failing(host_result):
            line = "    FAIL %-7s %s" % (res["id"], res.get("title"))
            lines.append(line if len(line) <= width else line[:width - 3] + "...")
        for res in host_result.get("controls") or []:
            if res.get("drift") and res.get("status") != "FAIL":
                lines.append("    DRIFT %-6s %s" % (res["id"], "configured and running state differ"))
            if res.get("upgrade_drift"):
                lines.append("    UPGRADE %-4s %s" % (res["id"], "passes now, the next kubeadm upgrade would undo it"))
            if (res.get("deviation") or {}).get("applied"):
                lines.append("    DEVIATES %-3s %s, kube-bench %s (%s)" % (
                    res["id"], res["status"], res.get("kube_bench_status"), res["deviation"].get("rule")))
        for msg in host_result.get("messages") or []:
            lines.append("    note: %s" % msg)
    ft = fleet_totals(results)
    lines.append("fleet: %d host(s), %d pass, %d fail, %d warn, %d waived" % (
        ft["hosts"], ft["pass"], ft["fail"], ft["warn"], ft["waived"]))
    return lines


def _md(text):
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def _benchmark_label(bench):
    bench = bench or {}
    return "%s %s (%s)" % (bench.get("name") or "CIS Kubernetes Benchmark", bench.get("version") or "?",
                           bench.get("id") or "?")


def to_markdown(results, generated=None, title="CIS Kubernetes Benchmark audit"):
    """Fleet summary in Markdown: a counts table per host, then per host the failing recommendations,
    drift, waivers and notes."""
    generated = generated or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    # Hosts of different Kubernetes versions are judged against different benchmarks (benchmark: auto); the
    # heading names the benchmark only when it is one for the whole fleet.
    benches = []
    for host_result in results:
        label = _benchmark_label(host_result.get("benchmark"))
        if label not in benches:
            benches.append(label)
    judged = benches[0] if len(benches) == 1 else "benchmark per host (%s)" % ", ".join(benches)
    out = ["# %s" % title, "",
           "%s, level %s, generated %s." % (judged if results else "CIS Kubernetes Benchmark",
                                            (results[0].get("level") if results else "-"), generated), ""]
    out += ["| host | Kubernetes | benchmark | targets | PASS | FAIL | WARN | WAIVED | INFO |",
            "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for host_result in sorted(results, key=lambda r: str(r.get("host"))):
        t = host_result.get("totals") or {}
        node = host_result.get("node") or {}
        out.append("| %s | %s | %s | %s | %d | %d | %d | %d | %d |" % (
            _md(host_result.get("host")), _md(node.get("kubernetes_version") or "?"),
            _md((host_result.get("benchmark") or {}).get("id") or "?"),
            _md(", ".join(node.get("targets") or []) or "none"), t.get("pass", 0), t.get("fail", 0),
            t.get("warn", 0), t.get("waived", 0), t.get("info", 0)))
    ft = fleet_totals(results)
    out.append("| **fleet (%d)** | | | | %d | %d | %d | %d | %d |" % (
        ft["hosts"], ft["pass"], ft["fail"], ft["warn"], ft["waived"], ft["info"]))
    for host_result in sorted(results, key=lambda r: str(r.get("host"))):
        out += ["", "## %s" % _md(host_result.get("host")), ""]
        bad = failing(host_result)
        if bad:
            out += ["Failing recommendations:", "", "| id | recommendation | actual | fixed by |",
                    "| --- | --- | --- | --- |"]
            for res in bad:
                rb = res.get("remediated_by") or {}
                out.append("| %s | %s | %s | %s |" % (
                    _md(res["id"]), _md(res.get("title")), _md(actual_text(res.get("actual")) or res.get("reason")),
                    _md("%s: `%s`" % (rb.get("role"), rb.get("var")) if rb else "manual")))
        else:
            out.append("No failing recommendations.")
        out += ["", "Judged against %s." % _md(_benchmark_label(host_result.get("benchmark")))]
        drift = [r for r in host_result.get("controls") or [] if r.get("drift")]
        if drift:
            out += ["", "Configured but not running (drift):", ""]
            out += ["- %s %s: %s" % (r["id"], _md(r.get("title")), _md(r.get("reason"))) for r in drift]
        upgrade = [r for r in host_result.get("controls") or [] if r.get("upgrade_drift")]
        if upgrade:
            out += ["", "Passing now, undone by the next `kubeadm upgrade` (will drift on upgrade):", ""]
            out += ["- %s %s: %s" % (r["id"], _md(r.get("title")), _md(r.get("reason"))) for r in upgrade]
        waived = [r for r in host_result.get("controls") or [] if r.get("waiver")]
        if waived:
            out += ["", "Waivers:", ""]
            for res in waived:
                w = res["waiver"]
                out.append("- %s: %s%s (%s)" % (
                    res["id"], _md(w.get("reason")), " until %s" % w["expires"] if w.get("expires") else "",
                    "EXPIRED" if w.get("expired") else res.get("status")))
        out += _deviation_lines(host_result)
        if host_result.get("messages"):
            out += ["", "Notes:", ""]
            out += ["- %s" % _md(m) for m in host_result["messages"]]
    return "\n".join(out) + "\n"


def _deviation_lines(host_result):
    rows = [r for r in host_result.get("controls") or [] if r.get("deviation")]
    if not rows:
        return []
    out = ["", "Deviations from kube-bench:", "",
           "| host | id | ours | kube-bench | rule |", "| --- | --- | --- | --- | --- |"]
    for res in rows:
        dev = res["deviation"]
        ours = res.get("status") if dev.get("applied") else "%s (rule off: %s)" % (res.get("status"), dev.get("status"))
        out.append("| %s | %s | %s | %s | %s |" % (_md(host_result.get("host")), _md(res["id"]), _md(ours),
                                                   _md(res.get("kube_bench_status")), _md(dev.get("rule"))))
    return out


def set_stats_data(results):
    """Small per-host numbers for ``set_stats`` (AWX shows them with the job)."""
    data = {}
    for host_result in results:
        t = host_result.get("totals") or {}
        data[str(host_result.get("host"))] = {
            "pass": t.get("pass", 0), "fail": t.get("fail", 0), "warn": t.get("warn", 0),
            "waived": t.get("waived", 0), "failed_ids": list(host_result.get("failed") or []),
        }
    return {"cis_audit": data, "cis_audit_totals": fleet_totals(results)}
