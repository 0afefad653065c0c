# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the CIS Kubernetes Benchmark section 5 (policies) on a cluster's own API objects.

Pure functions, standard library only. Input (read by ``cluster_inventory``): the objects of a cluster by kind
(what ``kubectl get <kinds> -A -o json`` or ``kubernetes.core.k8s_info`` return). Output (``audit()``): findings
per rule, each with the CIS id, an object reference and a reason. ``cis_eval.evaluate(..., cluster=audit(...))``
turns them into control results (findings -> FAIL, none -> PASS) of a pseudo-host named after the cluster, with the
node audit's waivers. The rules are judged by ``cluster_rbac`` (5.1), ``cluster_workloads`` (pod specs, token
mounts) and here (namespaces); ``cluster_rules`` names them.

Built-in subjects and roles are not findings (documented in docs/cluster-audit.md):
- subjects: users named ``system:*`` except ``system:anonymous`` (the control-plane components, kubelets),
  the groups in ``trusted_groups`` (``system:nodes``, bootstrap tokens, ``system:masters``,
  ``kubeadm:cluster-admins``), service accounts of the ``system_namespaces``, and the ``break_glass`` subjects.
  The broad groups ``system:authenticated``, ``system:unauthenticated``, ``system:serviceaccounts[:ns]`` are
  never trusted: a grant to them is a finding.
- roles (wildcard rule, 5.1.3): ClusterRoles labelled ``kubernetes.io/bootstrapping=rbac-defaults`` whose name is
  ``cluster-admin`` or starts with ``system:`` (Kubernetes' own; a copy without the label is judged).
- 5.1.1 exempts only the ``break_glass`` subjects: a kube-system service account bound to cluster-admin is a
  finding.
"""

from __future__ import annotations

from ansible_collections.secure_cluster.k8s.plugins.module_utils.cluster_inventory import (
    Inventory,
    as_dict,
    as_list,
    kubernetes_version,
    load,
    metadata,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cluster_rbac import (
    ACCESS_RULES,
    RBAC_KINDS,
    Rbac,
    access_findings,
    cluster_admin_findings,
    default_sa_findings,
    wildcard_findings,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cluster_rules import RULES, finding, match_any
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cluster_workloads import (
    WORKLOAD_KINDS,
    judge_pod_spec,
    pod_spec,
    token_findings,
    workloads,
)

# What each rule reads; a rule whose kinds are not all in the input is not judged (WARN).
RULE_KINDS = {
    "cluster_admin_bindings": ("ClusterRoleBinding", "RoleBinding"),
    "wildcard_rules": ("ClusterRole", "Role"),
    "default_service_accounts": ("ServiceAccount",) + RBAC_KINDS,
    "token_automount": ("Pod", "ServiceAccount") + RBAC_KINDS,
    "psa_enforce_labels": ("Namespace",),
    "network_policies": ("Namespace", "NetworkPolicy"),
    "default_namespace": (),
}
for _rule in ACCESS_RULES:
    RULE_KINDS[_rule] = RBAC_KINDS
for _rule in ("privileged_containers", "host_pid", "host_ipc", "host_network", "privilege_escalation",
              "root_containers", "net_raw_capability", "added_capabilities", "windows_host_process",
              "host_path_volumes", "host_ports", "secrets_as_env", "seccomp_profile", "security_context"):
    RULE_KINDS[_rule] = ("Pod",)

DEFAULT_OPTIONS = {
    # Subjects allowed to hold cluster-admin ("Kind:name", ServiceAccount as "ServiceAccount:ns/name"; shell
    # patterns). kubeadm binds cluster-admin to these two groups (kubeadm:cluster-admins since v1.29).
    "break_glass": ["Group:system:masters", "Group:kubeadm:cluster-admins"],
    # Namespaces whose workloads and service accounts are the platform's, not judged by the workload rules.
    "system_namespaces": ["kube-system", "kube-public", "kube-node-lease"],
    # Groups that are Kubernetes' or kubeadm's own identities (not the broad system:authenticated & co).
    "trusted_groups": ["system:masters", "system:nodes", "system:bootstrappers", "system:bootstrappers:*",
                       "kubeadm:cluster-admins", "system:monitoring"],
    # More subjects to trust for every RBAC rule apart from 5.1.1 (e.g. a CI deployer); shell patterns.
    "trusted_subjects": [],
    # Objects kubeadm/Kubernetes create in the default namespace ("Kind/name").
    "default_namespace_allowed": ["Service/kubernetes", "Endpoints/kubernetes", "EndpointSlice/kubernetes",
                                  "ServiceAccount/default", "ConfigMap/kube-root-ca.crt"],
    # Findings to accept, each {id, object (pattern on the object reference or subject), reason}.
    "exemptions": [],
}
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
MAX_REASON_FINDINGS = 20


# ---------------------------------------------------------------------------------------------------------------
# namespaces
# ---------------------------------------------------------------------------------------------------------------
def namespace_findings(inv, options):
    psa, netpol = [], []
    with_policy = set(metadata(p).get("namespace") for p in inv.get("NetworkPolicy"))
    for ns in inv.get("Namespace"):
        name = metadata(ns).get("name")
        if name in options["system_namespaces"]:
            continue
        level = as_dict(metadata(ns).get("labels")).get(PSA_ENFORCE)
        if not level:
            psa.append(finding("psa_enforce_labels", "Namespace", None, name, "no %s label" % PSA_ENFORCE))
        elif level == "privileged":
            psa.append(finding("psa_enforce_labels", "Namespace", None, name,
                               "%s is privileged (enforces nothing)" % PSA_ENFORCE))
        if name not in with_policy:
            netpol.append(finding("network_policies", "Namespace", None, name, "no NetworkPolicy in the namespace"))
    return psa, netpol


def default_namespace_findings(inv, options):
    out = []
    owned_uids = set()
    for kind in inv.objects:
        for obj in inv.get(kind):
            for oref in as_list(metadata(obj).get("ownerReferences")):
                owned_uids.add((metadata(obj).get("uid"), as_dict(oref).get("uid")))
    present_uids = set(metadata(o).get("uid") for kind in inv.objects for o in inv.get(kind))
    for kind in sorted(inv.objects):
        for obj in inv.get(kind):
            meta = metadata(obj)
            if meta.get("namespace") != "default":
                continue
            if match_any("%s/%s" % (kind, meta.get("name")), options["default_namespace_allowed"]):
                continue
            owners = [as_dict(o).get("uid") for o in as_list(meta.get("ownerReferences"))]
            if any(uid in present_uids for uid in owners if uid):
                continue  # reported through its owner
            if kind == "EndpointSlice" and as_dict(meta.get("labels")).get("kubernetes.io/service-name"):
                continue  # follows its Service
            if kind == "Endpoints" and any(metadata(s).get("name") == meta.get("name") and
                                           metadata(s).get("namespace") == "default" for s in inv.get("Service")):
                continue
            out.append(finding("default_namespace", kind, "default", meta.get("name"),
                               "%s in the default namespace" % kind))
    return out


# ---------------------------------------------------------------------------------------------------------------
# the audit
# ---------------------------------------------------------------------------------------------------------------
def normalize_options(options):
    opts = dict((k, list(v)) for k, v in DEFAULT_OPTIONS.items())
    messages = []
    for key, value in as_dict(options).items():
        if key not in DEFAULT_OPTIONS:
            messages.append("unknown cluster audit option %r ignored" % key)
            continue
        if value is None:
            continue
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            messages.append("cluster audit option %s must be a list; default used" % key)
            continue
        opts[key] = value
    exemptions = []
    for index, ex in enumerate(opts["exemptions"]):
        if not isinstance(ex, dict) or not ex.get("id") or not ex.get("object") or not str(
                ex.get("reason") or "").strip():
            messages.append("exemption #%d needs id, object and reason; ignored" % index)
            continue
        exemptions.append({"id": str(ex["id"]), "object": str(ex["object"]), "reason": str(ex["reason"]).strip()})
    opts["exemptions"] = exemptions
    return opts, messages


def _exempt(item, exemptions):
    for ex in exemptions:
        if ex["id"] != item["id"] and not item["id"].startswith(ex["id"] + "."):
            continue
        targets = [item["object"], item.get("subject") or ""]
        if item.get("container"):
            targets.append("%s container %s" % (item["object"], item["container"]))
        if any(match_any(t, [ex["object"]]) for t in targets if t):
            return ex
    return None


def audit(source, options=None):
    """Judge the cluster's objects. Returns ``{"rules": {rule: {"id", "expected", "judged", "missing",
    "checked", "findings", "exempted"}}, "findings": [...], "messages": [...], "inventory": {kind: count},
    "kubernetes_version"}``."""
    inv = source if isinstance(source, Inventory) else load(source)
    opts, messages = normalize_options(options)
    messages = list(inv.messages) + messages
    rbac = Rbac(inv, opts)
    messages.extend(rbac.messages)
    wl = workloads(inv, opts)
    raw = dict((rule, []) for rule in RULES)
    raw["cluster_admin_bindings"] = cluster_admin_findings(rbac)
    for rule, spec in ACCESS_RULES.items():
        raw[rule] = access_findings(rule, rbac, spec)
    raw["wildcard_rules"] = wildcard_findings(inv)
    raw["default_service_accounts"] = default_sa_findings(inv, rbac, opts)
    raw["token_automount"] = token_findings(inv, rbac, wl)
    for obj in wl:
        for item in judge_pod_spec(obj, pod_spec(obj)):
            raw[item["rule"]].append(item)
    raw["psa_enforce_labels"], raw["network_policies"] = namespace_findings(inv, opts)
    raw["default_namespace"] = default_namespace_findings(inv, opts)

    checked = {
        "pod": "%d workload(s) outside %s" % (len(wl), ", ".join(opts["system_namespaces"])),
        "rbac": "%d binding subject(s)" % len(rbac.grants),
        "roles": "%d Role/ClusterRole(s)" % (len(inv.get("Role")) + len(inv.get("ClusterRole"))),
        "sa": "%d service account(s)" % len(inv.get("ServiceAccount")),
        "ns": "%d namespace(s)" % len([n for n in inv.get("Namespace")
                                       if metadata(n).get("name") not in opts["system_namespaces"]]),
    }
    rules = {}
    all_findings = []
    for rule, (cid, expected) in RULES.items():
        needed = RULE_KINDS.get(rule, ())
        missing = [k for k in needed if k not in inv.present]
        if rule in RULE_KINDS and RULE_KINDS[rule] == ("Pod",):
            # any workload kind will do; pods alone are enough
            missing = [] if any(k in inv.present for k in WORKLOAD_KINDS) else ["Pod or a workload kind"]
        if rule == "default_namespace" and not inv.present:
            missing = ["any object"]
        kept, exempted = [], []
        for item in raw[rule]:
            ex = _exempt(item, opts["exemptions"])
            if ex:
                exempted.append(dict(item, exemption=ex["reason"]))
            else:
                kept.append(item)
        kept.sort(key=lambda f: (f["object"], f.get("container") or "", f.get("subject") or "", f["reason"]))
        what = ("rbac" if rule in ACCESS_RULES or rule == "cluster_admin_bindings" else
                "roles" if rule == "wildcard_rules" else
                "ns" if rule in ("psa_enforce_labels", "network_policies") else
                "sa" if rule == "default_service_accounts" else "pod")
        rules[rule] = {"id": cid, "rule": rule, "expected": expected, "judged": not missing, "missing": missing,
                       "checked": checked[what] if rule != "default_namespace" else "the default namespace",
                       "findings": kept if not missing else [], "exempted": exempted}
        if not missing:
            all_findings.extend(kept)
    return {
        "rules": rules,
        "findings": all_findings,
        "messages": messages,
        "inventory": dict((k, len(v)) for k, v in sorted(inv.objects.items())),
        "kubernetes_version": kubernetes_version(inv),
    }


def judge_control(rule, evidence):
    """A control result (status, reason, expected, actual, findings) for the catalog rule ``rule``."""
    entry = as_dict(as_dict(evidence).get("rules")).get(rule)
    none = {"running": None, "configured": None}
    if entry is None:
        return {"status": "WARN", "expected": None, "actual": none,
                "reason": "rule %r is not known to the cluster audit" % rule, "findings": []}
    if not entry["judged"]:
        return {"status": "WARN", "expected": entry["expected"], "actual": none, "findings": [],
                "reason": "not judged: the input has no %s (dump them too, see docs/cluster-audit.md)"
                          % ", ".join(entry["missing"])}
    items = entry["findings"]
    exempted = entry["exempted"]
    note = "; %d exempted" % len(exempted) if exempted else ""
    if not items:
        return {"status": "PASS", "expected": entry["expected"], "findings": [], "exempted": exempted,
                "actual": {"running": None, "configured": "no findings in %s" % entry["checked"]},
                "reason": "no findings in %s%s" % (entry["checked"], note)}
    lines = ["%s%s: %s" % (f["object"], " container %s" % f["container"] if f.get("container") else "",
                           f["reason"]) for f in items]
    shown = "; ".join(lines[:MAX_REASON_FINDINGS])
    if len(lines) > MAX_REASON_FINDINGS:
        shown += "; ... (%d more)" % (len(lines) - MAX_REASON_FINDINGS)
    return {"status": "FAIL", "expected": entry["expected"], "findings": items, "exempted": exempted,
            "actual": {"running": None, "configured": "%d finding(s)" % len(items)},
            "reason": "%d finding(s)%s: %s" % (len(items), note, shown)}
