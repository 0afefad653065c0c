# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flag values of a static pod's command line as the manifest editor reads and writes them: the effective value of a
flag given several times, list and map flags merged member by member, a requested value as the text after
``--name=``. Standard library only.
"""

from __future__ import annotations

# Comma-list flags whose members are merged (existing members kept, new ones appended) unless replaced.
MERGE_LIST_FLAGS = frozenset((
    "enable-admission-plugins", "disable-admission-plugins", "authorization-mode", "tls-cipher-suites",
))
# K=V map flags merged key by key (a null value removes the key).
MERGE_MAP_FLAGS = frozenset(("feature-gates",))
# File flags that may be given several times / as a comma list.
FILE_LIST_FLAGS = frozenset(("service-account-key-file",))


def normalize_flag(name):
    """``--audit_log_path=x`` -> ``audit-log-path`` (leading dashes and any value dropped, "_" read as "-")."""
    text = str(name).strip().lstrip("-")
    return text.partition("=")[0].replace("_", "-")


def scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def split_flag_list(value):
    """``a,b`` and lists of them (flattened) -> members; a boolean member reads ``true``/``false`` as the components
    write it, where ``k8s_args.split_list`` would give Python's ``True``."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            out.extend(split_flag_list(item))
        return out
    return [part.strip() for part in scalar(value).split(",") if part.strip()]


def parse_flag_map(value):
    """``K=V,K2=V2`` / dict -> dict (order kept); a dict value of None means "remove this key"."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict((str(k), v) for k, v in value.items())
    out = {}
    for item in split_flag_list(value):
        key, dummy, val = item.partition("=")
        out[key.strip()] = val.strip()
    return out


def format_flag_map(mapping):
    return ",".join("%s=%s" % (k, scalar(v)) for k, v in mapping.items())


def format_value(name, value):
    """A requested value as the string written after ``--name=``."""
    if isinstance(value, dict):
        return format_flag_map(value)
    if isinstance(value, (list, tuple)):
        return ",".join(split_flag_list(value))
    return scalar(value)


def _effective(items, name):
    values = [("true" if value is None else value) for n, value, dummy in items if n == name]
    if not values:
        return None
    if name in MERGE_LIST_FLAGS or name in FILE_LIST_FLAGS:
        return ",".join(split_flag_list(values))
    if name in MERGE_MAP_FLAGS:
        merged = {}
        for value in values:
            merged.update(parse_flag_map(value))
        return format_flag_map(merged)
    return values[-1]


def flag_values(segments):
    """{name: effective value} over every segment's items, in order of first appearance."""
    all_items = [item for dummy, items in segments for item in items]
    names = []
    for name, dummy, dummy2 in all_items:
        if name is not None and name not in names:
            names.append(name)
    return dict((name, _effective(all_items, name)) for name in names)


def desired_value(name, requested, before, replace):
    """The new value string of a flag set to ``requested`` (merging with ``before`` where that applies)."""
    if name in MERGE_LIST_FLAGS and not replace:
        members = split_flag_list(before)
        for member in split_flag_list(requested):
            if member not in members:
                members.append(member)
        return ",".join(members)
    if name in MERGE_MAP_FLAGS:
        merged = {} if replace else parse_flag_map(before)
        for key, val in parse_flag_map(requested).items():
            if val is None:
                merged.pop(key, None)
            else:
                merged[key] = scalar(val)
        return format_flag_map(merged) if merged else None
    return format_value(name, requested)
