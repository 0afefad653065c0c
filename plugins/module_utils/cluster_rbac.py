# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster audit's RBAC rules (CIS 5.1): who holds which verbs through which binding, wildcard roles, the default
service accounts. Standard library only.

Which subjects and roles are built in, and so not findings, is documented in ``cluster_audit`` and
docs/cluster-audit.md; ``Rbac.trusted`` and ``builtin_role`` decide it.
"""

from __future__ import annotations

from ansible_collections.secure_cluster.k8s.plugins.module_utils.cluster_inventory import as_dict, as_list, metadata
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cluster_rules import finding, match_any, ref

RBAC_KINDS = ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
# (verbs, apiGroup, resources) a subject must not hold, per RBAC access rule; "cluster_only" judges only
# cluster-wide grants (ClusterRoleBindings).
ACCESS_RULES = {
    "secret_access": {"verbs": ("get", "list", "watch"), "group": "", "resources": ("secrets",),
                      "cluster_only": True},
    "pod_create_access": {"verbs": ("create",), "group": "", "resources": ("pods",)},
    "rbac_escalation_verbs": [
        {"verbs": ("escalate", "bind"), "group": "rbac.authorization.k8s.io", "resources": ("roles", "clusterroles")},
        {"verbs": ("impersonate",), "group": "", "resources": ("users", "groups", "serviceaccounts")},
        {"verbs": ("impersonate",), "group": "authentication.k8s.io", "resources": ("userextras/*", "uids")},
    ],
    "pv_create_access": {"verbs": ("create",), "group": "", "resources": ("persistentvolumes",)},
    "node_proxy_access": {"verbs": ("get", "create", "update", "patch", "delete"), "group": "",
                          "resources": ("nodes/proxy",)},
    "csr_approval_access": {"verbs": ("update", "patch"), "group": "certificates.k8s.io",
                            "resources": ("certificatesigningrequests/approval",)},
    "webhook_config_access": {"verbs": ("create", "update", "patch", "delete"),
                              "group": "admissionregistration.k8s.io",
                              "resources": ("validatingwebhookconfigurations", "mutatingwebhookconfigurations")},
    "sa_token_create_access": {"verbs": ("create",), "group": "", "resources": ("serviceaccounts/token",)},
}
BROAD_GROUPS = ("system:authenticated", "system:unauthenticated", "system:serviceaccounts",
                "system:serviceaccounts:*")
BOOTSTRAP_LABEL = ("kubernetes.io/bootstrapping", "rbac-defaults")


def subject_key(subject, default_ns=None):
    kind = subject.get("kind")
    name = subject.get("name")
    if kind == "ServiceAccount":
        return "ServiceAccount:%s/%s" % (subject.get("namespace") or default_ns, name)
    return "%s:%s" % (kind, name)


# ---------------------------------------------------------------------------------------------------------------
# RBAC
# ---------------------------------------------------------------------------------------------------------------
class Grant(object):
    """One subject holding one role's rules through one binding, cluster-wide (namespace None) or in a
    namespace."""

    def __init__(self, subject, subject_text, namespace, binding, role_ref, rules):
        self.subject = subject
        self.subject_text = subject_text
        self.namespace = namespace
        self.binding = binding
        self.role_ref = role_ref
        self.rules = rules

    @property
    def scope(self):
        return "cluster-wide" if self.namespace is None else "in namespace %s" % self.namespace


class Rbac(object):
    def __init__(self, inv, options):
        self.options = options
        self.messages = []
        self.cluster_roles = dict((metadata(r).get("name"), r) for r in inv.get("ClusterRole"))
        self.roles = dict(((metadata(r).get("namespace"), metadata(r).get("name")), r) for r in inv.get("Role"))
        self.grants = []
        for binding in inv.get("ClusterRoleBinding"):
            self._add_binding(binding, None)
        for binding in inv.get("RoleBinding"):
            self._add_binding(binding, metadata(binding).get("namespace"))

    def _add_binding(self, binding, namespace):
        meta = metadata(binding)
        role_ref = as_dict(binding.get("roleRef"))
        rkind, rname = role_ref.get("kind"), role_ref.get("name")
        if rkind == "ClusterRole":
            role = self.cluster_roles.get(rname)
        elif rkind == "Role" and namespace is not None:
            role = self.roles.get((namespace, rname))
        else:
            role = None
        bkind = "ClusterRoleBinding" if namespace is None else "RoleBinding"
        bref = ref(bkind, namespace, meta.get("name"))
        if role is None:
            self.messages.append("%s refers to %s %s, which is not in the input (grants nothing until it exists)"
                                 % (bref, rkind, rname))
            rules = []
        else:
            rules = [r for r in as_list(role.get("rules")) if isinstance(r, dict)]
        for subject in as_list(binding.get("subjects")):
            if not isinstance(subject, dict) or not subject.get("name"):
                continue
            self.grants.append(Grant(subject, subject_key(subject, namespace), namespace, bref,
                                     "%s/%s" % (rkind, rname), rules))

    def trusted(self, grant):
        """Kubernetes' and kubeadm's own identities, the break-glass and the configured trusted subjects."""
        subj = grant.subject
        kind, name = subj.get("kind"), str(subj.get("name"))
        opts = self.options
        if match_any(grant.subject_text, opts["break_glass"]) or match_any(grant.subject_text, opts["trusted_subjects"]):
            return True
        if kind == "User":
            return name.startswith("system:") and name != "system:anonymous"
        if kind == "Group":
            return match_any(name, opts["trusted_groups"]) and not match_any(name, BROAD_GROUPS)
        if kind == "ServiceAccount":
            return (subj.get("namespace") or grant.namespace) in opts["system_namespaces"]
        return False


def _res_match(pattern, resource):
    if pattern == "*" or pattern == resource:
        return True
    if pattern.startswith("*/") and "/" in resource:
        return resource.split("/", 1)[1] == pattern[2:]
    if pattern.endswith("/*") and "/" in resource:
        return resource.split("/", 1)[0] == pattern[:-2]
    return False


def rule_allows(rule, verbs, group, resources):
    """The verbs of ``verbs`` a policy rule grants on any of ``resources`` of API group ``group`` (rules limited by
    resourceNames do not count: they cannot grant list/watch/create broadly)."""
    if rule.get("resourceNames"):
        return []
    groups = [str(g) for g in as_list(rule.get("apiGroups"))]
    if "*" not in groups and group not in groups:
        return []
    rres = [str(r) for r in as_list(rule.get("resources"))]
    if not any(_res_match(p, want) for p in rres for want in resources):
        return []
    rverbs = [str(v) for v in as_list(rule.get("verbs"))]
    return [v for v in verbs if v in rverbs or "*" in rverbs]


def access_findings(rule, rbac, spec):
    specs = spec if isinstance(spec, list) else [spec]
    found = {}
    for grant in rbac.grants:
        if rbac.trusted(grant):
            continue
        if any(s.get("cluster_only") for s in specs) and grant.namespace is not None:
            continue
        held = []
        for sp in specs:
            verbs = []
            for prule in grant.rules:
                verbs.extend(v for v in rule_allows(prule, sp["verbs"], sp["group"], sp["resources"]) if v not in verbs)
            if verbs:
                held.append("%s %s" % (", ".join(v for v in sp["verbs"] if v in verbs), ", ".join(sp["resources"])))
        if not held:
            continue
        key = (grant.subject_text, grant.binding)
        if key in found:
            continue
        bkind, rest = grant.binding.split("/", 1)
        ns, _sep, name = rest.rpartition("/")
        found[key] = finding(rule, bkind, ns or None, name,
                             "%s can %s %s (via %s -> %s)" % (grant.subject_text, "; ".join(held), grant.scope,
                                                              grant.binding, grant.role_ref),
                             subject=grant.subject_text)
    return list(found.values())


def cluster_admin_findings(rbac):
    out = []
    for grant in rbac.grants:
        if grant.role_ref != "ClusterRole/cluster-admin":
            continue
        if match_any(grant.subject_text, rbac.options["break_glass"]):
            continue
        bkind, rest = grant.binding.split("/", 1)
        ns, _sep, name = rest.rpartition("/")
        out.append(finding("cluster_admin_bindings", bkind, ns or None, name,
                           "%s is bound to cluster-admin %s by %s and is not a break-glass subject"
                           % (grant.subject_text, grant.scope, grant.binding), subject=grant.subject_text))
    return out


def builtin_role(role):
    meta = metadata(role)
    name = str(meta.get("name"))
    labels = as_dict(meta.get("labels"))
    return (role.get("kind") == "ClusterRole" and labels.get(BOOTSTRAP_LABEL[0]) == BOOTSTRAP_LABEL[1]
            and (name == "cluster-admin" or name.startswith("system:")))


def wildcard_findings(inv):
    out = []
    for kind in ("ClusterRole", "Role"):
        for role in inv.get(kind):
            if builtin_role(role):
                continue
            meta = metadata(role)
            where = []
            for index, prule in enumerate(as_list(role.get("rules"))):
                prule = as_dict(prule)
                fields = [f for f in ("verbs", "resources", "apiGroups", "nonResourceURLs")
                          if "*" in [str(x) for x in as_list(prule.get(f))]]
                if fields:
                    where.append("rule %d: %s" % (index + 1, ", ".join("%s '*'" % f for f in fields)))
            if where:
                out.append(finding("wildcard_rules", kind, meta.get("namespace"), meta.get("name"),
                                   "uses wildcards (%s)" % "; ".join(where)))
    return out


# ---------------------------------------------------------------------------------------------------------------
# service accounts
# ---------------------------------------------------------------------------------------------------------------
def sa_bindings(rbac):
    """ServiceAccount "ns/name" -> bindings that name it directly."""
    out = {}
    for grant in rbac.grants:
        if grant.subject.get("kind") == "ServiceAccount":
            out.setdefault(grant.subject_text.split(":", 1)[1], []).append(grant.binding)
    return out


def default_sa_findings(inv, rbac, options):
    out = []
    bindings = sa_bindings(rbac)
    for sa in inv.get("ServiceAccount"):
        meta = metadata(sa)
        ns = meta.get("namespace")
        if meta.get("name") != "default" or ns in options["system_namespaces"]:
            continue
        problems = []
        if sa.get("automountServiceAccountToken") is not False:
            problems.append("automountServiceAccountToken is %s, not false" % (
                "unset" if sa.get("automountServiceAccountToken") is None else sa.get("automountServiceAccountToken")))
        mine = sorted(set(bindings.get("%s/default" % ns, [])))
        if mine:
            problems.append("bound by %s" % ", ".join(mine))
        if problems:
            out.append(finding("default_service_accounts", "ServiceAccount", ns, "default", "; ".join(problems)))
    return out
