# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import copy

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_eval
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_catalog import (
    CatalogError,
    newest_benchmark,
    resolve,
    select_benchmark,
)

MAPPING = {"1.28": "cis-1.10", "1.29": "cis-1.11", "1.30": "cis-1.11", "1.31": "cis-1.11", "1.32": "cis-1.12",
           "1.33": "cis-1.12", "1.34": "cis-2.0", "1.35": "cis-2.0"}


def control(cid, target="policies", **extra):
    ctl = {"id": cid, "section": cid.rsplit(".", 1)[0], "title": "t" + cid, "level": 1, "type": "manual",
           "scored": False, "target": target, "check": None, "remediation": "r", "remediated_by": None}
    ctl.update(extra)
    return ctl


def bench(bid, minors=("1.1",)):
    return {"id": bid, "name": "CIS", "version": bid[4:], "kubernetes_minors": list(minors)}


BASE = {
    "schema_version": 2,
    "benchmark": bench("cis-1.2"),
    "targets": {"policies": {"id": "5", "title": "Policies"}},
    "sections": {"5.1": {"title": "A", "target": "policies"}, "5.2": {"title": "B", "target": "policies"}},
    "controls": [control("5.1.1"), control("5.1.2"), control("5.2.1"), control("5.2.2")],
}


def loader(docs):
    return lambda name: copy.deepcopy(docs.get(name))


def overlay(bid, base="cis-1.2", **keys):
    doc = {"schema_version": 2, "based_on": base, "benchmark": bench(bid)}
    doc.update(keys)
    return doc


def ids(catalog):
    return [c["id"] for c in catalog["controls"]]


# ---------------------------------------------------------------------------------------------------------------
# resolve
# ---------------------------------------------------------------------------------------------------------------
def test_a_complete_catalog_resolves_to_itself_and_is_not_changed():
    docs = {"cis-1.2": BASE}
    got = resolve("cis-1.2", docs.get)
    assert got == BASE and got is not BASE
    got["controls"].pop()
    assert len(BASE["controls"]) == 4


def test_overlay_removes_replaces_adds_amends_and_orders_by_id():
    ov = overlay("cis-1.3", remove=["5.1.2"], amend={"5.2.1": {"type": "automated", "title": "new"}},
                 controls=[control("5.2.10"), control("5.1.1", title="replaced", level=2), control("5.2.3")])
    got = resolve("cis-1.3", loader({"cis-1.2": BASE, "cis-1.3": ov}))
    assert ids(got) == ["5.1.1", "5.2.1", "5.2.2", "5.2.3", "5.2.10"]
    by_id = dict((c["id"], c) for c in got["controls"])
    assert by_id["5.1.1"]["title"] == "replaced" and by_id["5.1.1"]["level"] == 2
    assert by_id["5.2.1"]["type"] == "automated" and by_id["5.2.1"]["title"] == "new"
    assert by_id["5.2.1"]["remediation"] == "r"
    assert got["benchmark"]["id"] == "cis-1.3" and got["sections"] == BASE["sections"]
    assert "based_on" not in got and "remove" not in got
    assert cis_eval.validate_catalog(got) == []


def test_renumber_moves_controls_at_once_and_sections_follow():
    ov = overlay("cis-1.3", sections={"5.2": None, "5.7": {"title": "B", "target": "policies"}},
                 renumber={"5.2.1": "5.7.1", "5.2.2": "5.7.2"})
    got = resolve("cis-1.3", loader({"cis-1.2": BASE, "cis-1.3": ov}))
    assert ids(got) == ["5.1.1", "5.1.2", "5.7.1", "5.7.2"]
    assert [c["section"] for c in got["controls"]] == ["5.1", "5.1", "5.7", "5.7"]
    assert sorted(got["sections"]) == ["5.1", "5.7"]
    assert cis_eval.validate_catalog(got) == []
    shift = overlay("cis-1.3", renumber={"5.1.1": "5.1.2", "5.1.2": "5.1.3"})
    got = resolve("cis-1.3", loader({"cis-1.2": BASE, "cis-1.3": shift}))
    assert ids(got)[:2] == ["5.1.2", "5.1.3"]
    assert [c["title"] for c in got["controls"]][:2] == ["t5.1.1", "t5.1.2"]


def test_overlay_of_an_overlay():
    mid = overlay("cis-1.3", remove=["5.2.2"])
    top = overlay("cis-1.4", base="cis-1.3", controls=[control("5.2.2", title="back")])
    got = resolve("cis-1.4", loader({"cis-1.2": BASE, "cis-1.3": mid, "cis-1.4": top}))
    assert ids(got) == ["5.1.1", "5.1.2", "5.2.1", "5.2.2"]
    assert got["controls"][-1]["title"] == "back"


def test_a_section_dropped_under_its_controls_is_caught_by_validation():
    got = resolve("cis-1.3", loader({"cis-1.2": BASE, "cis-1.3": overlay("cis-1.3", sections={"5.2": None})}))
    problems = cis_eval.validate_catalog(got)
    assert any("5.2.1" in p and "not one of the catalog's sections" in p for p in problems)


@pytest.mark.parametrize("docs, name, message", [
    ({}, "cis-9.9", "no catalog for benchmark cis-9.9"),
    ({"cis-1.3": overlay("cis-1.3", base="cis-0.1")}, "cis-1.3", "cis-1.3 is based_on cis-0.1, which has no catalog"),
    ({"cis-1.3": overlay("cis-1.3", base="cis-1.4"), "cis-1.4": overlay("cis-1.4", base="cis-1.3")}, "cis-1.3",
     "cycle: cis-1.3 -> cis-1.4 -> cis-1.3"),
    ({"cis-1.3": overlay("cis-1.3", base="cis-1.3")}, "cis-1.3", "cycle: cis-1.3 -> cis-1.3"),
    ({"cis-1.3": overlay("cis-1.3", remove=["5.9.9"])}, "cis-1.3", "removes 5.9.9, which cis-1.2 does not have"),
    ({"cis-1.3": overlay("cis-1.3", amend={"5.9.9": {"title": "x"}})}, "cis-1.3", "amends 5.9.9"),
    ({"cis-1.3": overlay("cis-1.3", amend={"5.1.1": {"id": "5.1.9"}})}, "cis-1.3", "it may change"),
    ({"cis-1.3": overlay("cis-1.3", renumber={"5.1.1": "5.2.1"})}, "cis-1.3", "onto 5.2.1, which its base keeps"),
    ({"cis-1.3": overlay("cis-1.3", renumber={"5.1.1": "5.3.1", "5.1.2": "5.3.1"})}, "cis-1.3", "two controls"),
    ({"cis-1.3": overlay("cis-1.3", remove=["5.1.1"], controls=[control("5.1.1")])}, "cis-1.3",
     "both removes or amends and lists control 5.1.1"),
    ({"cis-1.3": overlay("cis-1.3", controls=[control("5.3.1"), control("5.3.1")])}, "cis-1.3", "lists control 5.3.1 twice"),
    ({"cis-1.3": overlay("cis-1.3", sections={"5.9": None})}, "cis-1.3", "removes section 5.9"),
    ({"cis-1.3": overlay("cis-1.3", extra=1)}, "cis-1.3", "unknown key(s) extra"),
    ({"cis-1.3": dict(BASE, benchmark=bench("cis-1.3"), remove=["5.1.1"])}, "cis-1.3", "remove is for overlays"),
    ({"cis-1.3": dict(overlay("cis-1.3"), schema_version=1)}, "cis-1.3", "schema_version 1"),
    ({"cis-1.3": dict(BASE, schema_version=3, benchmark=bench("cis-1.3"))}, "cis-1.3", "schema_version 3"),
    ({"cis-1.3": dict(BASE)}, "cis-1.3", "catalog for cis-1.3 says benchmark id cis-1.2"),
    ({"cis-1.3": overlay("cis-1.3", benchmark={"id": "cis-1.3"})}, "cis-1.3", "needs a benchmark block"),
    ({"cis-1.3": ["not", "a", "mapping"]}, "cis-1.3", "is not a mapping"),
])
def test_resolve_errors_are_clear(docs, name, message):
    docs = dict(docs, **{"cis-1.2": BASE})
    with pytest.raises(CatalogError) as err:
        resolve(name, loader(docs))
    assert message in str(err.value)


def test_a_version_1_complete_catalog_is_still_read():
    old = dict(BASE, schema_version=1)
    assert ids(resolve("cis-1.2", loader({"cis-1.2": old}))) == ids(BASE)


# ---------------------------------------------------------------------------------------------------------------
# select_benchmark
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version, expected", [
    ("1.28", "cis-1.10"), ("v1.28.15", "cis-1.10"),
    ("1.29.0", "cis-1.11"), ("1.31", "cis-1.11"),
    ("1.32.1", "cis-1.12"), ("1.33", "cis-1.12"), ("v1.33.4", "cis-1.12"),
    ("1.34.4", "cis-2.0"), ("1.35.0-rc.1", "cis-2.0"),
    # newer than every mapped minor: the newest mapped at or below it, as kube-bench steps down
    ("1.36.3", "cis-2.0"), ("v1.37.2+k3s1", "cis-2.0"),
])
def test_select_benchmark_like_kube_bench(version, expected):
    assert select_benchmark(version, MAPPING) == (expected, None)


def test_select_steps_down_over_gaps():
    assert select_benchmark("1.31", {"1.28": "cis-1.10", "1.33": "cis-1.12"}) == ("cis-1.10", None)


@pytest.mark.parametrize("version", [None, "", "  "])
def test_no_version_is_judged_against_the_newest_and_says_so(version):
    bench_id, note = select_benchmark(version, MAPPING)
    assert bench_id == "cis-2.0" == newest_benchmark(MAPPING)
    assert "no Kubernetes version could be read" in note and "cis-2.0" in note


def test_older_than_every_benchmark_uses_the_oldest_and_says_so():
    bench_id, note = select_benchmark("1.27.9", MAPPING)
    assert bench_id == "cis-1.10"
    assert "1.27.9 is older than every benchmark" in note and "1.28" in note


@pytest.mark.parametrize("version", ["latest", "1", "1.x", "v.1.33", "2.0.0"])
def test_garbage_versions_raise(version):
    with pytest.raises(CatalogError) as err:
        select_benchmark(version, MAPPING)
    assert repr(version) in str(err.value) or version in str(err.value)


@pytest.mark.parametrize("mapping", [{}, None, {"1.x": "cis-1.10"}, {"1.28": ""}, {"1.28": None}])
def test_bad_mappings_raise(mapping):
    with pytest.raises(CatalogError):
        select_benchmark("1.28", mapping)
