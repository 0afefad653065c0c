# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remediation planning from CIS evaluations (``cis_eval.evaluate`` results), for ``playbooks/remediate.yml``.

A plan turns one host's evaluation into the role toggles that fix exactly its failing controls: every
``remediated_by`` variable of the catalog is set, true for a control that FAILs (waived controls are WAIVED, not
FAIL, so waivers are respected), false for all others, and the roles to run are those with at least one failing
control. A control that passes but that the next ``kubeadm upgrade`` would undo (``upgrade_drift``) turns its
toggle on too: its role then finds the node already as it wants it and only writes the setting where kubeadm reads
it (``<role>_kubeadm_config_enabled``). A comparison of the evaluations before and after tells what was fixed, what
still fails and what newly fails. Pure functions over plain data.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

FAIL = "FAIL"
PASS = "PASS"

# site.yml's order: node roles first, then the control plane (etcd before the apiserver that depends on it).
ROLE_ORDER = ("kernel", "containerd", "kubelet", "etcd", "apiserver", "controller_manager", "scheduler")


class RemediationError(ValueError):
    """The input is not a CIS evaluation."""


def _controls(evaluation, what):
    if not isinstance(evaluation, dict):
        raise RemediationError("%s must be a CIS evaluation (a dict), got %s" % (what, type(evaluation).__name__))
    if "cis" in evaluation and "controls" not in evaluation:
        evaluation = evaluation["cis"]  # a registered cis_audit result
    controls = evaluation.get("controls")
    if not isinstance(controls, list):
        raise RemediationError("%s has no 'controls' list: pass the registered cis_audit result or its 'cis' key"
                               % what)
    return controls


def _role_key(role):
    return (ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER), role)


def plan(evaluation):
    """The remediation plan of one host.

    Returns ``{"toggles": {var: bool}, "roles": [role, ...], "fix": [id, ...], "keep": [id, ...],
    "unfixable": [id, ...], "by_role": {role: [id, ...]}}``. ``keep`` lists passing controls that will drift on
    upgrade. ``unfixable`` lists failing (or drifting) controls no role of this collection implements
    (``remediated_by`` null): they need a human.
    """
    toggles = {}
    by_role = {}
    fix = []
    keep = []
    unfixable = []
    for ctl in _controls(evaluation, "evaluation"):
        rb = ctl.get("remediated_by")
        failing = ctl.get("status") == FAIL
        drifting = bool(ctl.get("upgrade_drift")) and ctl.get("status") == PASS
        if isinstance(rb, dict) and rb.get("var"):
            var = rb["var"]
            toggles[var] = toggles.get(var, False) or failing or drifting
            if failing or drifting:
                (fix if failing else keep).append(ctl["id"])
                by_role.setdefault(rb.get("role") or var.split("_cis_")[0], []).append(ctl["id"])
        elif failing or drifting:
            unfixable.append(ctl["id"])
    return {
        "toggles": toggles,
        "roles": sorted(by_role, key=_role_key),
        "fix": fix,
        "keep": keep,
        "unfixable": unfixable,
        "by_role": by_role,
    }


def compare(before, after):
    """What changed between two evaluations of the same host.

    Returns ``{"fixed": [...], "still_failing": [...], "new_failures": [...], "drift_before": [...],
    "drift_after": [...], "upgrade_drift_before": [...], "upgrade_drift_after": [...], "failed_before": n,
    "failed_after": n}``. ``drift_*`` lists controls whose running and configured state differed (a configured fix
    not yet running, or a live change not in the files); ``upgrade_drift_*`` those the next kubeadm upgrade would
    undo.
    """
    b = {c["id"]: c for c in _controls(before, "before")}
    a = {c["id"]: c for c in _controls(after, "after")}
    failed_b = [i for i, c in b.items() if c.get("status") == FAIL]
    failed_a = [i for i, c in a.items() if c.get("status") == FAIL]
    return {
        "fixed": [i for i in failed_b if i not in failed_a],
        "still_failing": [i for i in failed_b if i in failed_a],
        "new_failures": [i for i in failed_a if i not in failed_b],
        "drift_before": [i for i, c in b.items() if c.get("drift")],
        "drift_after": [i for i, c in a.items() if c.get("drift")],
        "upgrade_drift_before": [i for i, c in b.items() if c.get("upgrade_drift")],
        "upgrade_drift_after": [i for i, c in a.items() if c.get("upgrade_drift")],
        "failed_before": len(failed_b),
        "failed_after": len(failed_a),
    }


def fleet(comparisons):
    """Fleet totals from ``{host: compare(...)}``: hosts and controls fixed, still failing and newly failing."""
    out = {"hosts": len(comparisons), "fixed": 0, "still_failing": 0, "new_failures": 0,
           "hosts_clean_after": 0, "hosts_still_failing": []}
    for host in sorted(comparisons):
        cmp_ = comparisons[host]
        out["fixed"] += len(cmp_["fixed"])
        out["still_failing"] += len(cmp_["still_failing"])
        out["new_failures"] += len(cmp_["new_failures"])
        if cmp_["failed_after"]:
            out["hosts_still_failing"].append(host)
        else:
            out["hosts_clean_after"] += 1
    return out


def report(entries, check_mode=False):
    """The remediation report of a fleet from ``{host: {"plan": plan(...), "delta": compare(...)}}``."""
    if not isinstance(entries, dict):
        raise RemediationError("entries must be a dict of host to {plan, delta}, got %s" % type(entries).__name__)
    for host, entry in entries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("plan"), dict) or \
                not isinstance(entry.get("delta"), dict):
            raise RemediationError("the entry of %s must hold a 'plan' and a 'delta'" % host)
    return {"check_mode": bool(check_mode),
            "fleet": fleet({host: entry["delta"] for host, entry in entries.items()}),
            "hosts": {host: entries[host] for host in sorted(entries)}}


def gate(fleet_totals, fail_on="any", max_failures=0):
    """``(passed, msg)``: the controls still failing and newly failing against ``max_failures``; ``fail_on``
    ``none`` always passes (the audit's gate settings, cis_fail_on and cis_max_failures)."""
    failing = fleet_totals["still_failing"] + fleet_totals["new_failures"]
    if fail_on == "none" or failing <= max_failures:
        if failing:
            return True, "%d control(s) still failing after remediation, within the gate (%s, at most %d)" % (
                failing, fail_on, max_failures)
        return True, "every failing control was remediated"
    return False, "still failing after remediation on %s (%d still failing, %d new)" % (
        ", ".join(fleet_totals["hosts_still_failing"]) or "no host", fleet_totals["still_failing"],
        fleet_totals["new_failures"])


def _ids(values):
    return ", ".join(values) or "-"


def to_markdown(rep):
    """remediation.md: the fleet's totals and a row per host."""
    f = rep["fleet"]
    lines = [
        "# CIS drift remediation%s" % (" (check mode: predicted, nothing changed)" if rep["check_mode"] else ""),
        "",
        "Fleet: %d hosts, %d controls fixed," % (f["hosts"], f["fixed"]),
        "%d still failing, %d newly failing;" % (f["still_failing"], f["new_failures"]),
        "%d hosts without failures after remediation." % f["hosts_clean_after"],
        "",
        "| host | failed before | failed after | fixed | still failing | new failures | drift before "
        "| will drift on upgrade (before / after) | roles run | manual |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for host, entry in sorted(rep["hosts"].items()):
        d, p = entry["delta"], entry["plan"]
        lines.append("| %s | %d | %d | %s | %s | %s | %s | %s / %s | %s | %s |" % (
            host, d["failed_before"], d["failed_after"], _ids(d["fixed"]), _ids(d["still_failing"]),
            _ids(d["new_failures"]), _ids(d["drift_before"]), _ids(d["upgrade_drift_before"]),
            _ids(d["upgrade_drift_after"]), _ids(p.get("roles", [])), _ids(p.get("unfixable", []))))
    return "\n".join(lines) + "\n"
