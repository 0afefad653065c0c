# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No role or playbook reads a command line with a regex (issue #15): flags are read by the ``command_line`` filter
(module_utils/k8s_args.py, the audit's and the manifest editor's reading), so that a task cannot see another value
than the audit judges."""
from __future__ import annotations

import os
import re

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
REGEX_USE = re.compile(r"regex_(?:search|findall|replace|escape)|\bis\s+(?:not\s+)?(?:search|match|regex)\b"
                       r"|select\(\s*'(?:match|search|regex)'")
# what a command line or its environment looks like in an expression: a flag in a pattern, etcd's ETCD_*
# variables, or the value of a command, argv, args or a process listing
COMMAND_LINE = re.compile(r"'\^?-{1,2}\[?[a-z]|ETCD_|\.command\b|argv|_args\b|\bargs\b|cmdline|pgrep|_proc\b")
# (file, a fragment of the expression): why it is not a command line
ALLOWED = {
    ("roles/etcd_restore/tasks/members.yml", "argv[[][]]="):
        "systemd's `show` output names the unit's command line argv[]=; the command line itself goes to "
        "command_line",
}


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _yaml_files():
    for top in ("roles", "playbooks"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames[:] = [d for d in dirnames if d not in ("molecule", "files")]
            for name in filenames:
                if name.endswith((".yml", ".yaml")):
                    yield os.path.join(dirpath, name)


def test_no_role_or_playbook_parses_a_command_line_with_a_regex():
    found = []
    checked = 0
    for path in _yaml_files():
        rel = os.path.relpath(path, ROOT)
        with open(path) as handle:
            doc = yaml.safe_load(handle)
        for text in _strings(doc):
            if not REGEX_USE.search(text):
                continue
            checked += 1
            if not COMMAND_LINE.search(text):
                continue
            if any(rel == file and fragment in text for (file, fragment) in ALLOWED):
                continue
            found.append("%s: %s" % (rel, " ".join(text.split())[:160]))
    assert checked > 10, "the scan found almost no regex use: is it reading the roles?"
    assert not found, "command lines parsed with a regex (use secure_cluster.k8s.command_line):\n" + "\n".join(found)


def test_the_pattern_catches_the_old_ways():
    """The scan's patterns recognise the kinds of expression the roles used before the command_line filter."""
    for old in (
            "{{ args | select('match', '--data-dir=') | map('regex_replace', '^--data-dir=', '') | list }}",
            "{{ env_text | regex_findall('(?m)^ETCD_([A-Z_]+)=') }}",
            "proc.stdout is search((' ' ~ new_args | join(' ')) | regex_escape ~ '$')",
            "{{ item | regex_replace('^--[a-z]+=', '') }}"):
        assert REGEX_USE.search(old) and COMMAND_LINE.search(old), old
