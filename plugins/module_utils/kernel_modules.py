# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel modules for a Kubernetes node: a modprobe.d blacklist and the modules Kubernetes needs loaded.

Standard library only (runs on the node). Used by ``secure_cluster.k8s.kernel_modules``::

    canonical(name) -> str                       modprobe treats - and _ alike; /proc/modules prints _
    check_inputs(blacklist, required) -> [problem sentences]
    parse_proc_modules(text) -> {name: {"refcount": int, "users": [names]}}
    present_without_modules(name, root="/") -> bool   built in or visible without /proc/modules
    render_blacklist(names) -> str               "install <m> /bin/false" + "blacklist <m>" per module
    render_load(names) -> str                    modules-load.d: loaded at boot before systemd-sysctl
    plan(blacklist, required, loaded, present, container) -> {name: {"role", "status", "action"}}
        action: None | "load" | "unload"; status before the action runs
"""

from __future__ import annotations

import os
import re

NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
HEADER = ("# Managed by secure_cluster.k8s (kernel role). Local changes are overwritten; change the role's "
          "variables instead.\n")
# Where a module shows itself when /proc/modules cannot tell (built in, or a container).
PRESENCE = {
    "br_netfilter": ("dir", "proc/sys/net/bridge"),
    "overlay": ("filesystem", "overlay"),
}


def canonical(name):
    return name.replace("-", "_")


def check_inputs(blacklist, required):
    problems = []
    for name in list(blacklist) + list(required):
        if not NAME_RE.match(name or ""):
            problems.append("%r is not a kernel module name" % (name,))
    both = sorted(set(canonical(n) for n in blacklist) & set(canonical(n) for n in required))
    for name in both:
        problems.append("%s is refused in the blacklist: Kubernetes needs it loaded" % name)
    return problems


def parse_proc_modules(text):
    """/proc/modules lines: name size refcount users state address (users "a,b," or "-")."""
    modules = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        try:
            refcount = int(fields[2])
        except ValueError:
            refcount = 0
        users = [user for user in fields[3].split(",") if user and user != "-"]
        modules[fields[0]] = {"refcount": refcount, "users": users}
    return modules


def present_without_modules(name, root="/"):
    """Whether a module's function is there although /proc/modules does not list it (built in, container)."""
    name = canonical(name)
    if os.path.isdir(os.path.join(root, "sys/module", name)):
        return True
    kind, what = PRESENCE.get(name, (None, None))
    if kind == "dir":
        return os.path.isdir(os.path.join(root, what))
    if kind == "filesystem":
        try:
            with open(os.path.join(root, "proc/filesystems"), "r") as handle:
                return any(line.split()[-1:] == [what] for line in handle)
        except (IOError, OSError):
            return False
    return False


def render_blacklist(names):
    lines = [HEADER.rstrip("\n"), "# install: modprobe runs /bin/false instead (also for dependencies and aliases);",
             "# blacklist: no automatic loading by alias."]
    for name in names:
        lines.append("install %s /bin/false" % name)
        lines.append("blacklist %s" % name)
    return "\n".join(lines) + "\n"


def render_load(names):
    return HEADER + "".join("%s\n" % name for name in names)


def plan(blacklist, required, loaded, present, container=None):
    """What to report and do for each module.

    loaded: parse_proc_modules() of the node, or None when /proc/modules cannot be read.
    present: name -> present_without_modules(name).
    """
    result = {}
    for name in required:
        key = canonical(name)
        in_proc = loaded is not None and key in loaded
        if container:
            status = "host-owned" if in_proc or present.get(name) else "host-owned-missing"
            result[name] = {"role": "required", "status": status, "action": None}
        elif in_proc:
            result[name] = {"role": "required", "status": "loaded", "action": None}
        elif present.get(name):
            result[name] = {"role": "required", "status": "built-in", "action": None}
        else:
            result[name] = {"role": "required", "status": "not-loaded", "action": "load"}
    for name in blacklist:
        key = canonical(name)
        info = loaded.get(key) if loaded is not None else None
        if container:
            status = "host-owned-loaded" if info or present.get(name) else "host-owned"
            result[name] = {"role": "blacklisted", "status": status, "action": None}
        elif info is None:
            status = "built-in" if present.get(name) else "not-loaded"
            result[name] = {"role": "blacklisted", "status": status, "action": None}
        elif info["refcount"] > 0 or info["users"]:
            result[name] = {"role": "blacklisted", "status": "in-use", "action": None,
                            "users": info["users"], "refcount": info["refcount"]}
        else:
            result[name] = {"role": "blacklisted", "status": "loaded-unused", "action": "unload"}
    return result
