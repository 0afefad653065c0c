# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CIS catalogs and the version mapping read on the controller (cis_audit, cluster_audit,
scripts/bench_controller.py): files under catalog/, overlays resolved, the result validated."""

from __future__ import annotations

import os
import re

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_catalog, cis_eval

try:
    import yaml
    HAS_YAML = True
    # libyaml's loader when PyYAML has it: the catalog loads in 0.04 s instead of 0.27 s, per host and run.
    SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False

CATALOG_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "catalog"))
BENCHMARKS_FILE = os.path.join(CATALOG_DIR, "benchmarks.yml")
AUTO = "auto"
BENCHMARK_ID = re.compile(r"^cis-(\d+\.\d+)$")

# Per process: an action plugin runs once per host, and a fleet's hosts share a few catalogs.
_CATALOGS = {}
_MAPPINGS = {}


def safe_load(stream):
    """``yaml.safe_load`` with libyaml when available."""
    return yaml.load(stream, Loader=SafeLoader)


def catalog_path(benchmark, catalog=None, catalog_dir=CATALOG_DIR):
    """The catalog file for a benchmark id (``cis-1.12`` -> ``catalog/cis_kubernetes_v1.12.yml``)."""
    if catalog:
        return catalog
    match = BENCHMARK_ID.match(str(benchmark or ""))
    if not match:
        raise AnsibleError("benchmark must be auto or look like cis-1.12 (got %r)" % (benchmark,))
    return os.path.join(catalog_dir, "cis_kubernetes_v%s.yml" % match.group(1))


def _read_yaml(path, what):
    if not HAS_YAML:
        raise AnsibleError("PyYAML is required on the controller to read the %s" % what)
    try:
        with open(path) as handle:
            return safe_load(handle)
    except (IOError, OSError) as exc:
        raise AnsibleError("cannot read %s %s: %s" % (what, path, to_native(exc)))
    except yaml.YAMLError as exc:
        raise AnsibleError("%s %s is not valid YAML: %s" % (what, path, to_native(exc)))


def load_catalog(path):
    """The resolved, validated catalog in ``path``. A ``based_on`` base is looked up beside ``path`` first (a
    site's own overlay next to its own base), then among the collection's catalogs."""
    first = _read_yaml(path, "CIS catalog")
    bench = first.get("benchmark") if isinstance(first, dict) else None
    requested = (bench.get("id") if isinstance(bench, dict) else None) or os.path.basename(path)

    def load(benchmark):
        if benchmark == requested:
            return first
        for directory in (os.path.dirname(os.path.abspath(path)), CATALOG_DIR):
            candidate = catalog_path(benchmark, catalog_dir=directory) if BENCHMARK_ID.match(benchmark) else None
            if candidate and os.path.exists(candidate):
                return _read_yaml(candidate, "CIS catalog")
        return None

    try:
        data = cis_catalog.resolve(requested, load)
    except cis_catalog.CatalogError as exc:
        raise AnsibleError("CIS catalog %s is not usable: %s" % (path, to_native(exc)))
    problems = cis_eval.validate_catalog(data)
    if problems:
        raise AnsibleError("CIS catalog %s is not usable: %s" % (path, "; ".join(problems[:10])))
    return data


def cached_catalog(path):
    """``load_catalog(path)``, read once per process. Callers must not change the result."""
    key = os.path.abspath(path)
    if key not in _CATALOGS:
        _CATALOGS[key] = load_catalog(path)
    return _CATALOGS[key]


def load_mapping(path=BENCHMARKS_FILE):
    """The version mapping ``{"1.33": "cis-1.12", ...}`` of catalog/benchmarks.yml, read once per process."""
    key = os.path.abspath(path)
    if key not in _MAPPINGS:
        data = _read_yaml(path, "benchmark version mapping")
        mapping = data.get("version_mapping") if isinstance(data, dict) else None
        try:
            cis_catalog.validate_mapping(mapping)
        except cis_catalog.CatalogError as exc:
            raise AnsibleError("%s: %s" % (path, to_native(exc)))
        _MAPPINGS[key] = dict((str(k), v) for k, v in mapping.items())
    return _MAPPINGS[key]


def choose(benchmark, version, catalog=None):
    """``(catalog, note)`` for a host: the catalog file given, else the fixed benchmark, else (``auto``) the one
    ``select_benchmark`` maps the host's Kubernetes ``version`` to. ``note`` says why when no mapped version
    applied."""
    note = None
    if not catalog and benchmark == AUTO:
        try:
            benchmark, note = cis_catalog.select_benchmark(version, load_mapping())
        except cis_catalog.CatalogError as exc:
            raise AnsibleError("benchmark auto: %s" % to_native(exc))
    return cached_catalog(catalog_path(benchmark, catalog)), note
