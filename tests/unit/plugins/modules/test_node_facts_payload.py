# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_facts runs on every node at every audit; Ansible ships the module_utils it imports with it. The flag tables
and the editors stay on the controller so that the audit's one call stays small. Likewise the manifest editor's
module, which only reads and writes the file on the node (the edit is its action plugin's)."""
from __future__ import annotations

import os
import re

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
# "import (a, b)" may span lines, "import a, b" may not (it used to run on into the next statements)
IMPORT_RE = re.compile(r"^from ansible_collections\.secure_cluster\.k8s\.plugins\.module_utils(?:\.(\w+))? import "
                       r"(?:\(([\w, \n]+)\)|([\w, ]+)$)", re.M)
HEAVY = {"k8s_flags", "k8s_flag_data", "static_pod", "static_pod_checks", "kubelet_config", "cis_eval", "cis_view",
         "cis_checks"}


def _module_utils_closure(path, seen=None):
    seen = set() if seen is None else seen
    with open(path) as handle:
        text = handle.read()
    for match in IMPORT_RE.finditer(text):
        listed = match.group(2) or match.group(3)
        names = [match.group(1)] if match.group(1) else [n.strip() for n in listed.replace("\n", " ")
                                                          .split(",") if n.strip()]
        for name in names:
            name = name.split(" as ")[0].strip()
            target = os.path.join(ROOT, "plugins", "module_utils", name + ".py")
            if name not in seen and os.path.exists(target):
                seen.add(name)
                _module_utils_closure(target, seen)
    return seen


def test_node_facts_ships_no_flag_tables_or_editors():
    shipped = _module_utils_closure(os.path.join(ROOT, "plugins", "modules", "node_facts.py"))
    # every collector the module is split into travels with it
    collectors = set(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "module_utils"))
                     if name.startswith("node_facts_") and name.endswith(".py"))
    assert "node_facts_collect" in collectors and "pod_mounts" in shipped
    assert collectors <= shipped, sorted(collectors - shipped)
    assert not shipped & HEAVY, sorted(shipped & HEAVY)


def test_static_pod_manifest_ships_the_node_side_only():
    shipped = _module_utils_closure(os.path.join(ROOT, "plugins", "modules", "static_pod_manifest.py"))
    assert shipped == {"static_pod_node", "owned_file", "pod_mounts"}, sorted(shipped)
