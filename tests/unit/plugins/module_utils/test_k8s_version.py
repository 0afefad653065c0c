# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s_version: the one reader of Kubernetes (and etcd) minors, and the tables that bind their supported set to it."""
from __future__ import annotations

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import (
    cis_catalog,
    etcd_flags,
    k8s_flags,
    k8s_version,
    kubeadm_config,
    kubelet_config,
)


@pytest.mark.parametrize("given,expected", [
    ("v1.34.2", "1.34"),
    ("1.34", "1.34"),
    ("1.34.0-rc.1", "1.34"),
    ("v1.30.0+k3s1", "1.30"),
    ("v1.29.3-gke.1234", "1.29"),
    (" v1.30.2 ", "1.30"),
    ("Kubernetes v1.33.5", "1.33"),  # kubelet --version
    ("v1.037.1", "1.37"),  # numbers, not text
])
def test_minor_reads_what_the_tools_print(given, expected):
    assert k8s_version.minor(given) == expected


@pytest.mark.parametrize("given", [None, 1.33, 133, "", "latest", "1", "v1.x", "1.33.4.5", "v", "1.33-", "kubernetes 1.33",
                                   "etcd 3.5.1", "1.33.4 extra"])
def test_minor_refuses_what_is_not_a_version(given):
    with pytest.raises(ValueError, match="not a Kubernetes version|must be a string"):
        k8s_version.minor(given)


def test_minor_refuses_an_unsupported_minor_naming_the_supported_ones():
    with pytest.raises(ValueError, match=r"Kubernetes 1\.27 is not supported \(supported minors: 1\.28, .*1\.37\)"):
        k8s_version.minor("v1.27.9")
    assert k8s_version.minor("v1.27.9", supported=None) == "1.27"
    assert k8s_version.minor("v3.5.21-0", supported=("3.5",), product="etcd") == "3.5"
    with pytest.raises(ValueError, match="etcd 3.3 is not supported"):
        k8s_version.minor("3.3.25", supported=("3.5",), product="etcd")
    with pytest.raises(ValueError, match="not a etcd version"):
        k8s_version.minor("Kubernetes v1.33.5", supported=None, product="etcd")


def test_minor_key_orders_minors_as_numbers():
    assert sorted(["1.9", "1.37", "1.10", "2.0"], key=k8s_version.minor_key) == ["1.9", "1.10", "1.37", "2.0"]
    assert k8s_version.minor_key("1.34") == (1, 34)
    for bad in ("1.34.2", "v1.34", "1", "", None, 1.34):
        with pytest.raises(ValueError):
            k8s_version.minor_key(bad)


def test_every_table_reads_minors_with_it():
    """kubelet_config, k8s_flags and etcd_flags bind their own supported sets; kubeadm_config and cis_catalog take
    any minor (nearest known; benchmark mapping)."""
    assert k8s_flags.SUPPORTED_MINORS == kubelet_config.SUPPORTED_MINORS == k8s_version.SUPPORTED_MINORS
    for version in ("v1.34.2", "1.34", "1.34.0-rc.1"):
        assert k8s_flags.minor(version) == kubelet_config.minor(version) == "1.34"
        assert kubeadm_config.kubeadm_defaults(version)[0] == "1.34"
    assert etcd_flags.minor("v3.5.21-0") == "3.5"
    for module in (k8s_flags, kubelet_config, etcd_flags):
        with pytest.raises(ValueError):
            module.minor(None)
    assert kubeadm_config.kubeadm_defaults(None)[2].startswith("Kubernetes version unknown")
    assert kubeadm_config.kubeadm_defaults("garbage")[2].startswith("Kubernetes version unknown")
    mapping = {"1.28": "cis-1.8", "1.33": "cis-1.11"}
    assert cis_catalog.select_benchmark("1.34.0-rc.1", mapping) == ("cis-1.11", None)
    with pytest.raises(cis_catalog.CatalogError, match="not a Kubernetes version"):
        cis_catalog.select_benchmark("latest", mapping)
    with pytest.raises(cis_catalog.CatalogError, match="not a Kubernetes minor"):
        cis_catalog.validate_mapping({"1.33.1": "cis-1.11"})


def test_kube_bench_detected_version_is_the_minor():
    from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_report

    for version, detected in (("v1.33.4", "1.33"), ("1.34.0-rc.1", "1.34"), (None, ""), ("unknown", "")):
        report = cis_report.to_kube_bench({"node": {"kubernetes_version": version}, "controls": [
            {"id": "1.1.1", "target": "master", "status": "PASS", "title": "t"}]})
        assert report["Controls"][0]["detected_version"] == detected, version
