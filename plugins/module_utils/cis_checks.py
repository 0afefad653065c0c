# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdict on one CIS control against one node view, by the kind of its check (kube-bench semantics).

Standard library only; runs on the controller. Verdicts follow kube-bench: PASS; FAIL for a failing scored check;
WARN for a failing unscored check, a manual recommendation, or one that cannot be determined on this node
(component absent, file unreadable). INFO (target not on this node) and WAIVED (``cis_eval``'s waivers) complete the
statuses a result can have.

``args`` checks judge both the running and the configured state (``cis_view``); the verdict is the running state's
(what is in effect), and a difference between the two is reported as drift. A recommendation that passes now and
would fail after the next ``kubeadm upgrade`` is marked ``upgrade_drift``; its verdict stays kube-bench's.
``cluster`` checks take the verdict of ``cluster_audit.judge_control`` on the cluster's evidence.
"""

from __future__ import annotations

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cluster_audit
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_test_items import eval_state, expected_text
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_view import STATIC_POD_COMPONENTS, as_dict

PASS = "PASS"
FAIL = "FAIL"
WARN = "WARN"
INFO = "INFO"
WAIVED = "WAIVED"
STATUSES = (PASS, FAIL, WARN, INFO, WAIVED)


def fail_status(ctl):
    return FAIL if ctl.get("scored") else WARN


def _missing_status(ctl, missing):
    if missing == "pass":
        return PASS
    if missing == "warn":
        return WARN
    return fail_status(ctl)


def eval_file_check(ctl, view):
    check = ctl["check"]
    paths = view.file_set(check["files"])
    existing = []
    unknown = []
    for path in paths:
        st = view.stat(path)
        if st.get("exists"):
            existing.append((path, st))
        elif st.get("error"):
            unknown.append("%s (%s)" % (path, st["error"]))
    if check["kind"] == "file_mode":
        expected = "permissions %s or more restrictive" % check["max"]
    else:
        expected = "ownership %s" % check["owner"]
    result = {"expected": expected}
    if not existing:
        missing = check.get("missing", "fail")
        status = _missing_status(ctl, missing)
        if unknown and missing != "pass":
            status = WARN
        shown = ", ".join(paths) if paths else "no %s file" % check["files"]
        why = "cannot be read: %s" % "; ".join(unknown) if unknown else ("does not exist" if paths else "found")
        result.update(status=status, actual={"running": None, "configured": "%s: %s" % (shown, why)},
                      reason="%s %s%s" % (shown, why, {
                          "pass": "; nothing to check", "warn": "; cannot be judged on this node",
                      }.get(missing, "")))
        return result
    offenders = []
    details = []
    for path, st in existing:
        if check["kind"] == "file_mode":
            try:
                mode = int(str(st.get("mode")), 8)
                limit = int(str(check["max"]), 8)
            except ValueError:
                unknown.append("%s (mode %r)" % (path, st.get("mode")))
                continue
            bad = (mode & ~limit) & 0o7777
            text = "%s %s" % (str(st.get("mode"))[-4:].lstrip("0").rjust(3, "0"), path)
            if bad:
                offenders.append(text)
            details.append(text)
        else:
            owner = "%s:%s" % (st.get("owner"), st.get("group"))
            text = "%s %s" % (owner, path)
            if owner != check["owner"]:
                offenders.append(text)
            details.append(text)
    if offenders:
        status = fail_status(ctl)
        reason = "%d of %d file(s) not %s: %s" % (len(offenders), len(existing), expected, ", ".join(offenders[:20]))
        if len(offenders) > 20:
            reason += ", ... (%d more)" % (len(offenders) - 20)
        actual = "; ".join(offenders[:50])
    elif unknown:
        status = WARN
        reason = "could not judge: %s" % "; ".join(unknown)
        actual = reason
    else:
        status = PASS
        reason = "%d file(s) checked" % len(existing)
        actual = details[0] if len(details) == 1 else "%d files, all %s" % (len(details), expected)
    result.update(status=status, reason=reason, actual={"running": None, "configured": actual})
    return result


def eval_args_check(ctl, view):
    check = ctl["check"]
    comp = check["component"]
    mode = "any" if "any" in check else "all"
    expected = (" OR " if mode == "any" else " AND ").join(expected_text(i) for i in check.get(mode) or [])
    states = view.states(comp)
    running, configured = states["running"], states["configured"]
    result = {"expected": expected, "actual": {"running": None, "configured": None}, "sources": {}}
    if running is None and configured is None:
        result.update(status=WARN, reason="%s is not running on this node and has no configuration to read" % comp)
        return result
    outcomes = {}
    for state in (running, configured):
        if state is None:
            continue
        passed, actual, items = eval_state(check, state)
        outcomes[state.kind] = (passed, actual, items)
        result["actual"][state.kind] = actual
        result["sources"][state.kind] = state.source
    partial = running is not None and running.partial
    effective = "running" if "running" in outcomes and not (partial and "configured" in outcomes) else "configured"
    passed = outcomes[effective][0]
    status = PASS if passed else fail_status(ctl)
    reasons = []
    drift = False
    if partial:
        result["actual"]["running"] = "%s (ETCD_* environment not readable)" % result["actual"]["running"]
        reasons.append("%s; judged from %s" % (running.partial, "its configuration (%s): %s" % (
            configured.source, outcomes["configured"][1]) if effective == "configured" else "its command line"))
    elif "running" in outcomes and "configured" in outcomes:
        run_vals = [(r["found"], r["value"]) for r in outcomes["running"][2]]
        cfg_vals = [(r["found"], r["value"]) for r in outcomes["configured"][2]]
        if run_vals != cfg_vals or outcomes["running"][0] != outcomes["configured"][0]:
            drift = True
            verdict = "passes" if outcomes["configured"][0] else "fails"
            reasons.append(
                "drift: configured in %s as [%s] (%s) but the running %s has [%s]; "
                "the configuration is not in effect yet (restart pending?)"
                % (configured.source, outcomes["configured"][1], verdict, comp, outcomes["running"][1]))
    if configured is not None and configured.conflicts:
        reasons.append("%s: %s also given on the command line; etcd refuses to start with both"
                       % (configured.source, ", ".join(configured.conflicts)))
    if "running" not in outcomes:
        reasons.append("%s is not running; judged from its configuration (%s): %s"
                       % (comp, configured.source, outcomes["configured"][1]))
    elif "configured" not in outcomes and comp in STATIC_POD_COMPONENTS:
        reasons.append("no static pod manifest found for %s; judged from the running process" % comp)
    if not reasons:
        reasons.append("%s: %s" % (effective, outcomes[effective][1]))
    upgrade = view.upgrade_state(comp)
    if passed and upgrade is not None:
        upgrade_passed, upgrade_actual, _items = eval_state(check, upgrade)
        if not upgrade_passed:
            result["upgrade_drift"] = True
            reasons.append(_upgrade_reason(ctl, upgrade, upgrade_actual))
    result.update(status=status, reason="; ".join(reasons), drift=drift)
    return result


# the roles that also write their settings where kubeadm upgrade reads them (<role>_kubeadm_config_enabled)
KUBEADM_CONFIG_ROLES = ("apiserver", "controller_manager", "scheduler", "etcd", "kubelet")


def _upgrade_reason(ctl, state, actual):
    role = (ctl.get("remediated_by") or {}).get("role")
    fix = ""
    if role in KUBEADM_CONFIG_ROLES:
        fix = "; the %s role keeps it there (%s_kubeadm_config_enabled)" % (role, role)
    return "will drift on upgrade: %s would give [%s]%s" % (state.config_source or state.source, actual, fix)


def eval_encryption_check(ctl, view):
    check = ctl["check"]
    allowed = check.get("value") or []
    enc = as_dict(view.facts.get("encryption"))
    expected = "first encryption provider is one of %s" % ",".join(allowed)
    result = {"expected": expected}
    if not view.has_component("kube-apiserver"):
        result.update(status=WARN, reason="kube-apiserver is not on this node", actual={"running": None,
                                                                                        "configured": None})
        return result
    if not enc.get("path"):
        result.update(status=fail_status(ctl), reason="--encryption-provider-config is not set",
                      actual={"running": None, "configured": "no encryption provider config"})
        return result
    providers = enc.get("providers")
    if providers is None:
        result.update(status=WARN, reason="%s could not be read on the node" % enc["path"],
                      actual={"running": None, "configured": None})
        return result
    first = providers[0] if providers else None
    actual = "providers in %s: %s" % (enc["path"], ",".join(providers) or "(none)")
    passed = first in allowed
    reason = "first provider is %s" % (first or "missing")
    upgrade = view.upgrade_state("kube-apiserver")
    if passed and upgrade is not None and upgrade.args.get("encryption-provider-config") != enc["path"]:
        result["upgrade_drift"] = True
        reason += "; " + _upgrade_reason(ctl, upgrade, "--encryption-provider-config=%s" % upgrade.args.get(
            "encryption-provider-config") if upgrade.args.has("encryption-provider-config")
            else "--encryption-provider-config not set")
    result.update(status=PASS if passed else fail_status(ctl), actual={"running": None, "configured": actual},
                  reason=reason)
    return result


def evaluate_control(ctl, view):
    """One control against one node view (no waivers, no selection)."""
    check = ctl.get("check")
    if check is None:
        return {"status": WARN, "reason": "manual recommendation: review by hand", "expected": None,
                "actual": {"running": None, "configured": None}}
    kind = check.get("kind")
    if kind == "cluster" and check.get("rule") and view.cluster is not None:
        return cluster_audit.judge_control(check["rule"], view.cluster)
    if kind == "cluster":
        return {"status": WARN, "expected": None, "actual": {"running": None, "configured": None},
                "reason": "judged on the cluster's API objects, not by a node audit: %s" % check.get("hint", "")}
    if kind in ("file_mode", "file_owner"):
        return eval_file_check(ctl, view)
    if kind == "args":
        return eval_args_check(ctl, view)
    if kind == "encryption":
        return eval_encryption_check(ctl, view)
    return {"status": WARN, "reason": "unknown check kind %r in the catalog" % kind, "expected": None,
            "actual": {"running": None, "configured": None}}
