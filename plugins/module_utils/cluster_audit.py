# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the CIS Kubernetes Benchmark section 5 (policies) on a cluster's own API objects.

Pure functions, standard library only. Input: the objects of a cluster by kind (what ``kubectl get <kinds> -A
-o json`` or ``kubernetes.core.k8s_info`` return). Output (``audit()``): findings per rule, each with the CIS id,
an object reference and a reason. ``cis_eval.evaluate(..., cluster=audit(...))`` turns them into control results
(findings -> FAIL, none -> PASS) of a pseudo-host named after the cluster, with the node audit's waivers.

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

import fnmatch
import json
import os
import re

# CIS id -> (rule, what is expected). The catalog's section-5 checks name these rules.
RULES = {
    "cluster_admin_bindings": ("5.1.1", "only the break-glass subjects are bound to cluster-admin"),
    "secret_access": ("5.1.2", "no subject outside the system ones can get/list/watch secrets cluster-wide"),
    "wildcard_rules": ("5.1.3", "no Role or ClusterRole uses '*' in verbs, resources or apiGroups"),
    "pod_create_access": ("5.1.4", "no subject outside the system ones can create pods"),
    "default_service_accounts": ("5.1.5", "default service accounts have no bindings and "
                                          "automountServiceAccountToken false"),
    "token_automount": ("5.1.6", "workloads whose service account has no RBAC binding do not mount a token"),
    "rbac_escalation_verbs": ("5.1.8", "no subject outside the system ones has escalate, bind or impersonate"),
    "pv_create_access": ("5.1.9", "no subject outside the system ones can create persistentvolumes"),
    "node_proxy_access": ("5.1.10", "no subject outside the system ones can access nodes/proxy"),
    "csr_approval_access": ("5.1.11", "no subject outside the system ones can update certificatesigningrequests/"
                                      "approval"),
    "webhook_config_access": ("5.1.12", "no subject outside the system ones can change webhook configurations"),
    "sa_token_create_access": ("5.1.13", "no subject outside the system ones can create serviceaccounts/token"),
    "psa_enforce_labels": ("5.2.1", "every namespace has a pod-security.kubernetes.io/enforce label stricter "
                                    "than privileged"),
    "privileged_containers": ("5.2.2", "no container is privileged"),
    "host_pid": ("5.2.3", "no pod uses hostPID"),
    "host_ipc": ("5.2.4", "no pod uses hostIPC"),
    "host_network": ("5.2.5", "no pod uses hostNetwork"),
    "privilege_escalation": ("5.2.6", "every container sets allowPrivilegeEscalation false"),
    "root_containers": ("5.2.7", "every container runs as non-root (runAsNonRoot true or a non-zero runAsUser)"),
    "net_raw_capability": ("5.2.8", "every container drops NET_RAW (or ALL) and does not add it"),
    "added_capabilities": ("5.2.9", "every container drops ALL and adds nothing beyond NET_BIND_SERVICE"),
    "windows_host_process": ("5.2.10", "no Windows HostProcess container"),
    "host_path_volumes": ("5.2.11", "no pod mounts a hostPath volume"),
    "host_ports": ("5.2.12", "no container uses a hostPort"),
    "network_policies": ("5.3.2", "every namespace has at least one NetworkPolicy"),
    "secrets_as_env": ("5.4.1", "no container reads a Secret through env or envFrom"),
    "seccomp_profile": ("5.6.2", "every container runs with seccompProfile RuntimeDefault (or Localhost)"),
    "security_context": ("5.6.3", "every pod or container has a securityContext"),
    "default_namespace": ("5.6.4", "the default namespace holds only what Kubernetes creates there"),
}

# kind -> the plural resource name kubectl and k8s_info use (and what a dump file may be named after).
KINDS = {
    "Namespace": "namespaces", "Node": "nodes", "ServiceAccount": "serviceaccounts",
    "ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings", "Role": "roles",
    "RoleBinding": "rolebindings", "Pod": "pods", "Deployment": "deployments", "ReplicaSet": "replicasets",
    "StatefulSet": "statefulsets", "DaemonSet": "daemonsets", "Job": "jobs", "CronJob": "cronjobs",
    "ReplicationController": "replicationcontrollers", "NetworkPolicy": "networkpolicies",
    "Service": "services", "ConfigMap": "configmaps", "Secret": "secrets", "Endpoints": "endpoints",
    "EndpointSlice": "endpointslices", "Ingress": "ingresses", "PersistentVolumeClaim": "persistentvolumeclaims",
}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job",
                  "CronJob", "Pod")
RBAC_KINDS = ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
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
BROAD_GROUPS = ("system:authenticated", "system:unauthenticated", "system:serviceaccounts",
                "system:serviceaccounts:*")
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
BOOTSTRAP_LABEL = ("kubernetes.io/bootstrapping", "rbac-defaults")
MAX_REASON_FINDINGS = 20


def _d(value):
    return value if isinstance(value, dict) else {}


def _l(value):
    return value if isinstance(value, list) else []


def _meta(obj):
    return _d(obj.get("metadata"))


# ---------------------------------------------------------------------------------------------------------------
# input
# ---------------------------------------------------------------------------------------------------------------
_KIND_BY_NAME = {}
for _kind, _plural in KINDS.items():
    for _alias in (_kind, _kind.lower(), _plural):
        _KIND_BY_NAME[_alias] = _kind


def kind_name(name):
    """``pods`` / ``pod`` / ``Pod`` / ``pods.v1`` -> ``Pod`` (None when not a kind this audit knows)."""
    text = str(name or "").strip()
    if text in _KIND_BY_NAME:
        return _KIND_BY_NAME[text]
    base = text.split(".", maxsplit=1)[0]
    for cand in (base, base.lower(), base.lower().rstrip("s"), base.lower() + "s"):
        if cand in _KIND_BY_NAME:
            return _KIND_BY_NAME[cand]
    return None


class Inventory(object):
    """The cluster's objects by kind, and which kinds the input has at all (an empty list counts)."""

    def __init__(self):
        self.objects = {}
        self.present = set()
        self.messages = []
        self.version = None  # serverVersion of `kubectl version -o json`, when given
        self._uids = set()

    def declare(self, kind):
        if kind:
            self.present.add(kind)
            self.objects.setdefault(kind, [])

    def add(self, obj, kind_hint=None):
        if not isinstance(obj, dict):
            return
        okind = str(obj.get("kind") or "")
        if isinstance(obj.get("items"), list) and (not okind or okind.endswith("List")):
            list_kind = kind_name(okind[:-4]) if okind not in ("", "List") else kind_hint
            self.declare(list_kind)
            for item in _l(obj.get("items")):
                self.add(item, list_kind)
            return
        kind = obj.get("kind") or kind_hint
        if kind not in KINDS:
            kind = kind_name(kind) if kind else None
        if kind is None:
            return
        uid = _meta(obj).get("uid")
        key = uid or (kind, _meta(obj).get("namespace"), _meta(obj).get("name"))
        if key in self._uids:
            return
        self._uids.add(key)
        self.declare(kind)
        if obj.get("kind") != kind:
            obj = dict(obj, kind=kind)
        self.objects[kind].append(obj)

    def get(self, kind):
        return self.objects.get(kind, [])


def load(source, inventory=None):
    """Fill an Inventory from any of: a dict kind -> list of objects (or -> a k8s_info result with
    ``resources``); a kubectl List; a single object; a k8s_info result (``resources``); a looped k8s_info
    result (``results``, each with ``item`` naming the kind); a list of any of these."""
    inv = inventory or Inventory()
    if isinstance(source, list):
        for entry in source:
            load(entry, inv)
        return inv
    if not isinstance(source, dict):
        return inv
    if isinstance(source.get("serverVersion"), dict):  # kubectl version -o json
        inv.version = str(source["serverVersion"].get("gitVersion") or "").lstrip("v") or None
        return inv
    if isinstance(source.get("results"), list) and "kind" not in source:
        for entry in source["results"]:
            load(entry, inv)
        return inv
    if isinstance(source.get("resources"), list) and "kind" not in source:
        hint = source.get("item")
        if isinstance(hint, dict):
            hint = hint.get("kind")
        if not isinstance(hint, str):
            hint = _d(_d(source.get("invocation")).get("module_args")).get("kind")
        kind = kind_name(hint) if hint else None
        if source.get("failed"):
            inv.messages.append("listing %s failed: %s" % (hint or "objects", source.get("msg")))
            return inv
        inv.declare(kind)
        for obj in source["resources"]:
            inv.add(obj, kind)
        return inv
    if "kind" in source or "items" in source or "metadata" in source:
        inv.add(source)
        return inv
    for key, value in source.items():  # kind -> list / k8s_info result
        kind = kind_name(key)
        if kind is None:
            inv.messages.append("input key %r is not a kind this audit reads; ignored" % key)
            continue
        inv.declare(kind)
        if isinstance(value, dict) and isinstance(value.get("resources"), list):
            value = value["resources"]
        if isinstance(value, dict) and "items" in value:
            value = value["items"]
        for obj in _l(value):
            inv.add(obj, kind)
    return inv


def read_dump_dir(path, parse_yaml_all=None):
    """An Inventory from a directory of ``*.json`` (and, with ``parse_yaml_all`` such as PyYAML's
    ``safe_load_all``, ``*.yaml``/``*.yml``) files: kubectl Lists or single objects. A file named after a
    resource (``networkpolicies.json``) declares that kind even when its List is empty."""
    inv = Inventory()
    names = sorted(n for n in os.listdir(path) if n.endswith((".json", ".yaml", ".yml")))
    for name in names:
        full = os.path.join(path, name)
        if not os.path.isfile(full):
            continue
        stem = name.rsplit(".", 1)[0]
        with open(full) as handle:
            text = handle.read()
        try:
            if name.endswith(".json"):
                docs = [json.loads(text)]
            elif parse_yaml_all is None:
                inv.messages.append("%s: YAML but no YAML parser available; skipped" % name)
                continue
            else:
                docs = [d for d in parse_yaml_all(text) if d is not None]
        except Exception as exc:  # pylint: disable=broad-except
            fmt = "JSON" if name.endswith(".json") else "YAML"
            inv.messages.append("%s: not valid %s: %s" % (name, fmt, " ".join(str(exc).split())[:200]))
            continue
        hint = kind_name(stem)
        for doc in docs:
            if isinstance(doc, dict) and ("kind" in doc or "items" in doc):
                inv.add(doc, hint)
            else:
                load(doc, inv)
    if not names:
        inv.messages.append("%s has no *.json or *.yaml files" % path)
    return inv


def kubernetes_version(inv):
    """The API server's version (``kubectl version -o json`` in the input), else the kubelet version of a
    control-plane node (else of any node), or None."""
    if inv.version:
        return inv.version
    nodes = inv.get("Node")
    ranked = sorted(nodes, key=lambda n: 0 if "node-role.kubernetes.io/control-plane" in _d(
        _meta(n).get("labels")) else 1)
    for node in ranked:
        ver = _d(_d(node.get("status")).get("nodeInfo")).get("kubeletVersion")
        if ver:
            return str(ver).lstrip("v")
    return None


# ---------------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------------
def ref(kind, namespace, name, container=None):
    text = "%s/%s/%s" % (kind, namespace, name) if namespace else "%s/%s" % (kind, name)
    return text + (" container %s" % container if container else "")


def finding(rule, obj_kind, namespace, name, reason, container=None, subject=None):
    return {"id": RULES[rule][0], "rule": rule, "kind": obj_kind, "namespace": namespace, "name": name,
            "container": container, "subject": subject, "object": ref(obj_kind, namespace, name),
            "reason": reason}


def _match_any(value, patterns):
    return any(fnmatch.fnmatchcase(str(value), str(pat)) for pat in patterns or [])


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
        self.cluster_roles = dict((_meta(r).get("name"), r) for r in inv.get("ClusterRole"))
        self.roles = dict(((_meta(r).get("namespace"), _meta(r).get("name")), r) for r in inv.get("Role"))
        self.grants = []
        for binding in inv.get("ClusterRoleBinding"):
            self._add_binding(binding, None)
        for binding in inv.get("RoleBinding"):
            self._add_binding(binding, _meta(binding).get("namespace"))

    def _add_binding(self, binding, namespace):
        meta = _meta(binding)
        role_ref = _d(binding.get("roleRef"))
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
            rules = [r for r in _l(role.get("rules")) if isinstance(r, dict)]
        for subject in _l(binding.get("subjects")):
            if not isinstance(subject, dict) or not subject.get("name"):
                continue
            self.grants.append(Grant(subject, subject_key(subject, namespace), namespace, bref,
                                     "%s/%s" % (rkind, rname), rules))

    def trusted(self, grant):
        """Kubernetes' and kubeadm's own identities, the break-glass and the configured trusted subjects."""
        subj = grant.subject
        kind, name = subj.get("kind"), str(subj.get("name"))
        opts = self.options
        if _match_any(grant.subject_text, opts["break_glass"]) or _match_any(grant.subject_text,
                                                                             opts["trusted_subjects"]):
            return True
        if kind == "User":
            return name.startswith("system:") and name != "system:anonymous"
        if kind == "Group":
            return _match_any(name, opts["trusted_groups"]) and not _match_any(name, BROAD_GROUPS)
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
    groups = [str(g) for g in _l(rule.get("apiGroups"))]
    if "*" not in groups and group not in groups:
        return []
    rres = [str(r) for r in _l(rule.get("resources"))]
    if not any(_res_match(p, want) for p in rres for want in resources):
        return []
    rverbs = [str(v) for v in _l(rule.get("verbs"))]
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
        if _match_any(grant.subject_text, rbac.options["break_glass"]):
            continue
        bkind, rest = grant.binding.split("/", 1)
        ns, _sep, name = rest.rpartition("/")
        out.append(finding("cluster_admin_bindings", bkind, ns or None, name,
                           "%s is bound to cluster-admin %s by %s and is not a break-glass subject"
                           % (grant.subject_text, grant.scope, grant.binding), subject=grant.subject_text))
    return out


def builtin_role(role):
    meta = _meta(role)
    name = str(meta.get("name"))
    labels = _d(meta.get("labels"))
    return (role.get("kind") == "ClusterRole" and labels.get(BOOTSTRAP_LABEL[0]) == BOOTSTRAP_LABEL[1]
            and (name == "cluster-admin" or name.startswith("system:")))


def wildcard_findings(inv):
    out = []
    for kind in ("ClusterRole", "Role"):
        for role in inv.get(kind):
            if builtin_role(role):
                continue
            meta = _meta(role)
            where = []
            for index, prule in enumerate(_l(role.get("rules"))):
                prule = _d(prule)
                fields = [f for f in ("verbs", "resources", "apiGroups", "nonResourceURLs")
                          if "*" in [str(x) for x in _l(prule.get(f))]]
                if fields:
                    where.append("rule %d: %s" % (index + 1, ", ".join("%s '*'" % f for f in fields)))
            if where:
                out.append(finding("wildcard_rules", kind, meta.get("namespace"), meta.get("name"),
                                   "uses wildcards (%s)" % "; ".join(where)))
    return out


# ---------------------------------------------------------------------------------------------------------------
# service accounts
# ---------------------------------------------------------------------------------------------------------------
def _sa_bindings(rbac):
    """ServiceAccount "ns/name" -> bindings that name it directly."""
    out = {}
    for grant in rbac.grants:
        if grant.subject.get("kind") == "ServiceAccount":
            out.setdefault(grant.subject_text.split(":", 1)[1], []).append(grant.binding)
    return out


def default_sa_findings(inv, rbac, options):
    out = []
    bindings = _sa_bindings(rbac)
    for sa in inv.get("ServiceAccount"):
        meta = _meta(sa)
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


# ---------------------------------------------------------------------------------------------------------------
# workloads
# ---------------------------------------------------------------------------------------------------------------
def pod_spec(obj):
    kind = obj.get("kind")
    spec = _d(obj.get("spec"))
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return _d(_d(_d(_d(spec.get("jobTemplate")).get("spec")).get("template")).get("spec"))
    return _d(_d(spec.get("template")).get("spec"))


def workloads(inv, options):
    """The objects whose pod spec is judged: controllers and bare pods, each once. An object owned (directly or
    through its owners) by a judged controller is left out; when the owner is not in the input, a ReplicaSet/Job
    named ``<owner>-<suffix>`` links a pod to its Deployment/CronJob."""
    by_uid = {}
    by_name = {}
    for kind in WORKLOAD_KINDS:
        for obj in inv.get(kind):
            meta = _meta(obj)
            if meta.get("uid"):
                by_uid[meta["uid"]] = obj
            by_name[(kind, meta.get("namespace"), meta.get("name"))] = obj

    def owner_of(obj):
        meta = _meta(obj)
        for oref in _l(meta.get("ownerReferences")):
            oref = _d(oref)
            if oref.get("kind") not in WORKLOAD_KINDS:
                continue
            owner = by_uid.get(oref.get("uid")) or by_name.get((oref.get("kind"), meta.get("namespace"),
                                                                oref.get("name")))
            if owner is not None:
                return owner
            parent = {"ReplicaSet": "Deployment", "Job": "CronJob"}.get(oref.get("kind"))
            if parent:
                stem = re.sub(r"-[a-z0-9]+$", "", str(oref.get("name")))
                owner = by_name.get((parent, meta.get("namespace"), stem))
                if owner is not None:
                    return owner
        return None

    out = []
    for kind in WORKLOAD_KINDS:
        for obj in inv.get(kind):
            if _meta(obj).get("namespace") in options["system_namespaces"]:
                continue
            if owner_of(obj) is not None:
                continue
            out.append(obj)
    return out


def containers(spec):
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for cont in _l(spec.get(field)):
            if isinstance(cont, dict):
                yield cont


def _caps(sc):
    caps = _d(sc.get("capabilities"))
    return [str(c).upper() for c in _l(caps.get("add"))], [str(c).upper() for c in _l(caps.get("drop"))]


def _eff(csc, psc, key):
    """Container securityContext value, else the pod's."""
    return csc[key] if csc.get(key) is not None else psc.get(key)


def judge_pod_spec(obj, spec):
    meta = _meta(obj)
    kind, ns, name = obj.get("kind"), meta.get("namespace"), meta.get("name")
    out = []

    def add(rule, reason, container=None):
        out.append(finding(rule, kind, ns, name, reason, container=container))

    for field, rule in (("hostNetwork", "host_network"), ("hostPID", "host_pid"), ("hostIPC", "host_ipc")):
        if spec.get(field) is True:
            add(rule, "spec.%s is true" % field)
    for vol in _l(spec.get("volumes")):
        if isinstance(vol, dict) and "hostPath" in vol:
            path = _d(vol.get("hostPath")).get("path")
            add("host_path_volumes", "volume %s mounts hostPath %s" % (vol.get("name"), path))
    psc = _d(spec.get("securityContext"))
    for cont in containers(spec):
        cname = cont.get("name")
        csc = _d(cont.get("securityContext"))
        if csc.get("privileged") is True:
            add("privileged_containers", "securityContext.privileged is true", cname)
        if csc.get("allowPrivilegeEscalation") is not False:
            add("privilege_escalation", "allowPrivilegeEscalation is %s" % (
                "unset (defaults to true)" if csc.get("allowPrivilegeEscalation") is None else "true"), cname)
        uid = _eff(csc, psc, "runAsUser")
        nonroot = _eff(csc, psc, "runAsNonRoot")
        if uid == 0 or str(uid) == "0":
            add("root_containers", "runAsUser is 0", cname)
        elif nonroot is not True and uid is None:
            add("root_containers", "neither runAsNonRoot true nor a non-zero runAsUser: runs as the image's user",
                cname)
        added, dropped = _caps(csc)
        if "NET_RAW" in added or "ALL" in added:
            add("net_raw_capability", "adds %s" % ("NET_RAW" if "NET_RAW" in added else "ALL"), cname)
        elif "ALL" not in dropped and "NET_RAW" not in dropped:
            add("net_raw_capability", "does not drop NET_RAW or ALL (the runtime grants NET_RAW by default)", cname)
        extra = [c for c in added if c not in ("NET_BIND_SERVICE",)]
        if extra or "ALL" not in dropped:
            why = []
            if extra:
                why.append("adds %s" % ", ".join(extra))
            if "ALL" not in dropped:
                why.append("does not drop ALL")
            add("added_capabilities", "; ".join(why), cname)
        if _d(_eff(csc, psc, "windowsOptions")).get("hostProcess") is True:
            add("windows_host_process", "windowsOptions.hostProcess is true", cname)
        for port in _l(cont.get("ports")):
            if isinstance(port, dict) and port.get("hostPort"):
                add("host_ports", "hostPort %s" % port["hostPort"], cname)
        for env in _l(cont.get("env")):
            skr = _d(_d(_d(env).get("valueFrom")).get("secretKeyRef"))
            if skr:
                add("secrets_as_env", "env %s from Secret %s key %s" % (env.get("name"), skr.get("name"),
                                                                        skr.get("key")), cname)
        for env_from in _l(cont.get("envFrom")):
            sref = _d(_d(env_from).get("secretRef"))
            if sref:
                add("secrets_as_env", "envFrom Secret %s" % sref.get("name"), cname)
        profile = _d(csc.get("seccompProfile")) or _d(psc.get("seccompProfile"))
        ptype = profile.get("type")
        if ptype not in ("RuntimeDefault", "Localhost"):
            add("seccomp_profile", "seccompProfile is %s" % (ptype or "not set at pod or container level"), cname)
        if not csc and not psc:
            add("security_context", "neither the pod nor the container has a securityContext", cname)
    return out


def token_findings(inv, rbac, wl):
    sa_auto = {}
    for sa in inv.get("ServiceAccount"):
        meta = _meta(sa)
        sa_auto[(meta.get("namespace"), meta.get("name"))] = sa.get("automountServiceAccountToken")
    bound = _sa_bindings(rbac)
    groups_bound = set(g.subject.get("name") for g in rbac.grants if g.subject.get("kind") == "Group")
    out = []
    for obj in wl:
        spec = pod_spec(obj)
        meta = _meta(obj)
        ns = meta.get("namespace")
        sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        mounted = spec.get("automountServiceAccountToken")
        if mounted is None:
            mounted = sa_auto.get((ns, sa))
        if mounted is False:
            continue
        if sa != "default" and (bound.get("%s/%s" % (ns, sa)) or groups_bound & {
                "system:serviceaccounts", "system:serviceaccounts:%s" % ns}):
            continue  # its service account has RBAC (directly or as a member of a group): it talks to the API
        if sa == "default":
            why = "runs as the default service account"
        else:
            why = "service account %s has no RoleBinding or ClusterRoleBinding" % sa
        out.append(finding("token_automount", obj.get("kind"), ns, meta.get("name"),
                           "mounts a service account token (automountServiceAccountToken not false) but %s" % why))
    return out


# ---------------------------------------------------------------------------------------------------------------
# namespaces
# ---------------------------------------------------------------------------------------------------------------
def namespace_findings(inv, options):
    psa, netpol = [], []
    with_policy = set(_meta(p).get("namespace") for p in inv.get("NetworkPolicy"))
    for ns in inv.get("Namespace"):
        name = _meta(ns).get("name")
        if name in options["system_namespaces"]:
            continue
        level = _d(_meta(ns).get("labels")).get(PSA_ENFORCE)
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
            for oref in _l(_meta(obj).get("ownerReferences")):
                owned_uids.add((_meta(obj).get("uid"), _d(oref).get("uid")))
    present_uids = set(_meta(o).get("uid") for kind in inv.objects for o in inv.get(kind))
    for kind in sorted(inv.objects):
        for obj in inv.get(kind):
            meta = _meta(obj)
            if meta.get("namespace") != "default":
                continue
            if _match_any("%s/%s" % (kind, meta.get("name")), options["default_namespace_allowed"]):
                continue
            owners = [_d(o).get("uid") for o in _l(meta.get("ownerReferences"))]
            if any(uid in present_uids for uid in owners if uid):
                continue  # reported through its owner
            if kind == "EndpointSlice" and _d(meta.get("labels")).get("kubernetes.io/service-name"):
                continue  # follows its Service
            if kind == "Endpoints" and any(_meta(s).get("name") == meta.get("name") and
                                           _meta(s).get("namespace") == "default" for s in inv.get("Service")):
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
    for key, value in _d(options).items():
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
        if any(_match_any(t, [ex["object"]]) for t in targets if t):
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
                                       if _meta(n).get("name") not in opts["system_namespaces"]]),
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
    entry = _d(_d(evidence).get("rules")).get(rule)
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
