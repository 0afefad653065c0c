# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd configuration: version detection, TOML rendering and the check that containerd read what was meant.

Pure logic on dicts, standard library only. The ``containerd`` filter plugins use it on the controller (where
``tomllib`` parses containerd's ``config dump``); parsing is not done here so the file also imports on nodes
without ``tomllib``.

Public API::

    containerd_version(version_output) -> (major, minor)   from ``containerd --version``
    config_version(version_output) -> int                  2 for containerd 1.x, 3 for 2.x
    render(settings) -> str                                TOML; None values are left out (they remove a key)
    mismatches(intended, dumped) -> [sentence]             every intended leaf that containerd did not read as meant
"""

from __future__ import annotations

import math
import re

_VERSION_RE = re.compile(r"\sv?(\d+)\.(\d+)(?:\.\d+)?\S*")
_BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def containerd_version(version_output):
    """(major, minor) from ``containerd --version`` output, e.g. ``containerd github.com/containerd/containerd
    1.6.20~ds1 1.6.20~ds1-1+deb12u3`` or ``containerd github.com/containerd/containerd/v2 v2.0.2 c507a0...``."""
    match = _VERSION_RE.search(" " + str(version_output))
    if not match:
        raise ValueError("cannot read a containerd version from %r" % str(version_output).strip()[:200])
    return int(match.group(1)), int(match.group(2))


def config_version(version_output):
    """The config.toml ``version`` containerd of that version reads natively: 2 for 1.x, 3 for 2.x."""
    major, minor = containerd_version(version_output)
    if major < 1 or (major == 1 and minor < 5):
        raise ValueError("containerd %d.%d is not supported (1.5 or newer is needed for config_path registry hosts)"
                         % (major, minor))
    return 2 if major == 1 else 3


def _key(name):
    name = str(name)
    return name if _BARE_KEY_RE.match(name) else _string(name)


def _string(value):
    out = ['"']
    for char in value:
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append("\\u%04x" % ord(char))
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _value(value, path):
    # bool before int: bool is an int in Python
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("%s: %r cannot be written to containerd's config" % (path, value))
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, dict) for item in value):
            raise ValueError("%s: lists of tables are not supported" % path)
        return "[" + ", ".join(_value(item, path) for item in value if item is not None) + "]"
    raise ValueError("%s: a %s cannot be written to containerd's config" % (path, type(value).__name__))


def _table(lines, prefix, table, indent):
    scalars = [(k, v) for k, v in table.items() if v is not None and not isinstance(v, dict)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, dict)]
    for key, value in scalars:
        lines.append("%s%s = %s" % ("  " * indent, _key(key), _value(value, ".".join(prefix + [str(key)]))))
    for key, value in tables:
        header = prefix + [str(key)]
        # below the top level, a table with only sub-tables needs no header (empty tables get one, so they exist)
        if not prefix or not value or any(v is not None and not isinstance(v, dict) for v in value.values()):
            lines.append("")
            lines.append("%s[%s]" % ("  " * indent, ".".join(_key(k) for k in header)))
        _table(lines, header, value, indent + 1)


def render(settings):
    """TOML text for a nested dict: top-level keys first, then a ``[table]`` header per dict that has keys of its
    own or none at all (so an empty ``options`` table exists), indented by depth. None values are left out."""
    if not isinstance(settings, dict):
        raise ValueError("containerd settings must be a dict, got %s" % type(settings).__name__)
    lines = []
    _table(lines, [], settings, 0)
    return "\n".join(lines).lstrip("\n") + "\n"


def _path(parts):
    return ".".join(_key(p) for p in parts)


def _same(want, got):
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(want, bool) and isinstance(got, bool) and want == got
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return want == got
    if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)):
        want = [w for w in want if w is not None]
        return len(want) == len(got) and all(_same(w, g) for w, g in zip(want, got))
    if isinstance(want, str) or isinstance(got, str):
        return isinstance(want, str) and isinstance(got, str) and str(want) == str(got)
    return want == got


def mismatches(intended, dumped, _prefix=None):
    """Sentences for every leaf of ``intended`` that is not in ``dumped`` (containerd's ``config dump`` of the
    candidate) with the same value. containerd drops keys it does not know without an error, so a key missing from
    the dump is a misspelled or unsupported key; a different value means containerd read something else."""
    prefix = list(_prefix or [])
    problems = []
    for key, want in intended.items():
        if want is None:
            continue
        here = prefix + [str(key)]
        if not isinstance(dumped, dict) or key not in dumped:
            kind = "table" if isinstance(want, dict) else "key"
            problems.append("unknown %s %s: containerd ignored it (misspelled, or not a setting of this containerd "
                            "version and config format)" % (kind, _path(here)))
            continue
        got = dumped[key]
        if isinstance(want, dict):
            if not isinstance(got, dict):
                problems.append("%s: intended a table, containerd read %r" % (_path(here), got))
            else:
                problems.extend(mismatches(want, got, here))
        elif not _same(want, got):
            problems.append("%s: intended %r, containerd read %r" % (_path(here), want, got))
    return problems
