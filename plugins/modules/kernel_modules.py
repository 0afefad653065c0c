#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kernel_modules
short_description: Blacklist kernel modules and keep the ones Kubernetes needs loaded, in one call
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - Writes O(blacklist_path) (C(install <module> /bin/false) and C(blacklist <module>) for each module of
    O(blacklist)) and O(load_path) (the modules of O(required), loaded at boot by systemd-modules-load before
    systemd-sysctl applies C(net.bridge.*)). Both files are owned by this module and replaced whole.
  - Loads each required module that is not loaded (C(modprobe)); the module fails, naming it, when one cannot be
    loaded.
  - A blacklisted module that is loaded but unused (reference count 0, no dependent module) is unloaded with
    C(modprobe -r) when O(unload=true). One in use is never unloaded; it is reported as C(in-use) and stays
    loaded until the next boot.
  - A required module in O(blacklist) is refused before anything is written.
  - In a container (detected like C(systemd-detect-virt --container), or O(node_kind=container)) the kernel and
    its modules belong to the host. Nothing is written or loaded; each module is reported as C(host-owned) (or
    C(host-owned-missing) for a required module the host has not loaded, C(host-owned-loaded) for a blacklisted
    one the host has loaded).
options:
  blacklist:
    description: Modules that must not be loaded.
    type: list
    elements: str
    default: []
  required:
    description: Modules Kubernetes needs (C(br_netfilter) for C(net.bridge.bridge-nf-call-iptables), C(overlay)).
    type: list
    elements: str
    default: [br_netfilter, overlay]
  blacklist_path:
    description: The owned modprobe.d file.
    type: path
    default: /etc/modprobe.d/secure-cluster-k8s-blacklist.conf
  load_path:
    description: The owned modules-load.d file.
    type: path
    default: /etc/modules-load.d/secure-cluster-k8s.conf
  unload:
    description: Unload blacklisted modules that are loaded and unused.
    type: bool
    default: true
  node_kind:
    description: V(auto) detects a container; V(host) and V(container) force the answer.
    type: str
    choices: [auto, host, container]
    default: auto
  strict:
    description: Fail when a blacklisted module stays loaded (in use) or a required one is missing on the host of
      a container.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports C(would-load), C(would-unload) and the file changes without changing anything.
  diff_mode:
    support: full
    description: Both files before and after.
  platform:
    support: full
    platforms: posix
    description: Linux nodes with kmod.
notes:
  - Run it as root (C(become=true)).
"""

EXAMPLES = r"""
- name: Uncommon network protocols off, br_netfilter and overlay on
  secure_cluster.k8s.kernel_modules:
    blacklist: [dccp, sctp, rds, tipc]
    required: [br_netfilter, overlay]
  become: true
"""

RETURN = r"""
modules:
  description:
    - Per module C(role) (C(required) or C(blacklisted)) and C(status), and C(message) when something is left
      to the user.
    - Required C(status) is C(loaded), C(built-in), C(loaded-now), C(would-load), C(host-owned) or
      C(host-owned-missing); blacklisted C(status) is C(not-loaded), C(built-in) (cannot be blocked),
      C(unloaded), C(would-unload), C(in-use), C(loaded-unused) (O(unload=false)), C(host-owned) or
      C(host-owned-loaded).
  returned: success
  type: dict
  sample: {"dccp": {"role": "blacklisted", "status": "unloaded"}, "overlay": {"role": "required", "status": "loaded"}}
container:
  description: The container manager when this is a container, else null.
  returned: success
  type: str
files_changed:
  description: The owned files whose content changed (or would).
  returned: success
  type: list
  elements: str
problems:
  description: Why the module failed.
  returned: failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.secure_cluster.k8s.plugins.module_utils import kernel_modules as km
from ansible_collections.secure_cluster.k8s.plugins.module_utils import kernel_node


def main():
    module = AnsibleModule(
        argument_spec=dict(
            blacklist=dict(type="list", elements="str", default=[]),
            required=dict(type="list", elements="str", default=["br_netfilter", "overlay"]),
            blacklist_path=dict(type="path", default="/etc/modprobe.d/secure-cluster-k8s-blacklist.conf"),
            load_path=dict(type="path", default="/etc/modules-load.d/secure-cluster-k8s.conf"),
            unload=dict(type="bool", default=True),
            **kernel_node.COMMON_ARGS
        ),
        supports_check_mode=True,
    )
    params = module.params
    problems = km.check_inputs(params["blacklist"], params["required"])
    if problems:
        module.fail_json(msg="kernel_modules refused the input, nothing was changed: " + "; ".join(problems),
                         problems=problems)
    container = kernel_node.container_for(params["node_kind"])

    text = kernel_node.read_text("/proc/modules")
    loaded = km.parse_proc_modules(text) if text is not None else None
    names = params["required"] + params["blacklist"]
    present = dict((name, km.present_without_modules(name)) for name in names)
    modules = km.plan(params["blacklist"], params["required"], loaded, present, container)

    files_changed, diffs, failed = [], [], []
    if not container:
        for path, content in ((params["blacklist_path"], km.render_blacklist(params["blacklist"])),
                              (params["load_path"], km.render_load(params["required"]))):
            written = kernel_node.owned_file(module, path, content)
            if written["changed"]:
                files_changed.append(path)
                diffs.append(dict(before=written["before"] or "", after=content, before_header=path,
                                  after_header=path))
        modprobe = module.get_bin_path("modprobe", required=True)
        for name, entry in modules.items():
            action = entry.pop("action")
            if action == "load":
                if module.check_mode:
                    entry["status"] = "would-load"
                    continue
                rc, _out, err = module.run_command([modprobe, name])
                if rc == 0:
                    entry["status"] = "loaded-now"
                else:
                    entry["message"] = "modprobe %s failed: %s" % (name, err.strip())
                    failed.append("%s is needed by Kubernetes and cannot be loaded: %s" % (name, err.strip()))
            elif action == "unload" and params["unload"]:
                if module.check_mode:
                    entry["status"] = "would-unload"
                    continue
                rc, _out, err = module.run_command([modprobe, "-r", name])
                if rc == 0:
                    entry["status"] = "unloaded"
                else:
                    entry.update(status="in-use", message="modprobe -r failed: %s" % err.strip())
    for entry in modules.values():
        entry.pop("action", None)

    for name, entry in modules.items():
        status = entry["status"]
        if status == "in-use":
            entry.setdefault("message", "loaded and in use (%s): not unloaded; blocked from the next boot"
                             % ", ".join(entry.get("users") or ["refcount %s" % entry.get("refcount")]))
        elif status == "host-owned-missing":
            entry["message"] = "Kubernetes needs it, and it belongs to the host of this container: load it there"
        elif status == "host-owned-loaded":
            entry["message"] = "blacklisted but loaded on the host of this container: blacklist it there"
        elif status == "built-in" and entry["role"] == "blacklisted":
            entry["message"] = "built into the kernel: a blacklist cannot block it"
        if "message" in entry and status not in ("loaded-now",):
            module.warn("%s: %s" % (name, entry["message"]))
            if params["strict"] and status != "built-in":
                failed.append("%s: %s" % (name, entry["message"]))

    changed = bool(files_changed) or any(
        entry["status"] in ("loaded-now", "would-load", "unloaded", "would-unload") for entry in modules.values())
    result = dict(changed=changed, modules=modules, container=container, files_changed=files_changed)
    if module._diff and diffs:
        result["diff"] = diffs
    if failed:
        module.fail_json(msg="kernel_modules: " + "; ".join(failed), problems=failed, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
