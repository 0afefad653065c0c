# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where this audit's verdict differs from kube-bench's, as named rules.

``cis_eval.evaluate`` first judges every recommendation as kube-bench does (``kube_bench_status``), then offers
the result to the rules below. A rule that fires gives the verdict kube-bench would give if it read the node
correctly; when that differs from kube-bench's, the result's ``status`` is the rule's and ``deviation`` names
the rule and says why. With deviations turned off the status stays kube-bench's and ``deviation`` still says
what the rule would have decided (``applied: false``).

Rules are keyed by CIS id (a section id such as ``4.2`` covers its recommendations) and also look at the
control's check, so a benchmark version that renumbers or drops a recommendation leaves the rule silent
instead of wrong. Standard library only.

Each rule's ``judge(ctl, kube_bench, node)`` returns ``None`` (does not apply to this node) or the outcome
dict (``status``, ``reason`` and optionally ``actual``) the rule stands for. ``node`` gives the rule what it
needs: ``view`` (the node as the kubelet and the API server read it), ``fail_status(ctl)`` and
``evaluate(ctl, view)``.
"""

from __future__ import annotations

import collections

PASS = "PASS"
WARN = "WARN"
INFO = "INFO"


def _d(value):
    return value if isinstance(value, dict) else {}


def _matches(cid, ids):
    return any(cid == pat or cid.startswith(pat + ".") for pat in ids)


def _items(ctl):
    check = _d(ctl.get("check"))
    items = check.get("all", check.get("any")) or []
    return check, [i for i in items if isinstance(i, dict)]


def _apiserver_state(view):
    """The API server's state kube-bench reads (the running process), else its manifest."""
    states = view.states("kube-apiserver")
    return states["running"] or states["configured"]


def _structured(ctl, node, flag, config_flag, facts_key):
    """``(item, path, facts)`` when ``ctl`` tests the API server's ``--<flag>`` alone and the API server is
    configured by ``--<config_flag>`` instead, else None. The API server refuses to start with both, so with the
    flag present kube-bench reads the truth."""
    check, items = _items(ctl)
    if check.get("component") != "kube-apiserver" or len(items) != 1 or items[0].get("flag") != flag:
        return None
    state = _apiserver_state(node["view"])
    if state is None or not state.args.has(config_flag) or state.args.has(flag):
        return None
    facts = _d(node["view"].facts.get(facts_key))
    return items[0], state.args.get(config_flag), facts


def _unreadable(config_flag, path, why):
    return {"status": WARN, "actual": {"running": None, "configured": None},
            "reason": "--%s=%s could not be read on the node (%s)" % (config_flag, path, why or "not collected")}


# ---------------------------------------------------------------------------------------------------------------
# structured authorization (--authorization-config)
# ---------------------------------------------------------------------------------------------------------------
def _judge_authorization(ctl, kube_bench, node):
    found = _structured(ctl, node, "authorization-mode", "authorization-config", "authorization")
    if found is None or found[0].get("op") not in ("has", "nothave"):
        return None
    item, path, facts = found
    authorizers = facts.get("authorizers")
    if not isinstance(authorizers, list):
        return _unreadable("authorization-config", path, facts.get("error"))
    types = [str(_d(a).get("type")) for a in authorizers]
    wanted = str(item.get("value"))
    present = wanted in types
    passed = present if item["op"] == "has" else not present
    shown = ", ".join("%s%s" % (t, " (%s)" % _d(a).get("name") if _d(a).get("name") else "")
                      for t, a in zip(types, authorizers)) or "(none)"
    actual = "authorizers in %s: %s" % (path, shown)
    return {"status": PASS if passed else node["fail_status"](ctl), "actual": {"running": None, "configured": actual},
            "reason": "judged from the AuthorizationConfiguration (--authorization-config): %s" % (
                "%s is one of its authorizers" % wanted if present else "no authorizer is %s" % wanted)}


# ---------------------------------------------------------------------------------------------------------------
# structured authentication (--authentication-config)
# ---------------------------------------------------------------------------------------------------------------
def _judge_authentication(ctl, kube_bench, node):
    found = _structured(ctl, node, "anonymous-auth", "authentication-config", "authentication")
    if found is None or found[0].get("op") != "eq" or str(found[0].get("value")).lower() != "false":
        return None
    dummy, path, facts = found
    if facts.get("anonymous") is None and facts.get("error"):
        return _unreadable("authentication-config", path, facts["error"])
    anonymous = _d(facts.get("anonymous"))
    enabled = anonymous.get("enabled")
    if enabled is None:
        # no anonymous section: the API server's default (anonymous requests allowed) applies, as kube-bench says
        return None
    conditions = anonymous.get("conditions") or 0
    limited = " (%d path condition(s))" % conditions if conditions else ""
    actual = "anonymous.enabled: %s in %s%s" % ("true" if enabled else "false", path, limited)
    if enabled:
        return {"status": node["fail_status"](ctl), "actual": {"running": None, "configured": actual},
                "reason": "the AuthenticationConfiguration (--authentication-config) enables anonymous requests%s" % (
                    " for %d path(s)" % conditions if conditions else "")}
    return {"status": PASS, "actual": {"running": None, "configured": actual},
            "reason": "anonymous requests are disabled in the AuthenticationConfiguration (--authentication-config)"}


# ---------------------------------------------------------------------------------------------------------------
# kubelet drop-in configuration (--config-dir)
# ---------------------------------------------------------------------------------------------------------------
def _judge_kubelet_dropins(ctl, kube_bench, node):
    check, items = _items(ctl)
    if check.get("kind") != "args" or check.get("component") != "kubelet" or not any(i.get("config") for i in items):
        return None
    if not node["view"].has_kubelet_dropins():
        return None
    config = _d(_d(node["view"].facts.get("kubelet")).get("config"))
    ours = node["evaluate"](ctl, node["view"])
    ours["reason"] = "%s (the kubelet's config file with the drop-ins of --config-dir=%s merged over it)" % (
        ours.get("reason") or "", config.get("config_dir"))
    return ours


# ---------------------------------------------------------------------------------------------------------------
# topology: files of a component set up otherwise on this node
# ---------------------------------------------------------------------------------------------------------------
def _absent_files(ctl, view, file_sets):
    """The checked paths when ``ctl`` checks one of ``file_sets`` and none of its files exists, else None."""
    check = _d(ctl.get("check"))
    if check.get("kind") not in ("file_mode", "file_owner") or check.get("files") not in file_sets:
        return None
    paths = view.file_set(check["files"])
    if any(view.stat(p).get("exists") or view.stat(p).get("error") for p in paths):
        return None
    return paths or [check["files"]]


def _not_applicable(paths, why):
    return {"status": INFO, "actual": {"running": None, "configured": "%s: does not exist" % ", ".join(paths)},
            "reason": "not applicable: %s" % why}


def _judge_no_local_etcd(ctl, kube_bench, node):
    view = node["view"]
    paths = _absent_files(ctl, view, ("manifest:etcd", "etcd_data_dir"))
    if paths is None or view.has_component("etcd") or not view.has_component("kube-apiserver"):
        return None
    state = _apiserver_state(view)
    servers = state.args.get("etcd-servers") if state is not None else None
    where = " (the API server uses --etcd-servers=%s)" % servers if servers else ""
    return _not_applicable(paths, "etcd does not run on this node%s; judge %s on the etcd members"
                           % (where, ", ".join(paths)))


def _judge_no_kubelet_config_file(ctl, kube_bench, node):
    view = node["view"]
    paths = _absent_files(ctl, view, ("kubelet_config",))
    config = _d(_d(view.facts.get("kubelet")).get("config"))
    # a --config naming a missing file is a broken kubelet, which kube-bench's FAIL rightly reports
    if paths is None or not view.has_component("kubelet") or config.get("source") != "default":
        return None
    return _not_applicable(paths, "the kubelet is started without --config (configured by flags only), so it "
                                  "reads no config file")


# One documented deviation: ``name``, the CIS ``ids`` it may change, kube-bench's ``issues``, ``why`` kube-bench
# is wrong there, the ``condition`` under which the rule fires, and its ``judge``.
Rule = collections.namedtuple("Rule", "name ids issues why condition judge")


RULES = (
    Rule(
        "structured-authorization", ("1.2.6", "1.2.7", "1.2.8"), (),
        "kube-bench reads only --authorization-mode; an API server configured with --authorization-config "
        "(AuthorizationConfiguration, GA in Kubernetes 1.32) cannot also have --authorization-mode, so kube-bench "
        "fails 1.2.6-1.2.8 whatever the authorizer chain is",
        "the API server has --authorization-config and no --authorization-mode; judged from the types of the "
        "file's authorizers (AlwaysAllow absent, Node present, RBAC present)",
        _judge_authorization),
    Rule(
        "structured-authentication", ("1.2.1",), (),
        "kube-bench reads only --anonymous-auth; with --authentication-config (AuthenticationConfiguration, GA in "
        "Kubernetes 1.34) the anonymous authenticator is configured in the file's anonymous section, and the API "
        "server refuses --anonymous-auth next to it, so kube-bench never sees anonymous requests disabled",
        "the API server has --authentication-config and no --anonymous-auth, and the file has an anonymous "
        "section; enabled: false passes",
        _judge_authentication),
    Rule(
        "kubelet-config-dropins", ("4.2",), ("#1973",),
        "kube-bench reads the kubelet's command line and its --config file only; the kubelet merges the *.conf "
        "files of --config-dir over that file (in file-name order) and command-line flags over both",
        "the kubelet has drop-in files in its --config-dir and the recommendation reads a kubelet config key",
        _judge_kubelet_dropins),
    Rule(
        "no-local-etcd", ("1.1.7", "1.1.8", "1.1.11", "1.1.12"), ("#632", "#1978"),
        "kube-bench runs the etcd pod-specification and data-directory checks on every control-plane node and "
        "fails them when the files are absent, which they are on a control-plane-only node of a cluster with "
        "external or separate etcd",
        "the node runs the API server but no etcd (no process, manifest or enabled unit) and none of the "
        "checked files exists; not applicable (INFO)",
        _judge_no_local_etcd),
    Rule(
        "no-kubelet-config-file", ("4.1.9", "4.1.10"), ("#1978",),
        "the recommendations apply if the kubelet uses a config file; kube-bench stats the default path and fails "
        "when there is none, as on a kubelet configured by flags only",
        "the kubelet runs without --config (command line and systemd unit) and the default config file does not "
        "exist; not applicable (INFO)",
        _judge_no_kubelet_config_file),
)


def apply(ctl, result, node, enabled=True):
    """Offer a kube-bench-style ``result`` of ``ctl`` to the rules; mutates and returns it.

    Sets ``kube_bench_status`` (the status as judged so far) and ``deviation`` (None, or ``rule``, ``why``,
    ``issues``, the ``status`` the rule gives and whether it was ``applied``). The first rule that fires with a
    different status decides."""
    kube_bench = result.get("status")
    result["kube_bench_status"] = kube_bench
    result["deviation"] = None
    for rule in RULES:
        if not _matches(str(ctl.get("id")), rule.ids):
            continue
        outcome = rule.judge(ctl, result, node)
        if outcome is None or outcome.get("status") == kube_bench:
            continue
        result["deviation"] = {"rule": rule.name, "why": rule.why, "issues": list(rule.issues),
                               "status": outcome["status"], "applied": bool(enabled)}
        if enabled:
            kube_bench_reason = result.get("reason")
            result.update(outcome)
            result["reason"] = "%s; kube-bench says %s (deviation %s): %s" % (
                outcome.get("reason"), kube_bench, rule.name, kube_bench_reason)
        else:
            result["reason"] = "%s; deviation %s (turned off) would make it %s: %s" % (
                result.get("reason"), rule.name, outcome["status"], outcome.get("reason"))
        break
    return result
