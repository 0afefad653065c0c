# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side code shared by the collection's action and filter plugins."""
from __future__ import annotations

import json

from ansible.module_utils.common.text.converters import to_text


def plain(value):
    """A deep copy of ``value`` in plain JSON types (dict, list, str, int, float, bool, None).

    Ansible hands plugins tagged and unsafe subclasses of str, dict and list; YAML dumpers, jsonschema and the
    module_utils' type checks do not all treat them as their bases. Tuples become lists, keys become text, and
    anything JSON does not know becomes its text.
    """
    return json.loads(json.dumps(value, default=to_text))
