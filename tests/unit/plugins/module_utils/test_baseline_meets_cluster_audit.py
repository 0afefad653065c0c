# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two halves of the policy layer agree: what the namespace_baseline role renders for tenant namespaces
passes the cluster audit's namespace rules (CIS 5.1.5, 5.2.1, 5.3.2), and removing a piece of it is found."""
from __future__ import annotations

import copy

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cluster_audit
from ansible_collections.secure_cluster.k8s.plugins.module_utils import namespace_baseline as nsb

from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils.test_namespace_baseline import settings

RULES = ("psa_enforce_labels", "network_policies", "default_service_accounts")


def findings(objects):
    result = cluster_audit.audit(objects)
    return dict((rule, [f["object"] for f in result["rules"][rule]["findings"]]) for rule in RULES)


def objects_of(manifests):
    by_kind = {"Namespace": [], "NetworkPolicy": [], "ServiceAccount": [], "RoleBinding": [],
               "ClusterRoleBinding": [], "Role": [], "ClusterRole": [], "Pod": []}
    for manifest in copy.deepcopy(manifests):
        by_kind.setdefault(manifest["kind"], []).append(manifest)
    return by_kind


def test_rendered_baseline_passes_the_namespace_rules():
    manifests = nsb.render(settings())
    assert sorted(n["metadata"]["name"] for n in manifests if n["kind"] == "Namespace") == [
        "checkout", "payments", "shop-dev"]
    assert findings(objects_of(manifests)) == {rule: [] for rule in RULES}


def test_a_missing_piece_of_the_baseline_is_found():
    manifests = nsb.render(settings())
    objects = objects_of(manifests)
    ns = next(n for n in objects["Namespace"] if n["metadata"]["name"] == "payments")
    del ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
    objects["NetworkPolicy"] = [p for p in objects["NetworkPolicy"] if p["metadata"]["namespace"] != "checkout"]
    sa = next(s for s in objects["ServiceAccount"] if s["metadata"]["namespace"] == "shop-dev")
    sa.pop("automountServiceAccountToken", None)
    got = findings(objects)
    assert got["psa_enforce_labels"] == ["Namespace/payments"]
    assert got["network_policies"] == ["Namespace/checkout"]
    assert got["default_service_accounts"] == ["ServiceAccount/shop-dev/default"]
