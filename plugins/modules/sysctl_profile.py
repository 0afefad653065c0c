#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sysctl_profile
short_description: Kernel parameters in one owned sysctl.d file, applied live, without breaking Kubernetes
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - Writes O(sysctls) as one file under C(/etc/sysctl.d/) that this module owns (the whole file is replaced), then
    applies each parameter live through C(/proc/sys), reads it back and reports per parameter what happened.
  - Refused before anything is read or written, with the reason, are invalid names or empty values and any
    parameter that O(required) pins to another value (for example C(net.ipv4.ip_forward=0), which would cut pods
    off the network).
  - Each required parameter must be live after the run (or already be, in check mode), otherwise the module
    fails naming it; other parameters the kernel refuses or does not have are reported, not failed, unless
    O(strict=true).
  - In a container (detected like C(systemd-detect-virt --container), or forced with O(node_kind)) only
    per-namespace parameters (C(net.*) and the IPC ones) are applied. C(kernel.*), C(vm.*) and C(fs.*) belong to
    the host; they are read, reported as C(host-owned) (or C(host-owned-mismatch) when the host has another
    value), never written, and appear in the file only as comments.
  - Warns about sysctl.d files read after this one at boot that set one of the parameters to another value.
options:
  sysctls:
    description:
      - Parameter name (dotted, as C(sysctl) prints it) to value. Integers and booleans are written as numbers;
        whitespace inside a value is collapsed to one space, as the kernel prints it.
      - The file lists them in this order.
    type: dict
    required: true
  required:
    description:
      - Parameters Kubernetes needs (name to value). A value in O(sysctls) that differs is refused; each one must
        be live at the end.
    type: dict
    default: {}
  path:
    description: The owned file; mode V(0644), owner C(root).
    type: path
    default: /etc/sysctl.d/99-secure-cluster-k8s.conf
  apply:
    description: Apply the parameters live through C(/proc/sys). V(false) only writes the file.
    type: bool
    default: true
  node_kind:
    description:
      - V(auto) detects a container; V(host) and V(container) force the answer.
    type: str
    choices: [auto, host, container]
    default: auto
  strict:
    description:
      - Fail when a parameter is refused by the kernel, missing on it, or host-owned with another value.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports what would be written and applied (status C(would-apply)) without changing anything.
  diff_mode:
    support: full
    description: The file before and after.
  platform:
    support: full
    platforms: posix
    description: Linux nodes (C(/proc/sys)).
notes:
  - Run it as root (C(become=true)).
  - C(/proc/sys) in a container is often read-only; per-namespace parameters are then reported as C(refused).
seealso:
  - name: sysctl.d(5)
    description: Boot-time application of the file and its ordering.
    link: https://www.freedesktop.org/software/systemd/man/latest/sysctl.d.html
"""

EXAMPLES = r"""
- name: Kubernetes-aware kernel parameters
  secure_cluster.k8s.sysctl_profile:
    sysctls:
      net.ipv4.ip_forward: 1
      net.bridge.bridge-nf-call-iptables: 1
      net.ipv4.conf.all.send_redirects: 0
      kernel.kptr_restrict: 2
      kernel.dmesg_restrict: 1
      vm.overcommit_memory: 1
      kernel.panic: 10
      kernel.panic_on_oops: 1
    required:
      net.ipv4.ip_forward: 1
      net.bridge.bridge-nf-call-iptables: 1
  become: true
  register: kernel_sysctls
"""

RETURN = r"""
path:
  description: The owned file.
  returned: always
  type: str
  sample: /etc/sysctl.d/99-secure-cluster-k8s.conf
file_changed:
  description: Whether the file's content or mode changed (or would).
  returned: success
  type: bool
container:
  description: The container manager when this is a container (C(podman), C(docker), ...), else null.
  returned: success
  type: str
  sample: podman
parameters:
  description:
    - Per parameter C(value) (wanted), C(before) and C(after) (live values, null when absent), C(status) and, for
      the ones that did not apply, C(message).
    - C(status) is one of C(ok) (already live), C(applied), C(would-apply) (check mode), C(refused) (the kernel
      refused the write or reads back another value), C(missing) (the kernel has no such parameter),
      C(host-owned) (container; the host has the value), C(host-owned-mismatch) (container; it does not).
  returned: success
  type: dict
  sample: {"kernel.panic": {"value": "10", "before": "0", "after": "10", "status": "applied"}}
applied:
  description: Parameters changed live (or that would be, in check mode).
  returned: success
  type: list
  elements: str
host_owned:
  description: Parameters that belong to the host in this container (matching or not).
  returned: success
  type: list
  elements: str
not_applied:
  description: Parameters with status C(refused), C(missing) or C(host-owned-mismatch).
  returned: success
  type: list
  elements: str
shadowed:
  description: Files read after this one at boot that set a parameter to another value.
  returned: success
  type: list
  elements: str
problems:
  description: Why the module failed; when it failed before writing, nothing was changed.
  returned: failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.secure_cluster.k8s.plugins.module_utils import kernel_node
from ansible_collections.secure_cluster.k8s.plugins.module_utils import sysctl_profile as sp


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sysctls=dict(type="dict", required=True),
            required=dict(type="dict", default={}),
            path=dict(type="path", default="/etc/sysctl.d/99-secure-cluster-k8s.conf"),
            apply=dict(type="bool", default=True),
            **kernel_node.COMMON_ARGS
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = params["path"]
    problems = sp.check_inputs(params["sysctls"], params["required"])
    if problems:
        module.fail_json(msg="sysctl_profile refused the parameters, nothing was changed: " + "; ".join(problems),
                         problems=problems, path=path)

    wanted = dict((name, sp.normalize(value)) for name, value in params["sysctls"].items())
    required = dict((name, sp.normalize(value)) for name, value in params["required"].items())
    for name, value in required.items():
        wanted.setdefault(name, value)

    container = kernel_node.container_for(params["node_kind"])
    host_owned_names = [name for name in wanted if container and not sp.is_namespaced(name)]

    # In check mode an earlier task may only have predicted loading the module that provides a key (br_netfilter).
    if params["apply"] and not module.check_mode:
        absent = [name for name in required if sp.read_live(name)[0] is None]
        if absent:
            problems = ["%s does not exist on this kernel: Kubernetes needs it = %s (load its module first, e.g. "
                        "br_netfilter for net.bridge.*)" % (name, required[name]) for name in absent]
            module.fail_json(msg="sysctl_profile: nothing was changed: " + "; ".join(problems), problems=problems,
                             path=path)

    content = sp.render(path, wanted, host_owned_names)
    written = kernel_node.owned_file(module, path, content)
    file_changed = written["changed"]

    if params["apply"]:
        results = sp.apply(wanted, container=container, check_mode=module.check_mode)
    else:
        results = dict((name, {"value": value, "status": "not-applied"}) for name, value in wanted.items())

    by_status = {}
    for name, entry in results.items():
        by_status.setdefault(entry["status"], []).append(name)
    applied = by_status.get("applied", []) + by_status.get("would-apply", [])
    not_applied = [name for name, entry in results.items()
                   if entry["status"] in ("refused", "missing", "host-owned-mismatch")]
    shadowed = sp.shadowing(dict((n, v) for n, v in wanted.items() if n not in host_owned_names), path)
    for name in not_applied:
        module.warn("%s: %s" % (name, results[name].get("message", results[name]["status"])))
    for sentence in shadowed:
        module.warn(sentence)

    result = dict(
        changed=file_changed or bool(applied), path=path, file_changed=file_changed, container=container,
        parameters=results, applied=applied, host_owned=host_owned_names, not_applied=not_applied, shadowed=shadowed,
    )
    if module._diff and file_changed:
        result["diff"] = dict(before=written["before"] or "", after=content, before_header=path, after_header=path)

    failed = []
    if params["apply"]:
        for name in required:
            status = results[name]["status"]
            if status not in ("ok", "applied", "would-apply", "host-owned") and not (
                    module.check_mode and status == "missing"):
                failed.append("%s must be %s for Kubernetes: %s" % (
                    name, required[name], results[name].get("message", status)))
    if params["strict"]:
        failed.extend("%s: %s" % (name, results[name].get("message")) for name in not_applied
                      if name not in required)
    if failed:
        module.fail_json(msg="sysctl_profile: " + "; ".join(failed), problems=failed, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
