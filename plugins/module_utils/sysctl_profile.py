# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel parameters as one owned sysctl.d file, applied live through /proc/sys, with Kubernetes' invariants.

Standard library only (runs on the node). Used by ``secure_cluster.k8s.sysctl_profile``::

    KUBELET_PROTECTED                      what kubelet's protectKernelDefaults checks, with the values it expects
    normalize(value) -> str                "1", "10", "32768 60999", "|/bin/false"
    check_inputs(sysctls, required) -> [problem sentences]   names, values, overrides that break an invariant
    is_namespaced(name) -> bool            per network/IPC namespace (a container may set it)
    render(path, sysctls, host_owned) -> str          the file content
    shadowing(sysctls, path, root="/") -> [sentences] later sysctl.d files that override a value at boot
    apply(sysctls, container, check_mode, proc_sys) -> {name: result}
        result: {value, before, after, status} with status one of
        ok | applied | would-apply | refused | missing | host-owned | host-owned-mismatch
"""

from __future__ import annotations

import errno
import glob
import os
import re

KUBELET_PROTECTED = (
    ("vm.overcommit_memory", "1"),
    ("vm.panic_on_oom", "0"),
    ("kernel.panic", "10"),
    ("kernel.panic_on_oops", "1"),
    ("kernel.keys.root_maxkeys", "1000000"),
    ("kernel.keys.root_maxbytes", "25000000"),
)

# Per-namespace keys besides net.*: the IPC namespace's (see sysctl(8), namespaces(7)).
IPC_KEYS = frozenset((
    "kernel.shmmax", "kernel.shmall", "kernel.shmmni", "kernel.shm_rmid_forced", "kernel.msgmax",
    "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "fs.mqueue.queues_max", "fs.mqueue.msg_max",
    "fs.mqueue.msgsize_max", "fs.mqueue.msg_default", "fs.mqueue.msgsize_default",
))

NAME_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_:@+-]+)+$")
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")
STATUS_FAILED = ("refused", "missing")


def normalize(value):
    """Values as the kernel prints them: booleans as 0/1, whitespace-separated fields joined by one space."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return " ".join(str(value).split())


def check_inputs(sysctls, required):
    """Refusals before anything is read or written: bad names or values, and invariants an override breaks."""
    problems = []
    for name, value in sysctls.items():
        if not NAME_RE.match(name):
            problems.append("%r is not a sysctl name (dotted form such as net.ipv4.ip_forward)" % name)
        elif value is None or normalize(value) == "":
            problems.append("%s has no value" % name)
        elif "\n" in str(value):
            problems.append("%s: a value cannot contain a newline" % name)
    for name, value in required.items():
        if name in sysctls and sysctls[name] is not None and normalize(sysctls[name]) != normalize(value):
            problems.append(
                "%s = %s is refused: Kubernetes needs %s = %s (pods lose their network otherwise)"
                % (name, normalize(sysctls[name]), name, normalize(value)))
    return problems


def is_namespaced(name):
    return name.startswith("net.") or name in IPC_KEYS


def proc_path(name, proc_sys="/proc/sys"):
    # sysctl(8): dots separate levels; a slash in a name stands for a dot inside one level (interface names).
    return os.path.join(proc_sys, *[part.replace("/", ".") for part in name.split(".")])


def read_live(name, proc_sys="/proc/sys"):
    """(value, error): value None when the key does not exist or cannot be read."""
    try:
        with open(proc_path(name, proc_sys), "r") as handle:
            return normalize(handle.read()), None
    except (IOError, OSError) as exc:
        return None, exc


def write_live(name, value, proc_sys="/proc/sys"):
    with open(proc_path(name, proc_sys), "w") as handle:
        handle.write(value + "\n")


def render(path, sysctls, host_owned=()):
    """The owned file: one "key = value" line per parameter; host-owned ones only as comments."""
    lines = [
        "# Managed by secure_cluster.k8s (kernel role): Kubernetes-aware kernel hardening. Local changes are",
        "# overwritten; change the role's variables instead.",
    ]
    for name in sysctls:
        if name in host_owned:
            lines.append("# %s = %s   (host-owned in this container: set it on the host)" % (name, sysctls[name]))
        else:
            lines.append("%s = %s" % (name, sysctls[name]))
    return "\n".join(lines) + "\n"


def parse_conf(text):
    """{name: value} of a sysctl.d file (later lines win; '-' prefixes and comments ignored)."""
    result = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        name, value = line.split("=", 1)
        name = name.strip().lstrip("-")
        if "." not in name:
            name = name.replace("/", ".")
        result[name] = normalize(value)
    return result


def boot_order(root="/"):
    """The sysctl.d files systemd-sysctl reads, in order: by basename, the first directory wins a name."""
    chosen = {}
    for directory in SYSCTL_DIRS:
        for path in glob.glob(os.path.join(root, directory.lstrip("/"), "*.conf")):
            chosen.setdefault(os.path.basename(path), path)
    ordered = [chosen[name] for name in sorted(chosen)]
    conf = os.path.join(root, "etc/sysctl.conf")
    if os.path.isfile(conf) and not any(os.path.realpath(p) == os.path.realpath(conf) for p in ordered):
        ordered.append(conf)
    return ordered


def shadowing(sysctls, path, root="/"):
    """Sentences for each parameter a file read after ours sets to another value (it wins at boot)."""
    ours = os.path.join(root, path.lstrip("/"))
    files = boot_order(root)
    if ours not in files:
        files = sorted(files + [ours], key=os.path.basename)
    found = []
    for other in files[files.index(ours) + 1:]:
        try:
            with open(other, "r") as handle:
                values = parse_conf(handle.read())
        except (IOError, OSError, UnicodeDecodeError):
            continue
        for name, value in values.items():
            if name in sysctls and value != sysctls[name]:
                shown = "/" + os.path.relpath(other, root)
                found.append("%s sets %s = %s after this file (it wins at boot over %s)"
                             % (shown, name, value, sysctls[name]))
    return found


def apply(sysctls, container=None, check_mode=False, proc_sys="/proc/sys"):
    """Apply each parameter live (unless host-owned), read it back, and say what happened to it."""
    results = {}
    for name, value in sysctls.items():
        before, error = read_live(name, proc_sys)
        entry = {"value": value, "before": before, "after": before}
        results[name] = entry
        if before is None:
            if error is not None and getattr(error, "errno", None) not in (errno.ENOENT, errno.ENOTDIR):
                entry.update(status="refused", message="cannot read it: %s" % error)
            else:
                entry.update(status="missing", message="this kernel has no %s (module not loaded?)" % name)
            continue
        if container and not is_namespaced(name):
            if before == value:
                entry.update(status="host-owned", message="host-global in a container; the host has it")
            else:
                entry.update(status="host-owned-mismatch",
                             message="host-global in a container: the host has %s, wanted %s (set it on the host)"
                             % (before, value))
            continue
        if before == value:
            entry["status"] = "ok"
            continue
        if check_mode:
            entry.update(status="would-apply", after=value)
            continue
        try:
            write_live(name, value, proc_sys)
        except (IOError, OSError) as exc:
            entry.update(status="refused", message="the kernel refused %s = %s: %s" % (name, value, exc))
            continue
        after, _error = read_live(name, proc_sys)
        entry["after"] = after
        if after == value:
            entry["status"] = "applied"
        else:
            entry.update(status="refused", message="wrote %s but the kernel reads back %s" % (value, after))
    return results
