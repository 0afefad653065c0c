# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster audit on tests/fixtures/cluster_dump: a kubeadm v1.33 cluster (kube-system as kubeadm makes it,
Kubernetes' default RBAC) with planted violations of every rule and clean objects that must not be flagged."""
from __future__ import annotations

import copy
import json
import os

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cluster_audit as ca
from ansible_collections.secure_cluster.k8s.plugins.module_utils import cluster_inventory, cluster_rbac, cluster_rules
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_eval import evaluate, validate_catalog
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node

HERE = os.path.dirname(__file__)
DUMP = os.path.join(HERE, "..", "..", "..", "fixtures", "cluster_dump")
CATALOG_PATH = os.path.join(HERE, "..", "..", "..", "..", "catalog", "cis_kubernetes_v1.12.yml")

# rule -> the findings the fixture must give, as "object[ container]" (exact: anything else is a false positive)
EXPECTED = {
    "cluster_admin_bindings": {"ClusterRoleBinding/dev-admins", "ClusterRoleBinding/tiller-admin",
                               "RoleBinding/legacy/legacy-admin"},
    "secret_access": {"ClusterRoleBinding/authenticated-secret-reader", "ClusterRoleBinding/dev-admins",
                      "ClusterRoleBinding/ops-superusers"},
    "wildcard_rules": {"ClusterRole/ops-superuser", "ClusterRole/system:fake-admin", "Role/legacy/everything"},
    "pod_create_access": {"ClusterRoleBinding/anonymous-pods", "ClusterRoleBinding/dev-admins",
                          "ClusterRoleBinding/ops-superusers", "RoleBinding/legacy/legacy-admin",
                          "RoleBinding/payments/deployer"},
    "default_service_accounts": {"ServiceAccount/ci/default", "ServiceAccount/default/default",
                                 "ServiceAccount/legacy/default", "ServiceAccount/monitoring/default"},
    "token_automount": {"DaemonSet/monitoring/node-exporter", "Deployment/legacy/legacy-app", "Pod/ci/debug-shell"},
    "rbac_escalation_verbs": {"ClusterRoleBinding/dev-admins", "ClusterRoleBinding/impersonators",
                              "ClusterRoleBinding/ops-superusers", "ClusterRoleBinding/rbac-managers",
                              "RoleBinding/legacy/legacy-admin"},
    "pv_create_access": {"ClusterRoleBinding/dev-admins", "ClusterRoleBinding/ops-superusers",
                         "ClusterRoleBinding/platform-tools", "RoleBinding/legacy/legacy-admin"},
    "node_proxy_access": {"ClusterRoleBinding/dev-admins", "ClusterRoleBinding/ops-superusers",
                          "ClusterRoleBinding/platform-tools", "RoleBinding/legacy/legacy-admin"},
    "csr_approval_access": {"ClusterRoleBinding/dev-admins", "ClusterRoleBinding/ops-superusers",
                            "ClusterRoleBinding/platform-tools", "RoleBinding/legacy/legacy-admin"},
    "webhook_config_access": {"ClusterRoleBinding/dev-admins", "ClusterRoleBinding/ops-superusers",
                              "ClusterRoleBinding/platform-tools", "RoleBinding/legacy/legacy-admin"},
    "sa_token_create_access": {"ClusterRoleBinding/dev-admins", "ClusterRoleBinding/ops-superusers",
                               "ClusterRoleBinding/platform-tools", "RoleBinding/legacy/legacy-admin"},
    "psa_enforce_labels": {"Namespace/default", "Namespace/legacy", "Namespace/monitoring"},
    "privileged_containers": {"CronJob/ci/nightly-build build"},
    "host_pid": {"DaemonSet/monitoring/node-exporter"},
    "host_ipc": {"CronJob/ci/nightly-build"},
    "host_network": {"DaemonSet/monitoring/node-exporter", "Pod/ci/win-agent"},
    "privilege_escalation": {"CronJob/ci/nightly-build build", "Deployment/legacy/legacy-app app",
                             "Pod/ci/debug-shell shell"},
    "root_containers": {"CronJob/ci/nightly-build build", "Deployment/legacy/legacy-app app",
                        "Pod/ci/debug-shell shell"},
    "net_raw_capability": {"CronJob/ci/nightly-build build", "Deployment/legacy/legacy-app app",
                           "Pod/ci/debug-shell shell"},
    "added_capabilities": {"CronJob/ci/nightly-build build", "Deployment/legacy/legacy-app app",
                           "Pod/ci/debug-shell shell"},
    "windows_host_process": {"Pod/ci/win-agent agent"},
    "host_path_volumes": {"DaemonSet/monitoring/node-exporter"},
    "host_ports": {"DaemonSet/monitoring/node-exporter node-exporter"},
    "network_policies": {"Namespace/ci", "Namespace/default", "Namespace/legacy"},
    "secrets_as_env": {"Deployment/legacy/legacy-app app", "StatefulSet/payments/ledger ledger"},
    "seccomp_profile": {"CronJob/ci/nightly-build build", "DaemonSet/monitoring/node-exporter node-exporter",
                        "Deployment/legacy/legacy-app app", "Pod/ci/debug-shell shell"},
    "security_context": {"Pod/ci/debug-shell shell"},
    "default_namespace": {"Deployment/default/hello", "Service/default/hello"},
}

# Clean objects that must appear in no finding at all (hardened workloads, pods a judged controller owns,
# kube-system, kubeadm's and Kubernetes' own RBAC, narrow roles and bindings).
NEVER_FLAGGED = [
    "Deployment/payments/api", "ReplicaSet/payments/api-7d9f8b6c5", "Pod/payments/api-7d9f8b6c5-abcde",
    "Pod/legacy/legacy-app-5c6d7f9b8-xyz12", "Job/ci/nightly-build-29001234", "Pod/ci/nightly-build-29001234-p8k2d",
    "Pod/payments/ledger-0", "Pod/monitoring/node-exporter-q2w3e",
    "DaemonSet/kube-system/kube-proxy", "Deployment/kube-system/coredns", "Pod/kube-system/kube-apiserver-cp1",
    "Deployment/kube-system/tiller-deploy",
    "Role/payments/configmap-reader", "RoleBinding/payments/configmap-readers",
    "RoleBinding/payments/api-secret-reader",  # secrets in one namespace: not cluster-wide
    "ClusterRoleBinding/cluster-admin", "ClusterRoleBinding/kubeadm:cluster-admins",
    "ClusterRoleBinding/system:kube-controller-manager", "ClusterRoleBinding/system:controller:namespace-controller",
    "ClusterRoleBinding/system:controller:replicaset-controller",
    "ClusterRoleBinding/system:controller:clusterrole-aggregation-controller", "ClusterRoleBinding/kubeadm:node-proxier",
    "ClusterRoleBinding/namespace-listers", "ClusterRoleBinding/tls-cert-readers",
    "ClusterRole/cluster-admin", "ClusterRole/system:controller:namespace-controller", "ClusterRole/admin",
    "ClusterRole/edit",
    "ServiceAccount/payments/default", "ServiceAccount/kube-system/default", "ServiceAccount/payments/api",
    "Namespace/payments", "Namespace/kube-system", "Namespace/kube-public", "Namespace/kube-node-lease",
    "Service/default/kubernetes", "Endpoints/default/kubernetes", "EndpointSlice/default/kubernetes",
    "ConfigMap/default/kube-root-ca.crt",
]


@pytest.fixture(scope="module")
def catalog():
    with open(CATALOG_PATH) as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def inventory():
    return cluster_inventory.read_dump_dir(DUMP, yaml.safe_load_all)


@pytest.fixture(scope="module")
def evidence(inventory):
    return ca.audit(inventory)


def got(evidence, rule):
    return set(f["object"] + (" " + f["container"] if f.get("container") else "")
               for f in evidence["rules"][rule]["findings"])


def raw_objects():
    """The dump as a dict kind -> list of objects (what an online playbook passes)."""
    out = {}
    for name in sorted(os.listdir(DUMP)):
        with open(os.path.join(DUMP, name)) as handle:
            doc = json.load(handle) if name.endswith(".json") else yaml.safe_load(handle)
        kind = cluster_inventory.kind_name(name.rsplit(".", 1)[0])
        if kind:
            out[kind] = doc["items"]
    return out


# ---------------------------------------------------------------------------------------------------------------
# the fixture dump: every finding and every non-finding
# ---------------------------------------------------------------------------------------------------------------
def test_reads_the_whole_dump(inventory, evidence):
    assert evidence["inventory"]["Pod"] == 12
    assert evidence["inventory"]["ClusterRole"] == 20
    assert evidence["inventory"]["NetworkPolicy"] == 3  # from the YAML file
    assert "ReplicationController" in inventory.present and evidence["inventory"]["ReplicationController"] == 0
    assert evidence["kubernetes_version"] == "1.33.4"
    assert evidence["messages"] == [
        "RoleBinding/legacy/missing-role refers to Role does-not-exist, which is not in the input "
        "(grants nothing until it exists)"]


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_each_planted_finding(evidence, rule):
    entry = evidence["rules"][rule]
    assert entry["judged"] is True and entry["missing"] == []
    assert got(evidence, rule) == EXPECTED[rule]
    assert all(f["id"] == cluster_rules.RULES[rule][0] and f["rule"] == rule and f["reason"] for f in entry["findings"])


def test_every_rule_has_a_planted_finding(evidence):
    assert set(EXPECTED) == set(cluster_rules.RULES)
    assert all(evidence["rules"][rule]["findings"] for rule in cluster_rules.RULES)


@pytest.mark.parametrize("obj", NEVER_FLAGGED)
def test_clean_objects_are_not_flagged(evidence, obj):
    assert [f for f in evidence["findings"] if f["object"] == obj] == []


def test_default_service_account_is_allowed_in_the_default_namespace(evidence):
    """kubeadm's default/default is not a 5.6.4 finding; its automounted token is a 5.1.5 one."""
    assert [f["rule"] for f in evidence["findings"] if f["object"] == "ServiceAccount/default/default"] == [
        "default_service_accounts"]


def test_reasons_name_the_evidence(evidence):
    by = dict(((f["rule"], f["object"]), f) for f in evidence["findings"])
    assert by[("secret_access", "ClusterRoleBinding/authenticated-secret-reader")]["reason"] == (
        "Group:system:authenticated can get, list, watch secrets cluster-wide "
        "(via ClusterRoleBinding/authenticated-secret-reader -> ClusterRole/secret-reader)")
    assert by[("secret_access", "ClusterRoleBinding/authenticated-secret-reader")]["subject"] == \
        "Group:system:authenticated"
    assert "in namespace payments" in by[("pod_create_access", "RoleBinding/payments/deployer")]["reason"]
    assert by[("pod_create_access", "RoleBinding/payments/deployer")]["subject"] == "ServiceAccount:ci/deployer"
    assert "bound by RoleBinding/legacy/default-sa-view" in by[
        ("default_service_accounts", "ServiceAccount/legacy/default")]["reason"]
    assert by[("rbac_escalation_verbs", "ClusterRoleBinding/impersonators")]["reason"].startswith(
        "User:bob can impersonate users, groups, serviceaccounts cluster-wide")
    legacy = [f for f in evidence["findings"] if f["object"] == "Deployment/legacy/legacy-app"]
    reasons = dict((f["rule"], f["reason"]) for f in legacy)
    assert reasons["root_containers"] == "runAsUser is 0"
    assert reasons["added_capabilities"] == "adds NET_ADMIN, SYS_TIME; does not drop ALL"
    assert reasons["secrets_as_env"] == "envFrom Secret legacy-env"
    assert all(f["namespace"] == "legacy" and f["kind"] == "Deployment" for f in legacy)
    assert set(f["container"] for f in legacy if f["rule"] != "token_automount") == {"app"}
    assert [f["container"] for f in legacy if f["rule"] == "token_automount"] == [None]  # a pod-level finding


# ---------------------------------------------------------------------------------------------------------------
# options
# ---------------------------------------------------------------------------------------------------------------
def test_break_glass_option(inventory):
    ev = ca.audit(inventory, {"break_glass": ["Group:system:masters", "Group:kubeadm:cluster-admins", "User:alice"]})
    assert got(ev, "cluster_admin_bindings") == {"ClusterRoleBinding/tiller-admin", "RoleBinding/legacy/legacy-admin"}
    assert "ClusterRoleBinding/dev-admins" not in got(ev, "secret_access")  # break-glass is trusted everywhere
    ev = ca.audit(inventory, {"break_glass": ["Group:kubeadm:cluster-admins"]})
    assert "ClusterRoleBinding/cluster-admin" in got(ev, "cluster_admin_bindings")


def test_system_namespaces_option(inventory):
    ev = ca.audit(inventory, {"system_namespaces": ["kube-public", "kube-node-lease"]})
    assert "DaemonSet/kube-system/kube-proxy" in got(ev, "host_network")
    assert "DaemonSet/kube-system/kube-proxy kube-proxy" in got(ev, "privileged_containers")
    assert "Pod/kube-system/kube-apiserver-cp1" in got(ev, "host_network")  # mirror pod: owner is a Node
    assert "Pod/kube-system/coredns-674b8bbfcf-4vx8n" not in got(ev, "seccomp_profile")  # judged via coredns
    assert "Deployment/kube-system/coredns coredns" in got(ev, "seccomp_profile")
    # kube-system service accounts are no longer system subjects
    assert "ClusterRoleBinding/system:controller:replicaset-controller" in got(ev, "pod_create_access")


def test_trusted_subjects_and_exemptions(inventory):
    ev = ca.audit(inventory, {
        "trusted_subjects": ["ServiceAccount:ci/*"],
        "exemptions": [{"id": "5.2", "object": "DaemonSet/monitoring/node-exporter",
                        "reason": "node-exporter reads the host (SEC-42)"},
                       {"id": "5.1.2", "object": "Group:ops", "reason": "ops on call"},
                       {"id": "5.2.5", "object": "Pod/ci/*"}]})  # no reason: ignored
    assert "RoleBinding/payments/deployer" not in got(ev, "pod_create_access")
    assert "ClusterRoleBinding/rbac-managers" not in got(ev, "rbac_escalation_verbs")
    assert got(ev, "host_network") == {"Pod/ci/win-agent"}
    assert got(ev, "host_pid") == set() and got(ev, "host_path_volumes") == set()
    assert [e["exemption"] for e in ev["rules"]["host_pid"]["exempted"]] == ["node-exporter reads the host (SEC-42)"]
    assert "ClusterRoleBinding/ops-superusers" not in got(ev, "secret_access")
    assert "ClusterRoleBinding/ops-superusers" in got(ev, "pod_create_access")  # exemption is per id
    assert "exemption #2 needs id, object and reason; ignored" in ev["messages"]


def test_unknown_option_is_reported(inventory):
    ev = ca.audit(inventory, {"break_glas": ["User:x"]})
    assert "unknown cluster audit option 'break_glas' ignored" in ev["messages"]
    assert "ClusterRoleBinding/dev-admins" in got(ev, "cluster_admin_bindings")


# ---------------------------------------------------------------------------------------------------------------
# RBAC resolution
# ---------------------------------------------------------------------------------------------------------------
def test_rule_allows():
    rule = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}
    assert cluster_rbac.rule_allows(rule, ("get", "list", "watch"), "", ("secrets",)) == ["get", "list"]
    assert cluster_rbac.rule_allows(rule, ("get",), "apps", ("secrets",)) == []
    assert cluster_rbac.rule_allows(dict(rule, resourceNames=["one"]), ("get",), "", ("secrets",)) == []
    assert cluster_rbac.rule_allows({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, ("create",), "",
                                    ("nodes/proxy",)) == ["create"]
    assert cluster_rbac.rule_allows({"apiGroups": [""], "resources": ["nodes"], "verbs": ["*"]}, ("get",), "",
                                    ("nodes/proxy",)) == []  # a subresource needs its own grant
    assert cluster_rbac.rule_allows({"apiGroups": [""], "resources": ["*/proxy"], "verbs": ["get"]}, ("get",), "",
                                    ("nodes/proxy",)) == ["get"]
    assert cluster_rbac.rule_allows({"apiGroups": [""], "resources": ["nodes/*"], "verbs": ["get"]}, ("get",), "",
                                    ("nodes/proxy",)) == ["get"]


def rbac_objects(subjects, rules, binding="ClusterRoleBinding", role_kind="ClusterRole", namespace=None):
    meta_ns = {"namespace": namespace} if namespace else {}
    objs = dict((kind, []) for kind in cluster_rbac.RBAC_KINDS)  # every RBAC kind was listed
    objs.update({
        role_kind: [{"kind": role_kind, "metadata": dict(name="r", **meta_ns), "rules": rules}],
        binding: [{"kind": binding, "metadata": dict(name="b", **meta_ns),
                   "roleRef": {"kind": role_kind, "name": "r"}, "subjects": subjects}],
    })
    return objs


def test_group_subjects_and_namespaced_service_accounts():
    rules = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}]
    for group in ("system:authenticated", "system:unauthenticated", "system:serviceaccounts",
                  "system:serviceaccounts:team-a"):
        ev = ca.audit(rbac_objects([{"kind": "Group", "name": group}], rules))
        assert got(ev, "pod_create_access") == {"ClusterRoleBinding/b"}, group
    ev = ca.audit(rbac_objects([{"kind": "Group", "name": "system:nodes"}], rules))
    assert got(ev, "pod_create_access") == set()
    # a RoleBinding's service account subject without namespace is in the binding's namespace
    ev = ca.audit(rbac_objects([{"kind": "ServiceAccount", "name": "app"}], rules, "RoleBinding", "Role", "team-a"))
    assert [f["subject"] for f in ev["rules"]["pod_create_access"]["findings"]] == ["ServiceAccount:team-a/app"]
    ev = ca.audit(rbac_objects([{"kind": "ServiceAccount", "name": "app"}], rules, "RoleBinding", "Role",
                               "kube-system"))
    assert got(ev, "pod_create_access") == set()
    ev = ca.audit(rbac_objects([{"kind": "User", "name": "system:anonymous"}], rules))
    assert got(ev, "pod_create_access") == {"ClusterRoleBinding/b"}


def test_role_binding_to_cluster_role_is_namespaced_for_secrets():
    rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}]
    ev = ca.audit(rbac_objects([{"kind": "User", "name": "eve"}], rules, "RoleBinding", "ClusterRole", "team-a"))
    assert got(ev, "secret_access") == set()
    ev = ca.audit(rbac_objects([{"kind": "User", "name": "eve"}], rules))
    assert got(ev, "secret_access") == {"ClusterRoleBinding/b"}


def test_builtin_roles_need_the_bootstrap_label():
    wild = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["list"]}]
    objs = {"Role": [], "ClusterRole": [
        {"kind": "ClusterRole", "metadata": {"name": "system:controller:x",
                                             "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
         "rules": wild},
        {"kind": "ClusterRole", "metadata": {"name": "system:controller:y"}, "rules": wild},
        {"kind": "ClusterRole", "metadata": {"name": "custom", "labels": {
            "kubernetes.io/bootstrapping": "rbac-defaults"}}, "rules": wild},
    ]}
    assert got(ca.audit(objs), "wildcard_rules") == {"ClusterRole/system:controller:y", "ClusterRole/custom"}


# ---------------------------------------------------------------------------------------------------------------
# input shapes
# ---------------------------------------------------------------------------------------------------------------
def test_objects_dict_gives_the_same_findings(evidence):
    ev = ca.audit(raw_objects())
    assert ev["findings"] == evidence["findings"]


def test_k8s_info_loop_result_without_kinds_on_items(evidence):
    """What register holds after a kubernetes.core.k8s_info loop over {kind, api_version} items."""
    results = []
    for kind, items in raw_objects().items():
        stripped = []
        for obj in items:
            obj = copy.deepcopy(obj)
            obj.pop("kind", None)
            obj.pop("apiVersion", None)
            stripped.append(obj)
        results.append({"changed": False, "resources": stripped, "api_found": True,
                        "item": {"kind": kind, "api_version": "v1"}, "ansible_loop_var": "item"})
    ev = ca.audit({"results": results, "changed": False, "msg": "All items completed"})
    assert ev["findings"] == evidence["findings"]
    failed = cluster_inventory.load({"results": [{"failed": True, "msg": "forbidden", "item": {"kind": "Secret"}, "resources": []}]})
    assert failed.messages == ["listing Secret failed: forbidden"]


def test_combined_list_cannot_tell_missing_kinds():
    """One `kubectl get a,b -A -o json` List: a kind with no objects is unknown, so its rule is not judged."""
    objs = raw_objects()
    combined = {"kind": "List", "apiVersion": "v1",
                "items": objs["Namespace"] + objs["Pod"] + objs["ClusterRole"] + objs["ClusterRoleBinding"]}
    ev = ca.audit(combined)
    assert ev["rules"]["network_policies"]["judged"] is False
    assert ev["rules"]["network_policies"]["missing"] == ["NetworkPolicy"]
    assert ev["rules"]["default_service_accounts"]["missing"] == ["ServiceAccount", "Role", "RoleBinding"]
    assert ev["rules"]["host_network"]["judged"] is True
    result = ca.judge_control("network_policies", ev)
    assert result["status"] == "WARN" and "NetworkPolicy" in result["reason"]


def test_dump_dir_errors(tmp_path):
    (tmp_path / "pods.json").write_text("{not json")
    (tmp_path / "roles.yaml").write_text("kind: List\nitems: []\n")
    inv = cluster_inventory.read_dump_dir(str(tmp_path), None)
    assert inv.messages[0].startswith("pods.json: not valid JSON")
    assert inv.messages[1] == "roles.yaml: YAML but no YAML parser available; skipped"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cluster_inventory.read_dump_dir(str(empty)).messages == ["%s has no *.json or *.yaml files" % empty]


# ---------------------------------------------------------------------------------------------------------------
# evaluation into the node audit's result shape
# ---------------------------------------------------------------------------------------------------------------
def cluster_eval(catalog, evidence, **kwargs):
    kwargs.setdefault("today", "2026-11-27")
    return evaluate({"hostname": "prod", "version": {"kubernetes": evidence["kubernetes_version"]}}, catalog,
                    host="prod", targets=["policies"], cluster=evidence, **kwargs)


def test_catalog_rules_are_known(catalog):
    assert validate_catalog(catalog) == []
    rules = dict((c["id"], c["check"]["rule"]) for c in catalog["controls"]
                 if c["check"] and c["check"].get("rule"))
    assert rules == dict((cid, rule) for rule, (cid, _exp) in cluster_rules.RULES.items())
    broken = copy.deepcopy(catalog)
    ctl = [c for c in broken["controls"] if c["id"] == "5.1.1"][0]
    ctl["check"]["rule"] = "no_such_rule"
    assert validate_catalog(broken) == ["control 5.1.1: unknown cluster rule 'no_such_rule'"]


def test_pseudo_host_evaluation(catalog, evidence):
    result = cluster_eval(catalog, evidence)
    assert result["host"] == "prod"
    assert result["node"]["targets"] == ["policies"] and result["node"]["kubernetes_version"] == "1.33.4"
    controls = dict((c["id"], c) for c in result["controls"])
    assert set(controls) == set(c["id"] for c in catalog["controls"] if c["target"] == "policies")
    judged = set(cid for cid, _exp in cluster_rules.RULES.values())
    assert set(result["failed"]) == judged
    for cid in set(controls) - judged:  # human reviews stay WARN
        assert controls[cid]["status"] == "WARN", cid
    ctl = controls["5.2.5"]
    assert ctl["scored"] is False and ctl["type"] == "manual"
    assert ctl["reason"] == ("2 finding(s): DaemonSet/monitoring/node-exporter: spec.hostNetwork is true; "
                             "Pod/ci/win-agent: spec.hostNetwork is true")
    assert [f["object"] for f in ctl["findings"]] == ["DaemonSet/monitoring/node-exporter", "Pod/ci/win-agent"]
    assert ctl["expected"] == "no pod uses hostNetwork"
    assert result["messages"][0].startswith("RoleBinding/legacy/missing-role")


def test_clean_cluster_passes(catalog):
    """kubeadm's objects plus the hardened payments namespace only: every judged recommendation passes."""
    objs = raw_objects()
    keep_ns = {"kube-system", "kube-public", "kube-node-lease", "payments"}
    clean = {}
    for kind, items in objs.items():
        kept = []
        for obj in items:
            meta = obj["metadata"]
            name, ns = meta["name"], meta.get("namespace")
            if kind == "Namespace":
                if name in keep_ns:
                    kept.append(obj)
            elif kind in ("ClusterRole", "ClusterRoleBinding"):
                if name.startswith(("system:", "kubeadm:")) and name != "system:fake-admin" or name in (
                        "cluster-admin", "admin", "edit", "view", "namespace-listers", "namespace-lister"):
                    kept.append(obj)
            elif ns in keep_ns and name not in ("tiller-deploy", "ledger", "ledger-0", "deployer", "tiller"):
                kept.append(obj)
        clean[kind] = kept
    ev = ca.audit(clean)
    assert ev["findings"] == []
    result = cluster_eval(catalog, ev)
    statuses = dict((c["id"], c["status"]) for c in result["controls"])
    assert set(cid for cid, s in statuses.items() if s == "PASS") == set(cid for cid, _e in cluster_rules.RULES.values())
    assert result["failed"] == []
    assert [c for c in result["controls"] if c["id"] == "5.3.2"][0]["reason"] == "no findings in 1 namespace(s)"


def test_waivers_same_code_path(catalog, evidence):
    waivers = [
        {"id": "5.2.5", "reason": "node-exporter needs the host network (SEC-42)", "expires": "2027-03-31"},
        {"id": "5.4.1", "reason": "ledger moves to file mounts", "expires": "2026-10-31"},  # expired
        {"id": "5.3", "reason": "CNI migration", "hosts": ["staging-*"]},  # another cluster
    ]
    result = cluster_eval(catalog, evidence, waivers=waivers)
    controls = dict((c["id"], c) for c in result["controls"])
    assert controls["5.2.5"]["status"] == "WAIVED" and controls["5.2.5"]["underlying_status"] == "FAIL"
    assert controls["5.2.5"]["reason"].startswith("waived until 2027-03-31: node-exporter needs the host network")
    assert controls["5.4.1"]["status"] == "FAIL" and controls["5.4.1"]["waiver"]["expired"] is True
    assert controls["5.4.1"]["reason"].startswith("waiver expired on 2026-10-31")
    assert controls["5.3.2"]["status"] == "FAIL" and controls["5.3.2"]["waiver"] is None
    assert "5.2.5" not in result["failed"] and "5.4.1" in result["failed"]
    assert result["totals"]["waived"] == 1
    staging = evaluate({"hostname": "staging-1"}, catalog, host="staging-1", targets=["policies"], cluster=evidence,
                       waivers=waivers, today="2026-11-27")
    assert [c["status"] for c in staging["controls"] if c["id"] == "5.3.2"] == ["WAIVED"]


def test_node_audit_keeps_section_5_as_warn(tmp_path, catalog):
    kubeadm_node.build_node(tmp_path)
    result = evaluate(collect(root=str(tmp_path)), catalog, host="cp1", parse_yaml=yaml.safe_load, today="2026-06-01")
    section5 = [c for c in result["controls"] if c["id"].startswith("5.")]
    assert section5 and all(c["status"] == "WARN" for c in section5)
    ctl = [c for c in section5 if c["id"] == "5.2.5"][0]
    assert ctl["reason"] == ("judged on the cluster's API objects, not by a node audit: "
                             "pods with spec.hostNetwork true outside kube-system")
    assert "findings" not in ctl


def test_token_automount_counts_service_account_groups():
    objs = dict((kind, []) for kind in cluster_rbac.RBAC_KINDS)
    objs["ServiceAccount"] = [{"kind": "ServiceAccount", "metadata": {"name": "app", "namespace": "team-a"}}]
    objs["Pod"] = [{"kind": "Pod", "metadata": {"name": "p", "namespace": "team-a"},
                    "spec": {"serviceAccountName": "app", "containers": [{"name": "c"}]}}]
    assert got(ca.audit(objs), "token_automount") == {"Pod/team-a/p"}
    for group in ("system:serviceaccounts:team-a", "system:serviceaccounts"):
        with_group = rbac_objects([{"kind": "Group", "name": group}],
                                  [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}])
        with_group.update(ServiceAccount=objs["ServiceAccount"], Pod=objs["Pod"])
        assert got(ca.audit(with_group), "token_automount") == set(), group
    objs["Pod"][0]["spec"]["automountServiceAccountToken"] = False
    assert got(ca.audit(objs), "token_automount") == set()
