# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The namespace_baseline filters: schema validation with kubernetes-validate for every supported minor, the
GitOps files (stable bytes) and the errors the role shows."""
from __future__ import annotations

import copy
import importlib.util
import os
import sys

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.secure_cluster.k8s.plugins.filter import namespace_baseline as flt
from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_flags

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "nsb_unit_settings", os.path.join(HERE, "..", "module_utils", "test_namespace_baseline.py"))
_settings_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_settings_module)
settings = _settings_module.settings

pytest.importorskip("kubernetes_validate")


def test_filters_are_registered():
    assert set(flt.FilterModule().filters()) == {
        "namespace_baseline_problems", "namespace_baseline_manifests", "namespace_baseline_schema_problems",
        "namespace_baseline_files"}


@pytest.mark.parametrize("minor", k8s_flags.SUPPORTED_MINORS)
def test_rendered_baseline_validates_strictly_for_every_supported_minor(minor):
    manifests = flt.namespace_baseline_manifests(settings(kubernetes_version=minor))
    kinds = {"Namespace", "ServiceAccount", "ResourceQuota", "LimitRange", "NetworkPolicy"}
    assert {m["kind"] for m in manifests} == kinds
    assert flt.namespace_baseline_schema_problems(manifests, minor) == []


def test_supported_minors_are_1_28_to_1_37():
    assert k8s_flags.SUPPORTED_MINORS[0] == "1.28" and k8s_flags.SUPPORTED_MINORS[-1] == "1.37"


def test_broken_manifests_are_rejected_with_the_validator_message():
    manifests = flt.namespace_baseline_manifests(settings())
    broken = copy.deepcopy(manifests)
    policy = next(m for m in broken if m["kind"] == "NetworkPolicy")
    policy["spec"]["policyType"] = policy["spec"].pop("policyTypes")
    quota = next(m for m in broken if m["kind"] == "ResourceQuota")
    quota["spec"]["hard"] = ["pods"]
    found = flt.namespace_baseline_schema_problems(broken, "1.33")
    assert len(found) == 2
    assert found[0].startswith("ResourceQuota checkout/tenant-quota: spec.hard: ")
    assert "is not of type 'object'" in found[0] and "(Kubernetes 1.33 schema, strict)" in found[0]
    assert found[1].startswith("NetworkPolicy checkout/allow-dns: spec: ")
    assert "'policyType' was unexpected" in found[1]
    # The same typo passes a non-strict schema: strict is what catches misspelt fields.
    assert flt.namespace_baseline_schema_problems([policy], "1.33", strict=False) == []


def test_unknown_kind_and_garbage_are_problems_not_crashes():
    found = flt.namespace_baseline_schema_problems(
        [{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, {"kind": "Secret"}], "1.33")
    assert found[0].startswith("Widget w: Couldn't find schema for kind Widget")
    assert "not a Kubernetes object" in found[1]


def test_version_outside_the_supported_range_is_an_error():
    with pytest.raises(AnsibleFilterError, match="1.38 is not supported"):
        flt.namespace_baseline_schema_problems([], "1.38")


def test_missing_kubernetes_validate_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "kubernetes_validate", None)
    with pytest.raises(AnsibleFilterError, match="kubernetes-validate is not installed.*pip install kubernetes-validate"):
        flt.namespace_baseline_schema_problems([], "1.33")


def test_bad_input_raises_a_filter_error_listing_every_problem():
    data = settings()
    data["namespaces"][0]["pod_security"] = {"audit": "loud"}
    data["network_contracts"][0]["to"]["namespace"] = "nowhere"
    with pytest.raises(AnsibleFilterError) as raised:
        flt.namespace_baseline_manifests(data)
    message = str(raised.value)
    assert "pod_security.audit 'loud' is not a Pod Security level" in message
    assert "to.namespace nowhere is not declared" in message
    assert flt.namespace_baseline_problems(data) == message.split("\n")[1:]


class Tagged(str):
    """Stands for the str subclasses Ansible hands to filters (PyYAML's safe dumper refuses subclasses)."""


def test_files_one_per_namespace_with_stable_bytes_and_kustomization():
    data = settings()
    data["namespaces"][0]["team"] = Tagged("payments")
    files = flt.namespace_baseline_files(flt.namespace_baseline_manifests(data))
    assert list(files) == ["checkout.yaml", "kustomization.yaml", "payments.yaml", "shop-dev.yaml"]
    again = flt.namespace_baseline_files(flt.namespace_baseline_manifests(settings()))
    assert again == files
    for text in files.values():
        assert text.startswith(flt.HEADER + "---\n") and text.endswith("\n")
    docs = list(yaml.safe_load_all(files["payments.yaml"]))
    assert [d["kind"] for d in docs][:4] == ["Namespace", "ServiceAccount", "ResourceQuota", "LimitRange"]
    assert all(d["metadata"].get("namespace", "payments") == "payments" for d in docs)
    kustomization = yaml.safe_load(files["kustomization.yaml"])
    assert kustomization == {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                             "resources": ["checkout.yaml", "payments.yaml", "shop-dev.yaml"]}
    assert "kustomization.yaml" not in flt.namespace_baseline_files(flt.namespace_baseline_manifests(data), False)
