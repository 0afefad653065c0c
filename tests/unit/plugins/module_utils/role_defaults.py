# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's variables as a play has them (its defaults/ and vars/ files, templates trusted as ansible-core trusts
them in files) and ansible-core's templar over them, for the tests of the component planner."""
from __future__ import annotations

import os

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.plain import plain

ROLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles")


def trusted(value):
    """``value`` with every string trusted as a template (what ansible-core does for a role's YAML files)."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return dict((key, trusted(item)) for key, item in value.items())
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


def role_file(role, kind):
    """``roles/<role>/<kind>/main.yml`` ({} when the role has none)."""
    path = os.path.join(ROLES, role, kind, "main.yml")
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return trusted(yaml.safe_load(handle) or {})


def render(variables, value):
    """``value`` templated as a task's argument is, over ``variables``, in plain JSON types."""
    return plain(Templar(loader=DataLoader(), variables=variables).template(trusted(value)))


def public(component, variables):
    """The role's public variables (``<component>_*``, not ``<component>__*``), templated."""
    prefix = component + "_"
    return dict((name, render(variables, value)) for name, value in variables.items()
                if name.startswith(prefix) and not name.startswith(prefix + "_"))
