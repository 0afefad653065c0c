# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module's documentation with its collection doc fragments merged in, as ansible-doc shows it."""
from __future__ import annotations

import importlib

import yaml

PREFIX = "secure_cluster.k8s."


def merged_doc(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    for name in doc.pop("extends_documentation_fragment", None) or []:
        assert name.startswith(PREFIX), name
        fragment_name, dummy, variant = name[len(PREFIX):].partition(".")
        fragment = importlib.import_module("ansible_collections.secure_cluster.k8s.plugins.doc_fragments."
                                           + fragment_name).ModuleDocFragment
        extra = yaml.safe_load(getattr(fragment, variant.upper() if variant else "DOCUMENTATION"))
        assert set(extra) <= {"options", "attributes"}, name
        for section, entries in extra.items():
            merged = doc.setdefault(section, {})
            for key, spec in entries.items():
                # as ansible-core merges: the module's keys of an entry win over the fragment's (its own default)
                merged[key] = dict(spec, **merged.get(key, {}))
    return doc


def documented_options(module):
    return dict(merged_doc(module).get("options") or {})
