# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import datetime
import pathlib
import re

from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.plain import plain

PLUGINS = pathlib.Path(__file__).resolve().parents[4] / "plugins"


def test_unsafe_and_nested_values_become_plain_json_types():
    value = wrap_var({"flags": {"anonymous-auth": "false"}, "list": ("a", ["b"]), 1: True, "n": None, "x": 1.5})
    result = plain(value)
    assert result == {"flags": {"anonymous-auth": "false"}, "list": ["a", ["b"]], "1": True, "n": None, "x": 1.5}
    # exactly the base types: the unsafe/tagged subclasses are gone
    classes = [v.__class__ for v in (result["flags"]["anonymous-auth"], result["list"], result["flags"])]
    assert classes == [str, list, dict]


def test_what_json_does_not_know_becomes_its_text():
    assert plain({"at": datetime.date(2026, 12, 7)}) == {"at": "2026-12-07"}


def test_the_plugins_share_one_copy():
    """One helper for every action and filter plugin, not a copy per plugin (issue #15)."""
    copies = [str(path.relative_to(PLUGINS)) for path in PLUGINS.rglob("*.py")
              if re.search(r"^def _?plain\(", path.read_text(encoding="utf-8"), re.M)]
    assert copies == ["plugin_utils/plain.py"]
