# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIS file permissions and ownership for many paths at once (module cis_file_permissions).

Standard library only: runs on target nodes. Two phases, so a bad request changes nothing:

* plan(entries, missing): expands paths and globs, reads every match with lstat, merges entries naming the same
  path (modes are intersected, so the strictest wins; owners and groups must agree) and computes the wanted
  state. Every problem is collected and raised together as FilePermissionsError before anything is changed.
* apply(plan, check_mode): chowns (lchown, never through a symlink), then chmods non-symlinks.

A mode is a maximum: bits it does not allow are removed, bits are never added ("0600 or more restrictive").
"""

from __future__ import annotations

import glob
import grp
import os
import pwd
import stat

FILE_TYPES = ("any", "file", "directory")
MISSING_POLICIES = ("ignore", "fail")
_MAGIC = frozenset("*?[")


class FilePermissionsError(Exception):
    """The request is invalid or cannot be met; nothing was changed (unless `changed` says otherwise)."""

    def __init__(self, problems, changed=None):
        self.problems = list(problems)
        self.changed = list(changed or [])
        super().__init__("; ".join(self.problems))


def parse_mode(value):
    """'0600' / '600' / '0o600' / 384 (YAML 0600) -> 0o600; None stays None. ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("mode must be an octal string such as '0600', not %r" % value)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if text.lower().startswith("0o"):
            text = text[2:]
        if not text or any(char not in "01234567" for char in text):
            raise ValueError("mode must be an octal string such as '0600', not %r" % value)
        number = int(text, 8)
    if not 0 <= number <= 0o7777:
        raise ValueError("mode %r is out of range (0000-7777)" % value)
    return number


def format_mode(number):
    return "%04o" % number


def _resolve(value, kind):
    """User or group name (or numeric id) -> id. KeyError with a sentence when unknown."""
    if value is None:
        return None
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        if kind == "owner":
            return pwd.getpwnam(text).pw_uid
        return grp.getgrnam(text).gr_gid
    except KeyError:
        raise KeyError("%s %r does not exist on this node" % (kind, text)) from None


def _name(number, kind):
    try:
        if kind == "owner":
            return pwd.getpwuid(number).pw_name
        return grp.getgrgid(number).gr_name
    except KeyError:
        return str(number)


def _type_of(st_mode):
    if stat.S_ISLNK(st_mode):
        return "symlink"
    if stat.S_ISDIR(st_mode):
        return "directory"
    if stat.S_ISREG(st_mode):
        return "file"
    return "special"


def _type_matches(kind, file_type):
    return file_type == "any" or kind == file_type


def has_magic(pattern):
    return any(char in _MAGIC for char in pattern)


def _static_prefix(pattern):
    """The leading directories of a glob that contain no wildcard."""
    parts = pattern.split("/")
    for index, part in enumerate(parts):
        if has_magic(part):
            return "/".join(parts[:index]) or "/"
    return pattern


def _through_symlink(path, base):
    """True when a directory between base (excluded) and path (excluded) is a symlink."""
    parent = os.path.dirname(path)
    while len(parent) > len(base) and parent.startswith(base):
        if os.path.islink(parent):
            return True
        parent = os.path.dirname(parent)
    return False


def expand(pattern):
    """Existing paths a path or glob names, sorted; a glob never reaches through a symlinked directory.

    `**` matches any number of directories. As with the shell, `*` does not match a leading dot.
    """
    if not has_magic(pattern):
        return [pattern] if os.path.lexists(pattern) else []
    base = _static_prefix(pattern)
    found = set()
    for match in glob.glob(pattern, recursive=True):
        match = os.path.normpath(match)
        if not _through_symlink(match, base):
            found.add(match)
    return sorted(found)


def walk(top):
    """Every path below directory `top` (not `top` itself), sorted, without following symlinks."""
    found = []
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        # os.walk lists a symlink to a directory in dirnames but does not enter it.
        found.extend(os.path.join(dirpath, name) for name in dirnames + filenames)
    return sorted(found)


def _check_pattern(entry_id, pattern):
    if not isinstance(pattern, str) or not pattern:
        return "entry %s: a path must be a non-empty string, not %r" % (entry_id, pattern)
    if not pattern.startswith("/"):
        return "entry %s: %s is a relative path; paths must be absolute" % (entry_id, pattern)
    if ".." in pattern.split("/"):
        return "entry %s: %s contains '..'; name the path without it" % (entry_id, pattern)
    return None


def _normalise_entry(index, entry, problems):
    """Validated copy of one entry, or None (problems appended)."""
    entry_id = str(entry.get("id") or "").strip()
    if not entry_id:
        problems.append("entry #%d has no id" % (index + 1))
        return None
    label = entry_id
    paths = entry.get("paths")
    if isinstance(paths, str):
        paths = [paths]
    if not paths:
        problems.append("entry %s: paths is empty" % label)
        return None
    norm = {"id": entry_id, "paths": [], "mode": None, "uid": None, "gid": None, "owner": entry.get("owner"),
            "group": entry.get("group"), "recurse": bool(entry.get("recurse")),
            "file_type": entry.get("file_type") or "any"}
    ok = True
    for pattern in paths:
        problem = _check_pattern(label, pattern)
        if problem:
            problems.append(problem)
            ok = False
        else:
            norm["paths"].append(os.path.normpath(pattern))
    try:
        norm["mode"] = parse_mode(entry.get("mode"))
    except ValueError as exc:
        problems.append("entry %s: %s" % (label, exc))
        ok = False
    for kind, key in (("owner", "uid"), ("group", "gid")):
        try:
            norm[key] = _resolve(entry.get(kind), kind)
        except KeyError as exc:
            problems.append("entry %s: %s" % (label, exc.args[0]))
            ok = False
    if norm["file_type"] not in FILE_TYPES:
        problems.append("entry %s: file_type must be one of %s, not %r"
                        % (label, ", ".join(FILE_TYPES), norm["file_type"]))
        ok = False
    if norm["mode"] is None and entry.get("owner") is None and entry.get("group") is None:
        problems.append("entry %s: set at least one of mode, owner, group" % label)
        ok = False
    return norm if ok else None


def _entry_paths(entry, problems):
    """(matched paths with their lstat, missing patterns) of one validated entry."""
    matched = {}
    missing = []
    for pattern in entry["paths"]:
        hits = expand(pattern)
        literal = not has_magic(pattern)
        if not hits:
            missing.append(pattern)
            continue
        for path in hits:
            st = os.lstat(path)
            kind = _type_of(st.st_mode)
            walked = entry["recurse"] and kind == "directory"
            if _type_matches(kind, entry["file_type"]):
                matched[path] = st
            elif literal and not walked:
                problems.append("entry %s: %s is a %s, not a %s" % (entry["id"], path, kind, entry["file_type"]))
            if walked:
                for below in walk(path):
                    below_st = os.lstat(below)
                    if _type_matches(_type_of(below_st.st_mode), entry["file_type"]):
                        matched[below] = below_st
    return matched, missing


def plan(entries, missing="ignore"):
    """Work out every change; raise FilePermissionsError listing all problems before anything is changed."""
    problems = []
    if missing not in MISSING_POLICIES:
        problems.append("missing must be one of %s, not %r" % (", ".join(MISSING_POLICIES), missing))
    norm = [_normalise_entry(index, entry, problems) for index, entry in enumerate(entries or [])]
    if problems:
        raise FilePermissionsError(problems)
    targets = {}
    results = []
    for entry in norm:
        matched, entry_missing = _entry_paths(entry, problems)
        if entry_missing and missing == "fail":
            problems.append("entry %s: nothing matches %s" % (entry["id"], ", ".join(entry_missing)))
        results.append({"id": entry["id"], "paths": sorted(matched), "missing": entry_missing, "changed": []})
        for path, st in matched.items():
            target = targets.setdefault(path, {"lstat": st, "mode": None, "uid": None, "gid": None,
                                               "by": {"mode": [], "uid": [], "gid": []}})
            if entry["mode"] is not None:
                target["mode"] = entry["mode"] if target["mode"] is None else target["mode"] & entry["mode"]
                target["by"]["mode"].append(entry["id"])
            for key, kind in (("uid", "owner"), ("gid", "group")):
                if entry[key] is None:
                    continue
                if target[key] is not None and target[key] != entry[key]:
                    problems.append("%s: conflicting %s, entries %s want %s and entry %s wants %s"
                                    % (path, kind, ", ".join(target["by"][key]), _name(target[key], kind),
                                       entry["id"], _name(entry[key], kind)))
                    continue
                target[key] = entry[key]
                target["by"][key].append(entry["id"])
    if problems:
        raise FilePermissionsError(problems)
    changes = {}
    for path in sorted(targets):
        change = _change_of(path, targets[path])
        if change:
            changes[path] = change
    for result in results:
        for path in result["paths"]:
            change = changes.get(path)
            if change and result["id"] in change["by"]:
                result["changed"].append({"path": path, "before": change["before"], "after": change["after"]})
    return {"results": results, "changes": changes}


def _state(mode, uid, gid, is_link):
    return {"mode": None if is_link else format_mode(mode), "owner": _name(uid, "owner"),
            "group": _name(gid, "group")}


def _change_of(path, target):
    st = target["lstat"]
    is_link = stat.S_ISLNK(st.st_mode)
    mode_before = stat.S_IMODE(st.st_mode)
    mode_after = mode_before if is_link or target["mode"] is None else mode_before & target["mode"]
    uid_after = st.st_uid if target["uid"] is None else target["uid"]
    gid_after = st.st_gid if target["gid"] is None else target["gid"]
    by = set()
    if mode_after != mode_before:
        by.update(target["by"]["mode"])
    if uid_after != st.st_uid:
        by.update(target["by"]["uid"])
    if gid_after != st.st_gid:
        by.update(target["by"]["gid"])
    if not by:
        return None
    return {"by": by, "is_link": is_link, "uid": uid_after, "gid": gid_after, "mode": mode_after,
            "chown": (uid_after, gid_after) != (st.st_uid, st.st_gid), "chmod": mode_after != mode_before,
            "before": _state(mode_before, st.st_uid, st.st_gid, is_link),
            "after": _state(mode_after, uid_after, gid_after, is_link)}


def apply(planned, check_mode=False):
    """Make the planned changes (none in check mode). Returns the changed paths in order."""
    done = []
    for path, change in planned["changes"].items():
        if not check_mode:
            try:
                _apply_one(path, change)
            except OSError as exc:
                raise FilePermissionsError(["cannot change %s: %s" % (path, exc)], changed=done) from None
        done.append(path)
    return done


def _apply_one(path, change):
    if change["chown"]:
        # lchown: a symlink itself is changed, never what it points to.
        os.lchown(path, change["uid"], change["gid"])
    if change["chmod"] or change["chown"]:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            return
        # chown clears setuid/setgid on files, so the mode is (re)written after it.
        if stat.S_IMODE(st.st_mode) != change["mode"]:
            os.chmod(path, change["mode"])


def diff_text(changes):
    """Ansible diff: one line per changed path, before and after."""
    before = []
    after = []
    for path, change in changes.items():
        before.append(_diff_line(path, change["before"]))
        after.append(_diff_line(path, change["after"]))
    return {"before": "".join(before), "after": "".join(after),
            "before_header": "file modes and ownership", "after_header": "file modes and ownership"}


def _diff_line(path, state):
    mode = "symlink" if state["mode"] is None else "mode %s" % state["mode"]
    return "%s: %s, owner %s:%s\n" % (path, mode, state["owner"], state["group"])


def run(entries, missing="ignore", check_mode=False):
    """plan + apply. Returns {"changed", "results", "diff"}; raises FilePermissionsError."""
    planned = plan(entries, missing)
    apply(planned, check_mode)
    return {"changed": bool(planned["changes"]), "results": planned["results"],
            "diff": diff_text(planned["changes"])}
