# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each catalog against the facts of kube-bench's definition of the same benchmark (tests/fixtures/kube_bench,
extracted by extract.py there from kube-bench's cfg/<benchmark>): the oracle is kube-bench, never our catalogs."""
from __future__ import annotations

import json
import os
import re

import pytest

from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import catalog as catalog_data

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "kube_bench")
BENCHMARKS = sorted(set(catalog_data.load_mapping().values()))

# What a kube-bench audit names ($variable of its config.yaml, or a path) for the file sets node_facts collects.
FILE_SET_AUDIT = {
    "manifest:kube-apiserver": "apiserverconf",
    "manifest:kube-controller-manager": "controllermanagerconf",
    "manifest:kube-scheduler": "schedulerconf",
    "manifest:etcd": "etcdconf",
    "cni": "/var/lib/cni/networks",
    "etcd_data_dir": "etcddatadir",
    "admin_kubeconfigs": "/etc/kubernetes/admin.conf",
    "scheduler_kubeconfig": "schedulerkubeconfig",
    "controller_manager_kubeconfig": "controllermanagerkubeconfig",
    "pki_all": "/etc/kubernetes/pki",
    "pki_crt": "/etc/kubernetes/pki",
    "pki_key": "/etc/kubernetes/pki",
    "kubelet_service": "kubeletsvc",
    "proxy_kubeconfig": "proxykubeconfig",
    "kubelet_kubeconfig": "kubeletkubeconfig",
    "kubelet_client_ca": "kubeletcafile",
    "kubelet_config": "kubeletconf",
}
# The process a kube-bench audit greps for, per component of our args checks.
COMPONENT_AUDIT = {
    "kube-apiserver": "apiserverbin",
    "kube-controller-manager": "controllermanagerbin",
    "kube-scheduler": "schedulerbin",
    "etcd": "etcdbin",
    "kubelet": "kubeletbin",
    "kube-proxy": "proxybin",
}
# Args checks whose flags are not among those kube-bench's test items name, with the reason. Empty today: add an
# id here only with the reason it differs.
FLAG_EXCEPTIONS = {}


def kube_bench(benchmark):
    with open(os.path.join(FIXTURES, "%s.json" % benchmark)) as handle:
        data = json.load(handle)
    assert data["benchmark"] == benchmark
    return data["checks"]


def title(text):
    return " ".join(str(text).lower().split()).rstrip(".")


def config_key(path):
    """``{.featureGates.RotateKubeletServerCertificate}`` or ``{range .tlsCipherSuites[:]}...`` -> the dotted key."""
    match = re.search(r"\.([A-Za-z][A-Za-z0-9_.]*)", path)
    return match.group(1).rstrip(".") if match else path


def ours(benchmark):
    return catalog_data.load_catalog(catalog_data.catalog_path(benchmark))["controls"]


@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_same_recommendations_as_kube_bench(benchmark):
    theirs = kube_bench(benchmark)
    controls = ours(benchmark)
    assert sorted(c["id"] for c in controls) == sorted(theirs)
    for ctl in controls:
        kb = theirs[ctl["id"]]
        assert title(ctl["title"]) == title(kb["text"]), ctl["id"]
        assert ctl["type"] == kb["type"], ctl["id"]
        assert ctl["scored"] == kb["scored"], ctl["id"]
        assert ctl["target"] == kb["target"], ctl["id"]


@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_what_our_checks_read_is_what_kube_bench_audits(benchmark):
    theirs = kube_bench(benchmark)
    judged = 0
    for ctl in ours(benchmark):
        check, kb = ctl.get("check") or {}, theirs[ctl["id"]]
        named = set(kb["audit_variables"]) | set(kb["audit_paths"])
        if check.get("kind") in ("file_mode", "file_owner"):
            assert FILE_SET_AUDIT[check["files"]] in named, (ctl["id"], check["files"], sorted(named))
            judged += 1
        elif check.get("kind") == "encryption":
            assert "apiserverbin" in named, ctl["id"]
        elif check.get("kind") == "args":
            assert COMPONENT_AUDIT[check["component"]] in named, (ctl["id"], check["component"], sorted(named))
            if ctl["id"] in FLAG_EXCEPTIONS:
                continue
            flags = set(kb["flags"])
            config = set(config_key(p) for p in kb["config_paths"])
            for item in check.get("all", check.get("any")):
                if item.get("flag"):
                    assert "--" + item["flag"] in flags or item.get("key") in flags, (ctl["id"], item, flags)
                if item.get("config"):
                    key = item["config"] + ("." + item["key"] if item.get("key") else "")
                    assert key in config, (ctl["id"], key, config)
            judged += 1
    assert judged > 60, "the node checks were compared"


def test_the_exceptions_are_real():
    for cid, reason in FLAG_EXCEPTIONS.items():
        assert reason and any(c["id"] == cid for b in BENCHMARKS for c in ours(b))


def test_the_fixtures_tell_the_benchmarks_apart():
    """The extraction kept what differs between kube-bench's definitions (a fixture copied from another would not)."""
    v110, v111, v112, v20 = (kube_bench(b) for b in ("cis-1.10", "cis-1.11", "cis-1.12", "cis-2.0"))
    assert "1.2.30" not in v110 and "1.2.30" in v111
    assert v111["4.2.15"]["flags"] == ["--IPAddressDeny"] and "4.2.15" not in v112
    assert "5.7.1" in v110 and "5.6.1" in v111
    assert v110["5.1.2"]["type"] == "automated" and v111["5.1.2"]["type"] == "manual"
    assert sorted(v112) == sorted(v20) and v112["4.1.2"]["flags"] != v20["4.1.2"]["flags"]
