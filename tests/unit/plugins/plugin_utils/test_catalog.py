# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os

import pytest

from ansible.errors import AnsibleError

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_eval
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import catalog as catalog_data

MAPPING = catalog_data.load_mapping()
BENCHMARKS = sorted(set(MAPPING.values()))


def test_the_mapping_is_kube_bench_s_with_cis_2_0():
    assert MAPPING == {"1.28": "cis-1.10", "1.29": "cis-1.11", "1.30": "cis-1.11", "1.31": "cis-1.11",
                       "1.32": "cis-1.12", "1.33": "cis-1.12", "1.34": "cis-2.0", "1.35": "cis-2.0"}


@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_every_mapped_benchmark_has_a_valid_catalog_covering_its_minors(benchmark):
    catalog = catalog_data.load_catalog(catalog_data.catalog_path(benchmark))
    assert cis_eval.validate_catalog(catalog) == []
    assert catalog["benchmark"]["id"] == benchmark
    mapped = sorted(m for m, b in MAPPING.items() if b == benchmark)
    assert set(mapped) <= set(catalog["benchmark"]["kubernetes_minors"])


def test_every_catalog_file_is_mapped():
    files = sorted(f for f in os.listdir(catalog_data.CATALOG_DIR) if f.startswith("cis_kubernetes_v"))
    assert files == sorted("cis_kubernetes_v%s.yml" % b[4:] for b in BENCHMARKS)


@pytest.mark.parametrize("benchmark, count, sections", [
    ("cis-1.10", 130, {"5.7"}),
    ("cis-1.11", 133, {"5.6"}),
    ("cis-1.12", 131, {"5.6"}),
    ("cis-2.0", 131, {"5.6"}),
])
def test_resolved_sizes(benchmark, count, sections):
    catalog = catalog_data.load_catalog(catalog_data.catalog_path(benchmark))
    assert len(catalog["controls"]) == count
    assert sections <= set(catalog["sections"]) and not ({"5.6", "5.7"} - sections) & set(catalog["sections"])


def test_choose_fixed_auto_and_file(tmp_path):
    fixed, note = catalog_data.choose("cis-1.11", "1.35.0")
    assert fixed["benchmark"]["id"] == "cis-1.11" and note is None
    auto, note = catalog_data.choose("auto", "v1.29.3")
    assert auto["benchmark"]["id"] == "cis-1.11" and note is None
    assert auto is fixed, "the process cache hands out one catalog per file"
    newest, note = catalog_data.choose("auto", None)
    assert newest["benchmark"]["id"] == "cis-2.0" and "newest" in note
    own = tmp_path / "mine.yml"
    own.write_text("schema_version: 2\nbased_on: cis-1.12\nbenchmark: {id: site-1, name: Site, version: '1',"
                   " kubernetes_minors: ['1.33']}\nremove: ['5.6.4']\n")
    site, note = catalog_data.choose("auto", "1.29", catalog=str(own))
    assert site["benchmark"]["id"] == "site-1" and len(site["controls"]) == 130 and note is None
    with pytest.raises(AnsibleError, match="benchmark auto: 'one' is not a Kubernetes version"):
        catalog_data.choose("auto", "one")
    with pytest.raises(AnsibleError, match="must be auto or look like cis-1.12"):
        catalog_data.choose("1.12", "1.33")


def test_an_overlay_beside_its_own_base(tmp_path):
    (tmp_path / "cis_kubernetes_v7.1.yml").write_text(
        "schema_version: 1\nbenchmark: {id: cis-7.1, name: B, version: '7.1', kubernetes_minors: ['1.33']}\n"
        "sections: {'5.1': {title: A, target: policies}}\n"
        "controls:\n- {id: '5.1.1', section: '5.1', title: t, level: 1, type: manual, scored: false,"
        " target: policies, check: null, remediation: r, remediated_by: null}\n")
    top = tmp_path / "cis_kubernetes_v7.2.yml"
    top.write_text("schema_version: 2\nbased_on: cis-7.1\n"
                   "benchmark: {id: cis-7.2, name: B, version: '7.2', kubernetes_minors: ['1.34']}\n"
                   "amend: {'5.1.1': {title: u}}\n")
    catalog = catalog_data.load_catalog(str(top))
    assert [(c["id"], c["title"]) for c in catalog["controls"]] == [("5.1.1", "u")]
    top.write_text("schema_version: 2\nbased_on: cis-7.9\n"
                   "benchmark: {id: cis-7.2, name: B, version: '7.2', kubernetes_minors: ['1.34']}\n")
    with pytest.raises(AnsibleError, match="based_on cis-7.9, which has no catalog"):
        catalog_data.load_catalog(str(top))


def test_bad_mapping_file(tmp_path):
    bad = tmp_path / "benchmarks.yml"
    bad.write_text("version_mapping: {'1.x': cis-1.10}\n")
    with pytest.raises(AnsibleError, match="not a Kubernetes minor"):
        catalog_data.load_mapping(str(bad))
