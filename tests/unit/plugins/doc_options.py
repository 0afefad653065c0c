# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module's documented options with its collection doc fragments merged in, as ansible-doc shows them."""
from __future__ import annotations

import importlib

import yaml

PREFIX = "secure_cluster.k8s."


def documented_options(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = dict(doc.get("options") or {})
    for name in doc.get("extends_documentation_fragment") or []:
        assert name.startswith(PREFIX), name
        fragment_name, dummy, variant = name[len(PREFIX):].partition(".")
        fragment = importlib.import_module("ansible_collections.secure_cluster.k8s.plugins.doc_fragments."
                                           + fragment_name).ModuleDocFragment
        extra = yaml.safe_load(getattr(fragment, variant.upper() if variant else "DOCUMENTATION"))["options"]
        assert not set(extra) & set(options), "options both in %s and in the module" % name
        options.update(extra)
    return options
