# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tenant namespace baseline rendering and input checks, with the role's own defaults."""
from __future__ import annotations

import copy
import os
from decimal import Decimal

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import namespace_baseline as nsb

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..")
PREFIX = "namespace_baseline_"


def role_defaults():
    with open(os.path.join(ROOT, "roles", "namespace_baseline", "defaults", "main.yml"), encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)
    return {k[len(PREFIX):]: v for k, v in defaults.items() if k.startswith(PREFIX)}


def settings(**overrides):
    """The role's defaults (as vars/main.yml maps them) with three tenants and two contracts."""
    result = role_defaults()
    result["default_service_account_automount"] = False
    result["namespaces"] = [
        {"name": "payments", "team": "payments", "env": "prod", "resource_quota": {"requests.cpu": "16"}},
        {"name": "checkout", "team": "shop", "env": "prod", "labels": {"cost-center": "cc-1234"}},
        {"name": "shop-dev", "team": "shop", "env": "dev", "pod_security": {"enforce": "baseline"},
         "allow_intra_namespace": False, "limit_range": {"Container": {"max": {"memory": "4Gi"}}}},
    ]
    result["external_namespaces"] = ["ingress-nginx"]
    result["network_contracts"] = [
        {"name": "checkout-to-payments", "description": "card payments",
         "from": {"namespace": "checkout", "pod_selector": {"app": "checkout"}},
         "to": {"namespace": "payments", "pod_selector": {"app": "payment-api"}},
         "ports": [{"port": 8443}, {"port": 9000, "end_port": 9010, "protocol": "UDP"}]},
        {"name": "ingress-to-checkout", "from": {"namespace": "ingress-nginx"},
         "to": {"namespace": "checkout", "pod_selector": {"app": "checkout"}}, "ports": [{"port": "http"}]},
    ]
    result.update(overrides)
    return result


def find(manifests, kind, namespace, name):
    for manifest in manifests:
        meta = manifest["metadata"]
        if manifest["kind"] == kind and meta["name"] == name and meta.get("namespace", meta["name"]) == namespace:
            return manifest
    raise AssertionError("%s %s/%s not rendered" % (kind, namespace, name))


def names(manifests, namespace):
    return [(m["kind"], m["metadata"]["name"]) for m in manifests if nsb.file_name(m) == "%s.yaml" % namespace]


def test_partial_role_wide_pod_security_and_dns_keep_the_other_defaults():
    defaults = role_defaults()
    assert nsb.PSA_DEFAULTS == defaults["pod_security"] and nsb.DNS_DEFAULTS == defaults["dns"]
    manifests = nsb.render(settings(pod_security={"enforce": "baseline"}, dns={"extra_cidrs": ["169.254.20.10/32"]}))
    labels = find(manifests, "Namespace", "payments", "payments")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    to = find(manifests, "NetworkPolicy", "payments", "allow-dns")["spec"]["egress"][0]["to"]
    assert to[0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    assert to[1] == {"ipBlock": {"cidr": "169.254.20.10/32"}}


def test_defaults_render_without_problems():
    assert nsb.problems(settings()) == []


def test_every_namespace_gets_psa_labels_default_deny_and_dns():
    manifests = nsb.render(settings())
    for name in ("payments", "checkout", "shop-dev"):
        labels = find(manifests, "Namespace", name, name)["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.33"
        assert labels["pod-security.kubernetes.io/warn"] == "restricted"
        assert labels["pod-security.kubernetes.io/audit"] == "restricted"
        assert labels["app.kubernetes.io/managed-by"] == "secure-cluster-k8s"
        deny = find(manifests, "NetworkPolicy", name, "default-deny-all")
        assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        dns = find(manifests, "NetworkPolicy", name, "allow-dns")["spec"]
        assert dns["policyTypes"] == ["Egress"] and dns["podSelector"] == {}
        assert dns["egress"] == [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]
        sa = find(manifests, "ServiceAccount", name, "default")
        assert sa["automountServiceAccountToken"] is False


def test_per_namespace_overrides_merge_one_key():
    manifests = nsb.render(settings())
    checkout = find(manifests, "Namespace", "checkout", "checkout")["metadata"]["labels"]
    assert (checkout["team"], checkout["env"], checkout["cost-center"]) == ("shop", "prod", "cc-1234")
    assert checkout["pod-security.kubernetes.io/enforce"] == "restricted"
    dev = find(manifests, "Namespace", "shop-dev", "shop-dev")["metadata"]["labels"]
    assert dev["pod-security.kubernetes.io/enforce"] == "baseline"
    assert dev["pod-security.kubernetes.io/warn"] == "restricted"
    quota = find(manifests, "ResourceQuota", "payments", "tenant-quota")["spec"]["hard"]
    default_quota = role_defaults()["resource_quota"]
    assert quota["requests.cpu"] == "16"
    assert quota["requests.memory"] == default_quota["requests.memory"]
    assert set(quota) == set(default_quota)
    limits = find(manifests, "LimitRange", "shop-dev", "tenant-limits")["spec"]["limits"]
    container = next(item for item in limits if item["type"] == "Container")
    assert container["max"] == {"memory": "4Gi"}
    assert container["default"] == role_defaults()["limit_range"]["Container"]["default"]
    assert [item["type"] for item in limits] == ["Container", "PersistentVolumeClaim"]


def test_null_removes_a_quota_key_and_switches_turn_objects_off():
    data = settings()
    data["namespaces"][0]["resource_quota"] = {"services.nodeports": None}
    data["namespaces"][1]["resource_quota_enabled"] = False
    data["namespaces"][1]["limit_range_enabled"] = False
    manifests = nsb.render(data)
    assert "services.nodeports" not in find(manifests, "ResourceQuota", "payments", "tenant-quota")["spec"]["hard"]
    kinds = [kind for kind, _name in names(manifests, "checkout")]
    assert "ResourceQuota" not in kinds and "LimitRange" not in kinds
    assert ("ServiceAccount", "default") not in names(nsb.render(settings(default_service_account_automount=None)),
                                                      "payments")


def test_intra_namespace_allow_is_optional():
    manifests = nsb.render(settings())
    same = find(manifests, "NetworkPolicy", "payments", "allow-same-namespace")["spec"]
    assert same["ingress"] == [{"from": [{"podSelector": {}}]}]
    assert same["egress"] == [{"to": [{"podSelector": {}}]}]
    assert ("NetworkPolicy", "allow-same-namespace") not in names(manifests, "shop-dev")


def test_contract_renders_egress_on_source_and_ingress_on_destination():
    manifests = nsb.render(settings())
    egress = find(manifests, "NetworkPolicy", "checkout", "contract-checkout-to-payments-egress")
    assert egress["spec"]["podSelector"] == {"matchLabels": {"app": "checkout"}}
    assert egress["spec"]["policyTypes"] == ["Egress"]
    assert egress["spec"]["egress"] == [{
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "payments"}},
                "podSelector": {"matchLabels": {"app": "payment-api"}}}],
        "ports": [{"protocol": "TCP", "port": 8443}, {"protocol": "UDP", "port": 9000, "endPort": 9010}]}]
    assert egress["metadata"]["annotations"] == {"secure-cluster.io/contract-description": "card payments"}
    ingress = find(manifests, "NetworkPolicy", "payments", "contract-checkout-to-payments-ingress")
    assert ingress["spec"]["podSelector"] == {"matchLabels": {"app": "payment-api"}}
    assert ingress["spec"]["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "checkout"}},
         "podSelector": {"matchLabels": {"app": "checkout"}}}]
    assert ingress["metadata"]["labels"]["secure-cluster.io/network-contract"] == "checkout-to-payments"


def test_contract_from_an_external_namespace_renders_only_the_managed_side():
    manifests = nsb.render(settings())
    ingress = find(manifests, "NetworkPolicy", "checkout", "contract-ingress-to-checkout-ingress")
    assert ingress["spec"]["ingress"] == [{
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}],
        "ports": [{"protocol": "TCP", "port": "http"}]}]
    assert not any(m["metadata"].get("namespace") == "ingress-nginx" for m in manifests)
    assert not any(m["metadata"]["name"] == "contract-ingress-to-checkout-egress" for m in manifests)


def test_order_is_stable_namespace_first_and_deny_after_the_allows():
    data = settings()
    manifests = nsb.render(data)
    shuffled = copy.deepcopy(data)
    shuffled["namespaces"].reverse()
    shuffled["network_contracts"].reverse()
    assert nsb.render(shuffled) == manifests
    assert [nsb.file_name(m) for m in manifests] == sorted(nsb.file_name(m) for m in manifests)
    checkout = names(manifests, "checkout")
    assert checkout[0] == ("Namespace", "checkout")
    assert checkout[-1] == ("NetworkPolicy", "default-deny-all")
    assert checkout.index(("ResourceQuota", "tenant-quota")) < checkout.index(("NetworkPolicy", "allow-dns"))


def test_psa_version_follows_the_cluster_unless_pinned():
    manifests = nsb.render(settings(kubernetes_version="v1.29.7"))
    labels = find(manifests, "Namespace", "payments", "payments")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/audit-version"] == "v1.29"
    data = settings()
    data["namespaces"][0]["pod_security"] = {"version": "latest"}
    labels = find(nsb.render(data), "Namespace", "payments", "payments")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce-version"] == "latest"


def test_dns_extra_cidrs_for_node_local_dns():
    data = settings(dns={"namespace": "kube-system", "pod_selector": {"k8s-app": "kube-dns"},
                         "extra_cidrs": ["169.254.20.10/32"]})
    egress = find(nsb.render(data), "NetworkPolicy", "payments", "allow-dns")["spec"]["egress"][0]
    assert egress["to"][1] == {"ipBlock": {"cidr": "169.254.20.10/32"}}


@pytest.mark.parametrize("mutate, expected", [
    (lambda s: s["namespaces"][0].update({"pod_security": {"enforce": "strict"}}),
     "pod_security.enforce 'strict' is not a Pod Security level"),
    (lambda s: s["pod_security"].update({"version": "1.33"}), "pod_security.version '1.33' must be 'latest'"),
    (lambda s: s["namespaces"].append({"name": "payments", "team": "x", "env": "prod"}),
     "duplicate namespace name, also namespaces[0]"),
    (lambda s: s["namespaces"].append({"name": "Payments", "team": "x", "env": "prod"}), "is not a DNS-1123 label"),
    (lambda s: s["namespaces"].append({"name": "kube-system", "team": "x", "env": "prod"}),
     "kube-system is a system namespace"),
    (lambda s: s["namespaces"][0].update({"team": "payments team"}), "label team: value 'payments team'"),
    (lambda s: s["namespaces"][0].update({"env": "x" * 64}), "must be at most 63 characters"),
    (lambda s: s["namespaces"][0].update({"env": ""}), "env is required"),
    (lambda s: s["namespaces"][0].update({"labels": {"pod-security.kubernetes.io/enforce": "privileged"}}),
     "is set by the role"),
    (lambda s: s["namespaces"][0].update({"labels": {"Bad_Prefix/x": "y"}}), "is not a DNS subdomain"),
    (lambda s: s["namespaces"][0].update({"labels": {"tier": 3}}), "is not a string"),
    (lambda s: s["namespaces"][0].update({"quota": {}}), "unknown keys quota"),
    (lambda s: s["network_contracts"][0]["ports"].append({"port": 70000}), "port 70000 is outside 1-65535"),
    (lambda s: s["network_contracts"][0]["ports"].append({"port": 0}), "port 0 is outside 1-65535"),
    (lambda s: s["network_contracts"][0]["ports"].append({"port": "https_"}), "valid port name"),
    (lambda s: s["network_contracts"][0]["ports"].append({"port": 80, "protocol": "ICMP"}),
     "protocol 'ICMP' is not one of TCP, UDP, SCTP"),
    (lambda s: s["network_contracts"][0]["ports"].append({"port": 90, "end_port": 80}), "end_port 80 is lower"),
    (lambda s: s["network_contracts"][0].update({"ports": []}), "ports must be a non-empty list"),
    (lambda s: s["network_contracts"][0]["to"].update({"namespace": "paymnets"}),
     "to.namespace paymnets is not declared"),
    (lambda s: s["network_contracts"].append(dict(s["network_contracts"][1])), "duplicate contract name"),
    (lambda s: s["network_contracts"][0].update({"to": {"namespace": ["payments"]}}),
     "to must be a mapping with namespace"),
    (lambda s: s["namespaces"].append("payments"), "namespaces[3]: must be a mapping"),
    (lambda s: s["network_contracts"][0].update({"name": "x" * 47}), "at most 46 characters"),
    (lambda s: s["network_contracts"][0]["from"].update({"pod_selector": {"app": "a b"}}), "label app: value 'a b'"),
    (lambda s: s["network_contracts"].append({"name": "ext", "from": {"namespace": "ingress-nginx"},
                                              "to": {"namespace": "ingress-nginx"}, "ports": [{"port": 1}]}),
     "neither ingress-nginx nor ingress-nginx is a managed namespace"),
    (lambda s: s["external_namespaces"].append("payments"), "payments is also a managed namespace"),
    (lambda s: s["resource_quota"].update({"requests.cpu": "lots"}), "'lots' is not a Kubernetes quantity"),
    (lambda s: s["limit_range"]["Container"]["default"].update({"memory": "16Gi"}),
     "default.memory 16Gi is greater than max.memory 8Gi"),
    (lambda s: s["limit_range"].update({"Node": {}}), "Node is not a LimitRange type"),
    (lambda s: s["dns"].update({"extra_cidrs": ["169.254.20.10"]}), "is not a CIDR"),
])
def test_bad_input_is_refused_with_a_clear_sentence(mutate, expected):
    data = settings()
    mutate(data)
    found = nsb.problems(data)
    assert any(expected in sentence for sentence in found), found
    with pytest.raises(ValueError) as raised:
        nsb.render(data)
    assert expected in str(raised.value)


def test_unsupported_kubernetes_version_is_refused():
    assert nsb.problems(settings(kubernetes_version="1.27")) == [
        "kubernetes_version: Kubernetes 1.27 is not supported (supported minors: "
        "1.28, 1.29, 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36, 1.37)"]


def test_all_problems_are_reported_at_once():
    data = settings()
    data["namespaces"][0]["pod_security"] = {"enforce": "strict"}
    data["network_contracts"][0]["ports"] = [{"port": 0}]
    assert len(nsb.problems(data)) == 2


@pytest.mark.parametrize("text, value", [
    ("500m", Decimal("0.5")), ("2", Decimal(2)), (4, Decimal(4)), ("1Ki", Decimal(1024)), ("1.5Gi", Decimal(1610612736)),
    ("1e3", Decimal(1000)), ("100M", Decimal(10 ** 8)), ("250u", Decimal("0.00025"))])
def test_parse_quantity(text, value):
    assert nsb.parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "1KB", "Gi", "1.2.3", True, None, "1 Gi"])
def test_parse_quantity_refuses_garbage(text):
    with pytest.raises(ValueError):
        nsb.parse_quantity(text)


def test_merge_is_recursive_and_null_removes():
    base = {"a": {"x": 1, "y": 2}, "b": 1}
    assert nsb.merge(base, {"a": {"y": None, "z": 3}, "c": 4}) == {"a": {"x": 1, "z": 3}, "b": 1, "c": 4}
    assert base == {"a": {"x": 1, "y": 2}, "b": 1}
