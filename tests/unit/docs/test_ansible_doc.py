# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-doc shows every module (action-backed ones included), filter and role of the collection copy that
make unit runs in: what users of an installed collection see."""
from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "secure_cluster.k8s."
# make unit runs in <path>/ansible_collections/secure_cluster/k8s; a plain checkout has no such layout.
COLLECTIONS = ROOT.parents[2] if ROOT.parents[1].name == "ansible_collections" else None
ANSIBLE_DOC = Path(sys.executable).with_name("ansible-doc")
if not ANSIBLE_DOC.exists():
    ANSIBLE_DOC = shutil.which("ansible-doc")

pytestmark = pytest.mark.skipif(COLLECTIONS is None or not ANSIBLE_DOC,
                                reason="needs the collection copy of make collection and ansible-doc")


def modules():
    return sorted(p.stem for p in (ROOT / "plugins/modules").glob("*.py") if p.stem != "__init__")


def filters():
    names = {}
    for path in sorted((ROOT / "plugins/filter").glob("*.py")):
        if path.stem == "__init__":
            continue
        plugin = importlib.import_module("ansible_collections.secure_cluster.k8s.plugins.filter." + path.stem)
        for name in plugin.FilterModule().filters():
            names[name] = path
    return names


def roles():
    return sorted(p.parents[1].name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))


def ansible_doc(*args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(ANSIBLE_DOC), *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "[WARNING]" not in proc.stderr and "[ERROR]" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def module_docs():
    return ansible_doc("-t", "module", "-j", *[PREFIX + n for n in modules()])


@pytest.fixture(scope="module")
def filter_docs():
    return ansible_doc("-t", "filter", "-j", *[PREFIX + n for n in sorted(filters())])


def _assert_doc(entry, name):
    doc = entry["doc"]
    assert doc["short_description"].strip(), name
    assert doc["options"], "%s documents no options" % name
    for option, spec in doc["options"].items():
        assert spec.get("description"), "%s: option %s has no description" % (name, option)
    assert entry.get("examples"), "%s has no EXAMPLES" % name


def test_every_module_has_docs(module_docs):
    assert sorted(module_docs) == [PREFIX + n for n in modules()]
    for name, entry in module_docs.items():
        _assert_doc(entry, name)
        assert entry.get("return") is not None, "%s has no RETURN" % name
        assert entry["doc"]["attributes"]["check_mode"]["support"], name


def test_every_action_plugin_is_backed_by_a_documented_module(module_docs):
    actions = sorted(p.stem for p in (ROOT / "plugins/action").glob("*.py") if p.stem != "__init__")
    assert actions
    assert [a for a in actions if PREFIX + a not in module_docs] == []


def test_every_filter_has_a_doc_file_and_docs(filter_docs):
    names = filters()
    missing = [n for n, path in names.items() if not (path.parent / (n + ".yml")).exists() and path.stem != n]
    assert missing == [], "filters without plugins/filter/<name>.yml: %s" % missing
    assert sorted(filter_docs) == [PREFIX + n for n in sorted(names)]
    for name, entry in filter_docs.items():
        _assert_doc(entry, name)
        assert entry["doc"]["name"] == name[len(PREFIX):]


def test_doc_files_name_a_real_filter():
    names = filters()
    orphans = [p.name for p in (ROOT / "plugins/filter").glob("*.yml") if p.stem not in names]
    assert orphans == []


def test_list_names_every_module_and_filter():
    assert sorted(ansible_doc("--list", "-j", "secure_cluster.k8s")) == [PREFIX + n for n in modules()]
    assert sorted(ansible_doc("-t", "filter", "--list", "-j", "secure_cluster.k8s")) == \
        [PREFIX + n for n in sorted(filters())]


def test_every_role_entry_point_is_documented():
    docs = ansible_doc("-t", "role", "-j", *[PREFIX + r for r in roles()])
    assert sorted(docs) == [PREFIX + r for r in roles()]
    for role in roles():
        specs = yaml.safe_load((ROOT / "roles" / role / "meta/argument_specs.yml").read_text(encoding="utf-8"))
        entry_points = docs[PREFIX + role]["entry_points"]
        assert sorted(entry_points) == sorted(specs["argument_specs"]), role
        for name, entry in entry_points.items():
            assert entry["short_description"].strip(), (role, name)
            assert set(entry.get("options") or {}) == set(specs["argument_specs"][name].get("options") or {})
