# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIS catalogs kept as overlays of one another, and the benchmark a Kubernetes version is judged against.

Pure functions on parsed data: reading files is the caller's (plugins/plugin_utils/catalog.py on the controller).
The overlay keys are documented in the schema section of catalog/cis_kubernetes_v1.12.yml.
"""

from __future__ import annotations

import copy

from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_version

SCHEMA_VERSION = 2
BASE_KEYS = frozenset(("schema_version", "benchmark", "targets", "sections", "controls"))
OVERLAY_KEYS = frozenset(("schema_version", "based_on", "benchmark", "targets", "sections", "renumber", "remove",
                          "amend", "controls"))
# What an amend may change in a base control; id and section move with renumber only.
AMENDABLE = frozenset(("title", "level", "type", "scored", "target", "check", "remediation", "remediated_by"))
BENCHMARK_KEYS = ("id", "name", "version", "kubernetes_minors")


class CatalogError(ValueError):
    """A catalog, an overlay chain or a version mapping that cannot be used."""


def _id_key(cid):
    return tuple(int(p) if p.isdigit() else 0 for p in str(cid).split("."))


def _check_document(name, doc):
    if not isinstance(doc, dict):
        raise CatalogError("catalog %s is not a mapping" % name)
    # Version 2 added the overlay keys only: a complete catalog written for version 1 reads the same.
    if doc.get("schema_version") not in (1, SCHEMA_VERSION) or (
            "based_on" in doc and doc.get("schema_version") != SCHEMA_VERSION):
        raise CatalogError("catalog %s has schema_version %r; this collection reads %d (and 1 without based_on)"
                           % (name, doc.get("schema_version"), SCHEMA_VERSION))
    allowed = OVERLAY_KEYS if "based_on" in doc else BASE_KEYS
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise CatalogError("catalog %s has unknown key(s) %s%s" % (
            name, ", ".join(unknown), "" if "based_on" in doc else " (remove is for overlays, with based_on)"))
    bench = doc.get("benchmark")
    if not isinstance(bench, dict) or any(not bench.get(k) for k in BENCHMARK_KEYS):
        raise CatalogError("catalog %s needs a benchmark block with %s" % (name, ", ".join(BENCHMARK_KEYS)))
    # The file is found by the id asked for; a copied file that kept another id would report the wrong benchmark.
    if bench["id"] != name:
        raise CatalogError("catalog for %s says benchmark id %s" % (name, bench["id"]))


def _merge_map(base, changes, what, name):
    merged = dict(base or {})
    if changes is None:
        return merged
    if not isinstance(changes, dict):
        raise CatalogError("overlay %s: %s must be a mapping" % (name, what))
    for key, value in changes.items():
        if value is None:
            if key not in merged:
                raise CatalogError("overlay %s removes %s %s, which its base does not have" % (name, what, key))
            del merged[key]
        else:
            merged[key] = value
    return merged


def _section_of(cid):
    return cid.rsplit(".", 1)[0] if "." in cid else cid


def _renumber(controls, renumber, name):
    """Base controls moved to new ids, all at once (5.2.10 -> 5.2.11 while 5.2.11 -> 5.2.12)."""
    if not isinstance(renumber, dict):
        raise CatalogError("overlay %s: renumber must map old ids to new ids" % name)
    moved = {}
    for old, new in renumber.items():
        old, new = str(old), str(new)
        if old not in controls:
            raise CatalogError("overlay %s renumbers %s, which its base does not have" % (name, old))
        if "." not in new or _section_of(new) == new:
            raise CatalogError("overlay %s renumbers %s to %r, which is not an id in a section" % (name, old, new))
        if new in moved:
            raise CatalogError("overlay %s renumbers two controls to %s" % (name, new))
        ctl = dict(controls[old], id=new, section=_section_of(new))
        moved[new] = ctl
    for old in renumber:
        del controls[str(old)]
    clash = sorted(set(moved) & set(controls), key=_id_key)
    if clash:
        raise CatalogError("overlay %s renumbers onto %s, which its base keeps" % (name, ", ".join(clash)))
    controls.update(moved)


def apply_overlay(base, overlay, name):
    """The catalog ``overlay`` (named ``name``) laid over the resolved catalog ``base``."""
    controls = dict((c["id"], c) for c in base["controls"])
    if overlay.get("renumber") is not None:
        _renumber(controls, overlay["renumber"], name)
    removed = overlay.get("remove") or []
    if not isinstance(removed, list):
        raise CatalogError("overlay %s: remove must be a list of ids" % name)
    for cid in removed:
        if str(cid) not in controls:
            raise CatalogError("overlay %s removes %s, which %s does not have" % (name, cid, overlay["based_on"]))
        del controls[str(cid)]
    amend = overlay.get("amend") or {}
    if not isinstance(amend, dict):
        raise CatalogError("overlay %s: amend must map ids to the keys they change" % name)
    for cid, changes in amend.items():
        if str(cid) not in controls:
            raise CatalogError("overlay %s amends %s, which its base does not have" % (name, cid))
        if not isinstance(changes, dict) or not changes or set(changes) - AMENDABLE:
            raise CatalogError("overlay %s amends %s with %r; it may change %s" % (
                name, cid, changes, ", ".join(sorted(AMENDABLE))))
        controls[str(cid)] = dict(controls[str(cid)], **changes)
    own = overlay.get("controls") or []
    if not isinstance(own, list):
        raise CatalogError("overlay %s: controls must be a list" % name)
    seen = set()
    for ctl in own:
        cid = ctl.get("id") if isinstance(ctl, dict) else None
        if not isinstance(cid, str):
            raise CatalogError("overlay %s: a control without a string id (%r)" % (name, ctl))
        if cid in seen:
            raise CatalogError("overlay %s lists control %s twice" % (name, cid))
        if cid in [str(r) for r in removed] or cid in [str(a) for a in amend]:
            raise CatalogError("overlay %s both removes or amends and lists control %s" % (name, cid))
        seen.add(cid)
        controls[cid] = ctl
    return {
        "schema_version": SCHEMA_VERSION,
        "benchmark": overlay["benchmark"],
        "targets": _merge_map(base.get("targets"), overlay.get("targets"), "target", name),
        "sections": _merge_map(base.get("sections"), overlay.get("sections"), "section", name),
        "controls": sorted(controls.values(), key=lambda c: _id_key(c["id"])),
    }


def resolve(benchmark, load):
    """The complete catalog of ``benchmark``, its overlays applied over their bases.

    ``load(id)`` returns the parsed catalog document of a benchmark id, or None when there is none. Raises
    CatalogError on an unknown benchmark or base, a cycle of ``based_on``, or a malformed document. The result is
    a new object: the documents ``load`` returns are not changed.
    """
    chain = []
    name = benchmark
    while True:
        if name in [n for n, _doc in chain]:
            raise CatalogError("catalog overlays form a cycle: %s" % " -> ".join([n for n, _d in chain] + [name]))
        doc = load(name)
        if doc is None:
            if chain:
                raise CatalogError("catalog %s is based_on %s, which has no catalog" % (chain[-1][0], name))
            raise CatalogError("no catalog for benchmark %s" % name)
        _check_document(name, doc)
        chain.append((name, doc))
        if "based_on" not in doc:
            break
        name = doc["based_on"]
        if not isinstance(name, str) or not name:
            raise CatalogError("catalog %s: based_on must be a benchmark id" % chain[-1][0])
    base_name, base = chain.pop()
    if not isinstance(base.get("controls"), list) or not base["controls"]:
        raise CatalogError("catalog %s has no controls list" % base_name)
    resolved = copy.deepcopy(base)
    for name, overlay in reversed(chain):
        resolved = apply_overlay(resolved, copy.deepcopy(overlay), name)
    return resolved


def _minor(text):
    try:
        return k8s_version.minor_key(str(text))
    except ValueError:
        raise CatalogError("version mapping key %r is not a Kubernetes minor like 1.33" % (text,)) from None


def validate_mapping(mapping):
    """``{(major, minor): benchmark id}`` from a version mapping ``{"1.33": "cis-1.12", ...}``."""
    if not isinstance(mapping, dict) or not mapping:
        raise CatalogError("the version mapping is empty or not a mapping")
    parsed = {}
    for key, bench in mapping.items():
        if not isinstance(bench, str) or not bench:
            raise CatalogError("version mapping %s: %r is not a benchmark id" % (key, bench))
        parsed[_minor(key)] = bench
    return parsed


def newest_benchmark(mapping):
    parsed = validate_mapping(mapping)
    return parsed[max(parsed)]


def select_benchmark(version, mapping):
    """``(benchmark id, note)`` for a node's Kubernetes ``version`` ("v1.33.4", "1.33", or None).

    As kube-bench chooses: the benchmark mapped to the version's minor, else to the nearest minor below it (so a
    release newer than every mapped one gets the newest benchmark). ``note`` is None for those, and a sentence for
    the two cases where no mapped minor applies: no version (the newest benchmark) and a version older than every
    mapped minor (the oldest benchmark, which was not written for it). Raises CatalogError on a version that is not
    a Kubernetes version.
    """
    parsed = validate_mapping(mapping)
    if version is None or str(version).strip() == "":
        newest = parsed[max(parsed)]
        return newest, "no Kubernetes version could be read: judged against the newest benchmark, %s" % newest
    try:
        major, minor = k8s_version.minor_key(k8s_version.minor(str(version), supported=None))
    except ValueError:
        raise CatalogError("%r is not a Kubernetes version like 1.33 or v1.33.4" % (version,)) from None
    for step in range(minor, -1, -1):
        if (major, step) in parsed:
            return parsed[(major, step)], None
    newer = [key for key in parsed if key > (major, minor)]
    if not newer:
        raise CatalogError("Kubernetes %s: no benchmark is mapped to a %d.x version" % (version, major))
    oldest = min(newer)
    note = "Kubernetes %s is older than every benchmark this collection has (the oldest, %s, is for %d.%d)" % (
        version, parsed[oldest], oldest[0], oldest[1])
    return parsed[oldest], "%s: judged against %s anyway" % (note, parsed[oldest])
