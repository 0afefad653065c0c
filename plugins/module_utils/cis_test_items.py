# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kube-bench's test items: find a flag or config key in one component state, compare it with an operator, and say
what was expected. Standard library only.

An item is one entry of an ``args`` check's ``all``/``any`` list in the catalog: ``flag`` (looked up on the command
line first) and/or ``config`` (a dotted key of the component's config file), optional ``key`` (one member of a
``K=V`` map flag), ``set`` false (must be absent), ``op``/``value``/``type`` (the comparison). The state is a
``cis_view.State``.
"""

from __future__ import annotations

import re

from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import parse_duration, parse_map, split_list
from ansible_collections.secure_cluster.k8s.plugins.module_utils.kubelet_config import dget


def _as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ",".join(_as_text(v) for v in value)
    if isinstance(value, dict):
        return ",".join("%s=%s" % (k, _as_text(v)) for k, v in value.items())
    return str(value)


def _label(item):
    if item.get("flag"):
        name = "--%s" % item["flag"]
    else:
        name = item.get("config")
    if item.get("key"):
        name = "%s %s" % (name, item["key"])
    return name


def lookup(item, state):
    """Find the item's value in a state: the flag on the command line first, else the config file key.

    Returns ``(found, value, where)``; ``where`` says which (``--flag`` or ``config key (path)``).
    """
    flag = item.get("flag")
    key = item.get("key")
    if flag and state.args is not None and state.args.has(flag):
        if key:
            gates = state.args.get_map(flag) or {}
            if key in gates:
                val = gates[key]
                return True, ("true" if val is None else val), "%s %s" % (state.flag_label(flag), key)
        elif item.get("type") == "list":
            return True, ",".join(state.args.get_list(flag) or []), state.flag_label(flag)
        else:
            return True, state.args.get(flag), state.flag_label(flag)
    cfg_key = item.get("config")
    if cfg_key and state.config is not None:
        val = dget(state.config, str(cfg_key))
        if key:
            val = parse_map(val).get(key) if isinstance(val, (dict, str)) else None
        if val is not None and not (isinstance(val, str) and val == ""):
            if isinstance(val, (list, dict)) and not val:
                return False, None, None
            text = _as_text(val)
            if item.get("config_zero_is_unset") and parse_duration(text) == 0:
                return False, None, None
            where = "%s%s (%s)" % (cfg_key, " " + key if key else "", state.config_source or "config file")
            return True, text, where
    return False, None, None


def _num(value):
    try:
        return int(str(value).strip())
    except ValueError:
        return float(str(value).strip())


def compare(op, value, expected, vtype=None):
    """kube-bench style comparison of a found value. Returns (passed, note)."""
    value = "" if value is None else str(value)
    if vtype == "duration" and op in ("eq", "noteq", "gt", "gte", "lt", "lte"):
        got, want = parse_duration(value), parse_duration(expected)
        if got is None or want is None:
            return False, "'%s' is not a duration" % value
        result = {"eq": got == want, "noteq": got != want, "gt": got > want, "gte": got >= want,
                  "lt": got < want, "lte": got <= want}[op]
        return result, None
    if op in ("eq", "noteq"):
        exp = _as_text(expected)
        if value.lower() in ("true", "false"):
            same = value.lower() == exp.lower()
        elif vtype == "int":
            try:
                same = _num(value) == _num(exp)
            except ValueError:
                same = value == exp
        else:
            same = value == exp
        return (same if op == "eq" else not same), None
    if op in ("gt", "gte", "lt", "lte"):
        try:
            got, want = _num(value), _num(expected)
        except ValueError:
            return False, "'%s' is not a number" % value
        return {"gt": got > want, "gte": got >= want, "lt": got < want, "lte": got <= want}[op], None
    if op in ("has", "nothave"):
        exp = _as_text(expected)
        if vtype == "list":
            present = exp in split_list(value)
        else:
            present = exp in value
        return (present if op == "has" else not present), None
    if op == "valid_elements":
        allowed = split_list(expected if isinstance(expected, (list, tuple)) else str(expected))
        got = split_list(value)
        if not got and not allowed:
            return True, None
        if not got or not allowed:
            return False, None
        bad = [g for g in got if g not in allowed]
        return (not bad), ("not allowed: %s" % ",".join(bad) if bad else None)
    if op == "regex":
        try:
            return re.search(str(expected), value) is not None, None
        except re.error as exc:
            return False, "bad regex in catalog: %s" % exc
    return False, "unknown operator %r in catalog" % op


def expected_text(item):
    name = _label(item)
    if item.get("config") and item.get("flag"):
        name = "%s (config %s)" % (name, item["config"])
    if item.get("set", True) is False:
        return "'%s' is not present" % name
    op = item.get("op")
    if not op:
        return "'%s' is present" % name
    val = item.get("value")
    if isinstance(val, (list, tuple)):
        val = ",".join(str(v) for v in val)
    elif isinstance(val, bool):
        val = _as_text(val)
    patterns = {
        "eq": "'%s' is equal to '%s'", "noteq": "'%s' is not equal to '%s'",
        "gt": "'%s' is greater than %s", "gte": "'%s' is greater or equal to %s",
        "lt": "'%s' is lower than %s", "lte": "'%s' is lower or equal to %s",
        "has": "'%s' has '%s'", "nothave": "'%s' does not have '%s'",
        "valid_elements": "'%s' contains valid elements from '%s'",
        "regex": "'%s' matched by regex expression '%s'",
    }
    return patterns.get(op, "'%s' " + str(op) + " '%s'") % (name, val)


def eval_item(item, state):
    """Returns dict(passed, found, value, where, note)."""
    found, value, where = lookup(item, state)
    note = None
    if item.get("set", True) is False:
        passed = not found
    elif not item.get("op"):
        passed = found
    elif not found:
        passed = False
    else:
        passed, note = compare(item["op"], value, item.get("value"), item.get("type"))
    return {"passed": passed, "found": found, "value": value, "where": where, "note": note}


def eval_state(check, state):
    """Evaluate an args check's items in one state: (passed, actual text, item results)."""
    mode = "any" if "any" in check else "all"
    items = check.get(mode) or []
    results = [eval_item(item, state) for item in items]
    passed = any(r["passed"] for r in results) if mode == "any" else all(r["passed"] for r in results)
    seen = []
    for item, res in zip(items, results):
        if res["found"]:
            text = "%s=%s" % (res["where"], res["value"])
        else:
            text = "%s not set" % _label(item)
            if item.get("config") and item.get("flag"):
                text = "--%s%s not set (nor %s in the config)" % (
                    item["flag"], " " + item["key"] if item.get("key") else "", item["config"])
        if res["note"]:
            text += " (%s)" % res["note"]
        if text not in seen:
            seen.append(text)
    return passed, "; ".join(seen), results
