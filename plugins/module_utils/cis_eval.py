# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge one node's facts (from ``node_facts``) against a CIS catalog (``catalog/cis_kubernetes_v1.12.yml``).

Pure functions, standard library only; runs on the controller. ``evaluate`` is the entry point: it validates the
catalog, selects the recommendations (level, ids, targets), has each judged, applies the waivers and assembles the
result. The node is read by ``cis_view`` (running, configured and upgrade states), the controls are judged by
``cis_checks`` (kube-bench's verdicts, drift and upgrade drift, with the operators of ``cis_test_items``), and
``cis_deviations`` corrects kube-bench where it reads the node wrongly.

On top of kube-bench's verdicts a waiver turns a result into WAIVED, and an expired waiver into FAIL; INFO is a
selected recommendation whose target does not apply to this node.
"""

from __future__ import annotations

import datetime
import fnmatch
import re

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_catalog, cis_deviations, cluster_rules, k8s_version
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_checks import (
    FAIL,
    INFO,
    PASS,
    STATUSES,
    WAIVED,
    WARN,
    evaluate_control,
    fail_status,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_view import NodeView, as_dict

TARGETS = ("master", "etcd", "controlplane", "node", "policies")

# One error type for a catalog that cannot be used, whether its overlays (cis_catalog) or its controls are wrong.
CatalogError = cis_catalog.CatalogError


# ---------------------------------------------------------------------------------------------------------------
# catalog
# ---------------------------------------------------------------------------------------------------------------
def validate_catalog(catalog):
    """Return a list of problems with a parsed catalog (empty when it is usable)."""
    problems = []
    if not isinstance(catalog, dict):
        return ["catalog is not a mapping"]
    controls = catalog.get("controls")
    if not isinstance(controls, list) or not controls:
        return ["catalog has no controls list"]
    # Overlays replace and add controls of a base; a control left in a section the overlay dropped (5.6 -> 5.7
    # between CIS 1.10 and 1.11) would otherwise go unnoticed until a report groups it.
    sections = catalog.get("sections")
    if sections is not None and not isinstance(sections, dict):
        return ["catalog sections is not a mapping"]
    seen = set()
    for index, ctl in enumerate(controls):
        where = "control #%d" % index
        if not isinstance(ctl, dict):
            problems.append("%s is not a mapping" % where)
            continue
        cid = ctl.get("id")
        if not isinstance(cid, str) or not re.match(r"^\d+(\.\d+)*$", cid):
            problems.append("%s has no valid string id (%r)" % (where, cid))
            continue
        where = "control %s" % cid
        section = sections.get(ctl.get("section")) if sections is not None else None
        if sections is not None and not isinstance(section, dict):
            problems.append("%s: section %r is not one of the catalog's sections" % (where, ctl.get("section")))
        elif section is not None and section.get("target") != ctl.get("target"):
            problems.append("%s: target %r, but its section %s is in %r"
                            % (where, ctl.get("target"), ctl.get("section"), section.get("target")))
        if cid in seen:
            problems.append("%s is listed twice" % where)
        seen.add(cid)
        for key in ("title", "level", "type", "scored", "target"):
            if key not in ctl:
                problems.append("%s has no %s" % (where, key))
        if ctl.get("level") not in (1, 2):
            problems.append("%s: level must be 1 or 2" % where)
        if ctl.get("type") not in ("automated", "manual"):
            problems.append("%s: type must be automated or manual" % where)
        if ctl.get("target") not in TARGETS:
            problems.append("%s: unknown target %r" % (where, ctl.get("target")))
        check = ctl.get("check")
        if check is not None:
            kind = check.get("kind") if isinstance(check, dict) else None
            if kind not in ("args", "file_mode", "file_owner", "encryption", "cluster"):
                problems.append("%s: unknown check kind %r" % (where, kind))
            elif kind == "args":
                items = check.get("all", check.get("any"))
                if not check.get("component") or not isinstance(items, list) or not items:
                    problems.append("%s: args check needs component and all/any items" % where)
                else:
                    for item in items:
                        if not isinstance(item, dict) or not (item.get("flag") or item.get("config")):
                            problems.append("%s: test item without flag/config" % where)
            elif kind in ("file_mode", "file_owner"):
                if not check.get("files"):
                    problems.append("%s: file check without files" % where)
                if kind == "file_mode" and not re.match(r"^[0-7]{3,4}$", str(check.get("max", ""))):
                    problems.append("%s: file_mode needs max as an octal string" % where)
                if kind == "file_owner" and ":" not in str(check.get("owner", "")):
                    problems.append("%s: file_owner needs owner as user:group" % where)
            elif kind == "cluster":
                if check.get("rule") is not None and check["rule"] not in cluster_rules.RULES:
                    problems.append("%s: unknown cluster rule %r" % (where, check["rule"]))
                elif not (check.get("rule") or check.get("hint")):
                    problems.append("%s: cluster check needs a rule or a hint" % where)
        rb = ctl.get("remediated_by")
        if rb is not None and (not isinstance(rb, dict) or not rb.get("role") or not rb.get("var")):
            problems.append("%s: remediated_by must be null or {role, var}" % where)
    return problems


def catalog_ids(catalog):
    return [c["id"] for c in catalog.get("controls", []) if isinstance(c, dict) and "id" in c]


def _id_key(cid):
    return tuple(int(p) if p.isdigit() else p for p in str(cid).split("."))


def id_matches(cid, patterns):
    """``cid`` is one of ``patterns`` or lies in one of them as a section (``1.2`` matches ``1.2.5``)."""
    cid = str(cid)
    for pat in patterns or []:
        pat = str(pat).strip()
        if pat and (cid == pat or cid.startswith(pat + ".")):
            return True
    return False


# ---------------------------------------------------------------------------------------------------------------
# waivers
# ---------------------------------------------------------------------------------------------------------------
def _to_date(value):
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.datetime.strptime(str(value).strip(), "%Y-%m-%d").date()


def normalize_waivers(waivers, known_ids, host=None, hostname=None):
    """Check and keep the waivers that apply to this host. Returns (waivers, messages)."""
    usable = []
    messages = []
    if waivers is None:
        return usable, messages
    if isinstance(waivers, dict):
        waivers = [waivers]
    if not isinstance(waivers, list):
        return usable, ["cis_waivers must be a list of {id, reason, expires, hosts}; ignored"]
    for index, waiver in enumerate(waivers):
        if not isinstance(waiver, dict) or not waiver.get("id"):
            messages.append("waiver #%d has no id; ignored" % index)
            continue
        wid = str(waiver["id"]).strip()
        if not any(k == wid or k.startswith(wid + ".") for k in known_ids):
            messages.append("waiver for unknown CIS id %s ignored" % wid)
            continue
        if not str(waiver.get("reason") or "").strip():
            messages.append("waiver for %s has no reason; ignored" % wid)
            continue
        try:
            expires = _to_date(waiver.get("expires"))
        except ValueError:
            messages.append("waiver for %s has an invalid expires %r (want YYYY-MM-DD); ignored"
                            % (wid, waiver.get("expires")))
            continue
        hosts = waiver.get("hosts")
        if hosts:
            if isinstance(hosts, str):
                hosts = [hosts]
            names = [n for n in (host, hostname) if n]
            if not any(fnmatch.fnmatchcase(n, str(pat)) for n in names for pat in hosts):
                continue
        usable.append({"id": wid, "reason": str(waiver["reason"]).strip(), "expires": expires,
                       "hosts": list(hosts) if hosts else None})
    return usable, messages


def apply_waiver(result, waivers, today):
    """Mutate a control result according to the most specific waiver for its id."""
    matching = [w for w in waivers if id_matches(result["id"], [w["id"]])]
    if not matching:
        return
    matching.sort(key=lambda w: len(w["id"]), reverse=True)
    waiver = matching[0]
    expires = waiver["expires"]
    info = {"id": waiver["id"], "reason": waiver["reason"],
            "expires": expires.isoformat() if expires else None, "hosts": waiver["hosts"]}
    underlying = result["status"]
    result["waiver"] = info
    if expires is not None and expires < today:
        info["expired"] = True
        if underlying == PASS:
            result["reason"] = "%s; waiver expired on %s (no longer needed)" % (result["reason"], expires.isoformat())
            return
        result["underlying_status"] = underlying
        result["status"] = FAIL
        result["reason"] = "waiver expired on %s (%s); underlying result %s: %s" % (
            expires.isoformat(), waiver["reason"], underlying, result["reason"])
        return
    info["expired"] = False
    result["underlying_status"] = underlying
    result["status"] = WAIVED
    until = " until %s" % expires.isoformat() if expires else ""
    result["reason"] = "waived%s: %s; underlying result %s: %s" % (
        until, waiver["reason"], underlying, result["reason"])


# ---------------------------------------------------------------------------------------------------------------
# node evaluation
# ---------------------------------------------------------------------------------------------------------------
def totals(results):
    counts = dict((s.lower(), 0) for s in STATUSES)
    for res in results:
        counts[res["status"].lower()] = counts.get(res["status"].lower(), 0) + 1
    counts["total"] = len(results)
    return counts


def evaluate(facts, catalog, host=None, level=2, ids=None, skip_ids=None, targets=None, waivers=None,
             today=None, parse_yaml=None, include_policies=True, report_not_applicable=False, cluster=None,
             deviations=True):
    """Judge one node. Returns a dict with ``host``, ``node``, ``controls`` (one result per control),
    ``totals``, ``failed`` (ids) and ``messages``. Never raises on bad facts; raises CatalogError on an
    unusable catalog.

    ``level``: 1 (level 1 only) or 2 (level 1 and 2). ``ids``/``skip_ids``: ids or section prefixes to
    select/deselect. ``targets``: list of kube-bench targets, or None to detect them from the facts.
    ``waivers``: list of ``{id, reason, expires: YYYY-MM-DD, hosts: [...]}``.
    ``cluster``: the evidence of ``cluster_audit.audit()``; the result is then the cluster's pseudo-host (target
    ``policies``), and the section-5 checks that name a cluster rule are judged (findings -> FAIL, none -> PASS).
    ``deviations``: apply the rules of ``cis_deviations`` where kube-bench's verdict is wrong (each result has
    ``kube_bench_status`` and, where a rule disagrees with kube-bench, ``deviation``); False keeps kube-bench's
    verdict everywhere and still reports what the rules would have decided.
    """
    problems = validate_catalog(catalog)
    if problems:
        raise CatalogError("catalog is not usable: %s" % "; ".join(problems[:10]))
    today = _to_date(today) if today is not None else datetime.date.today()
    view = NodeView(facts, parse_yaml=parse_yaml, cluster=cluster)
    kube_bench_view = view
    if view.has_kubelet_dropins():
        kube_bench_view = NodeView(facts, parse_yaml=parse_yaml, cluster=cluster, kubelet_dropins=False)
    node = {"view": view, "fail_status": fail_status, "evaluate": evaluate_control}
    messages = []
    if not isinstance(facts, dict) or not facts:
        messages.append("no facts were collected from this node")
    errors = as_dict(view.facts.get("collector")).get("errors")
    errors = errors if isinstance(errors, list) else []
    for err in errors[:20]:
        if isinstance(err, dict):
            messages.append("collection: %s: %s" % (err.get("path"), err.get("error")))
    detected = ["policies"] if cluster is not None else view.detect_targets(include_policies=include_policies)
    if targets:
        active = [t for t in targets if t in TARGETS]
        for bad in [t for t in targets if t not in TARGETS]:
            messages.append("unknown target %r ignored" % bad)
    else:
        active = detected
    if cluster is not None:
        messages.extend(m for m in cluster.get("messages") or [] if m not in messages)
    elif not detected:
        messages.append("no Kubernetes component found on this node (no kube-apiserver, etcd or kubelet)")
    try:
        level = int(level)
    except (TypeError, ValueError):
        messages.append("cis_level %r is not 1 or 2; using 2" % (level,))
        level = 2
    known = catalog_ids(catalog)
    for pat in list(ids or []) + list(skip_ids or []):
        if not any(k == str(pat) or k.startswith(str(pat) + ".") for k in known):
            messages.append("selected CIS id %s is not in %s" % (pat, catalog.get("benchmark", {}).get("id")))
    usable_waivers, wmsgs = normalize_waivers(waivers, known, host=host, hostname=view.facts.get("hostname"))
    messages.extend(wmsgs)
    results = []
    for ctl in sorted(catalog["controls"], key=lambda c: _id_key(c["id"])):
        if ctl.get("level", 1) > level:
            continue
        if ids and not id_matches(ctl["id"], ids):
            continue
        if skip_ids and id_matches(ctl["id"], skip_ids):
            continue
        applicable = ctl["target"] in active
        if not applicable and not (report_not_applicable or ids):
            continue
        base = {
            "id": ctl["id"],
            "section": ctl.get("section"),
            "title": ctl.get("title"),
            "level": ctl.get("level"),
            "type": ctl.get("type"),
            "automated": ctl.get("type") == "automated",
            "scored": bool(ctl.get("scored")),
            "target": ctl.get("target"),
            "remediation": " ".join(str(ctl.get("remediation") or "").split()),
            "remediated_by": ctl.get("remediated_by"),
            "drift": False,
            "upgrade_drift": False,
            "waiver": None,
        }
        if not applicable:
            base.update(status=INFO, expected=None, actual={"running": None, "configured": None},
                        reason="not applicable: this node has no %s components" % ctl["target"],
                        kube_bench_status=INFO, deviation=None)
            results.append(base)
            continue
        try:
            outcome = evaluate_control(ctl, kube_bench_view)
        except Exception as exc:  # pylint: disable=broad-except
            outcome = {"status": WARN, "expected": None, "actual": {"running": None, "configured": None},
                       "reason": "could not evaluate: %s: %s" % (type(exc).__name__, exc)}
        base.update(outcome)
        try:
            cis_deviations.apply(ctl, base, node, enabled=deviations)
        except Exception as exc:  # pylint: disable=broad-except
            # a rule that trips over odd facts must not cost the node kube-bench's verdict
            base.update(kube_bench_status=base["status"], deviation=None)
            messages.append("deviation rules not applied to %s: %s: %s" % (ctl["id"], type(exc).__name__, exc))
        apply_waiver(base, usable_waivers, today)
        results.append(base)
    upgrade = view.upgrade() if cluster is None else {"judged": False, "why": "a cluster audit", "notes": []}
    if not upgrade["judged"] and upgrade["why"] not in ("not a kubeadm node", "a cluster audit"):
        messages.append("kubeadm upgrade not judged: %s" % upgrade["why"])
    messages.extend(n for n in upgrade["notes"] if n not in messages)
    messages.extend(m for m in view.messages + kube_bench_view.messages if m not in messages)
    version = as_dict(view.facts.get("version")).get("kubernetes")
    bench = catalog.get("benchmark") or {}
    if version and bench.get("kubernetes_minors"):
        try:
            minor = k8s_version.minor(str(version), supported=None)
        except ValueError:
            minor = None
        if minor not in [str(m) for m in bench["kubernetes_minors"]]:
            messages.append("Kubernetes %s is not one of the versions %s targets (%s)"
                            % (version, bench.get("id"), ", ".join(bench["kubernetes_minors"])))
    counts = totals(results)
    return {
        "host": host or view.facts.get("hostname"),
        "benchmark": {"id": bench.get("id"), "name": bench.get("name"), "version": bench.get("version"),
                      "targets": as_dict(catalog.get("targets")), "sections": as_dict(catalog.get("sections"))},
        "node": {
            "hostname": view.facts.get("hostname"),
            "kubernetes_version": version,
            "detected_targets": detected,
            "targets": active,
        },
        "level": level,
        "controls": results,
        "totals": counts,
        "failed": [r["id"] for r in results if r["status"] == FAIL],
        "drift": [r["id"] for r in results if r.get("drift")],
        "upgrade_drift": [r["id"] for r in results if r.get("upgrade_drift")],
        "deviations": [r["id"] for r in results if (r.get("deviation") or {}).get("applied")],
        "deviations_enabled": bool(deviations),
        "upgrade": {
            "judged": upgrade["judged"],
            "why": upgrade["why"],
            "kubeadm_minor": upgrade.get("minor"),
            "kubelet_config": upgrade.get("kubelet"),
            "components": dict((comp, dict((k, regen[k]) for k in ("args", "lost", "changed", "added", "lost_volumes")))
                               for comp, regen in (upgrade.get("components") or {}).items()),
        },
        "messages": messages,
    }
