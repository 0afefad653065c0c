# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node's kernel as the kubelet and the benchmark see it: sysctl values and the loaded modules.

Standard library only; shipped with the ``node_facts`` module. Read from /proc, never from sysctl.conf: what the
kernel runs with is what counts.
"""

from __future__ import annotations


DEFAULT_SYSCTLS = (
    # what kubelet --protect-kernel-defaults checks
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
    # networking the node needs / hardening
    "net.ipv4.ip_forward",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "net.ipv4.conf.all.send_redirects",
    "net.ipv4.conf.default.send_redirects",
    "net.ipv4.conf.all.accept_redirects",
    "net.ipv4.conf.default.accept_redirects",
    "net.ipv4.conf.all.accept_source_route",
    "net.ipv4.conf.default.accept_source_route",
    "kernel.kptr_restrict",
    "kernel.dmesg_restrict",
    "kernel.unprivileged_bpf_disabled",
    "fs.protected_hardlinks",
    "fs.protected_symlinks",
)


def sysctl_values(node, names):
    """Each sysctl's value (whitespace collapsed), None when the kernel does not have it."""
    out = {}
    for name in names:
        path = "/proc/sys/" + name.replace(".", "/")
        text = node.read_text(path, record_error=False, limit=4096)
        out[name] = None if text is None else " ".join(text.split())
    return out


def kernel_modules(node):
    """The loaded kernel modules, or why they cannot be known."""
    text = node.read_text("/proc/modules", record_error=False)
    if text is None:
        return {"available": False, "loaded": [], "reason": "/proc/modules is not readable on this node"}
    loaded = sorted(set(line.split()[0] for line in text.splitlines() if line.strip()))
    return {"available": True, "loaded": loaded}
