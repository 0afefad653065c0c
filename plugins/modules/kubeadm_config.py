#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kubeadm_config
short_description: Keep a control-plane component's hardened flags and volumes in the kubeadm ClusterConfiguration
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - C(kubeadm upgrade apply) and C(kubeadm upgrade node) regenerate the static pod manifests of kube-apiserver,
    kube-controller-manager, kube-scheduler and etcd from the C(kubeadm-config) ConfigMap in C(kube-system)
    (key C(ClusterConfiguration)), that is kubeadm's own flags overridden by the component's C(extraArgs), plus
    its C(extraVolumes). A flag set only in the manifest is lost at the next upgrade.
  - This module takes the same O(flags), O(replace), O(remove_flags) and O(volumes) as
    M(secure_cluster.k8s.static_pod_manifest), applies them to the node's manifest in memory, and writes the
    resulting value of each of those flags into the component's C(extraArgs) (a flag set to V(null) is dropped
    from it) and each of O(volumes) into C(extraVolumes). Other entries stay as they are, in their order.
  - Flags whose value is the node's own (etcd's URLs and member name, kube-apiserver's C(--advertise-address)) are
    not written, since one ClusterConfiguration serves every control-plane node; they are listed in RV(skipped).
  - The ConfigMap is read on the node with C(kubectl), edited on the controller with PyYAML, checked to read back
    the same, and written with C(kubectl replace) carrying the C(resourceVersion) it was read at, so a concurrent
    change is refused rather than overwritten. Understands C(kubeadm.k8s.io/v1beta4) (extraArgs as a list, what
    kubeadm 1.31 and later store) and C(v1beta3) (a map).
  - Run it after the component came back healthy with the same flags, so that a change the health gate rolled back
    never reaches the ClusterConfiguration.
options:
  component:
    description: The static pod whose section of the ClusterConfiguration is written, or V(kubelet) for the C(kubelet-config) ConfigMap.
    type: str
    required: true
    choices: [kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kubelet]
  manifest:
    description: The component's static pod manifest on this node; by default C(/etc/kubernetes/manifests/<component>.yaml).
    type: path
  flags:
    description: As in M(secure_cluster.k8s.static_pod_manifest).
  remove_flags:
    description: As in M(secure_cluster.k8s.static_pod_manifest); removed from C(extraArgs) too.
  replace:
    description: As in M(secure_cluster.k8s.static_pod_manifest).
    type: list
    elements: str
    default: []
  version:
    description: As in M(secure_cluster.k8s.static_pod_manifest).
    type: str
  settings:
    description:
      - For O(component=kubelet) only, instead of flags and volumes - KubeletConfiguration fields deep-merged into
        the C(kubelet-config) ConfigMap (key C(kubelet)) the way M(secure_cluster.k8s.kubelet_config) merges them
        into a node's file (dicts key by key, V(null) removes a key). C(kubeadm upgrade node) rewrites every
        kubelet's configuration file from that ConfigMap.
    type: dict
    default: {}
  kubeconfig:
    description: Kubeconfig on the node that may read and replace the C(kubeadm-config) ConfigMap.
    type: path
    default: /etc/kubernetes/admin.conf
  kubectl:
    description: Path or name of C(kubectl) on the node.
    type: str
    default: kubectl
  _expected_resource_version:
    description: Internal, set by the action plugin.
    type: str
extends_documentation_fragment:
  - secure_cluster.k8s.flag_edit
  - secure_cluster.k8s.static_pod_volumes
  - secure_cluster.k8s.owned_file.action_internal
attributes:
  action:
    support: full
    description: The action plugin edits on the controller; the module reads and writes on the node.
  check_mode:
    support: full
    description: RV(changes) lists what would be written; nothing is written.
  diff_mode:
    support: full
    description: The diff shows the ClusterConfiguration before and after.
  platform:
    support: full
    platforms: posix
    description: A kubeadm control-plane node.
notes:
  - A flag kubeadm sets that the hardening removes cannot be expressed in C(extraArgs); use kubeadm patches
    (C(--patches)) for it. None of the collection's roles removes one of kubeadm's own flags.
"""

EXAMPLES = r"""
- name: Keep the kube-scheduler hardening across kubeadm upgrade
  secure_cluster.k8s.kubeadm_config:
    component: kube-scheduler
    flags:
      profiling: false
      bind-address: 127.0.0.1
"""

RETURN = r"""
changes:
  description: What changed in the ClusterConfiguration, a sentence each (in check mode, what would).
  returned: always
  type: list
  elements: str
  sample: ["kube-scheduler extraArgs: profiling=false"]
skipped:
  description: Requested flags not written, with the reason.
  returned: always
  type: dict
  sample: {"listen-client-urls": "the value is this node's own; one ClusterConfiguration serves every control-plane node"}
extra_args:
  description: The component's C(extraArgs) after the call, as name and value pairs.
  returned: always
  type: list
  elements: list
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.secure_cluster.k8s.plugins.module_utils import kubeadm_config

NAMESPACE = "kube-system"


def _kubectl(module, args, data=None):
    p = module.params
    cmd = [module.get_bin_path(p["kubectl"], required=True), "--kubeconfig", p["kubeconfig"]] + args
    return module.run_command(cmd, data=data)


def _read(module, name, key):
    rc, out, err = _kubectl(module, ["-n", NAMESPACE, "get", "configmap", name, "-o", "json"])
    if rc != 0:
        module.fail_json(msg="cannot read ConfigMap %s/%s with kubectl: %s" % (NAMESPACE, name, err.strip()))
    try:
        obj = json.loads(out)
    except ValueError as exc:
        module.fail_json(msg="kubectl printed no JSON for ConfigMap %s/%s: %s" % (NAMESPACE, name, exc))
    if key not in (obj.get("data") or {}):
        module.fail_json(msg="ConfigMap %s/%s has no %s" % (NAMESPACE, name, key))
    return obj


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kubeadm_config.USER_ARGUMENT_SPEC,
            _mode=dict(type="str", choices=["read", "write"]),
            _content=dict(type="str"),
            _expected_resource_version=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not p["_mode"]:
        module.fail_json(msg="kubeadm_config runs through its action plugin (secure_cluster.k8s.kubeadm_config)")
    cm_name, cm_key = kubeadm_config.CONFIGMAPS[p["component"]]
    obj = _read(module, cm_name, cm_key)
    version = obj["metadata"].get("resourceVersion")
    if p["_mode"] == "read":
        module.exit_json(changed=False, content=obj["data"][cm_key], resource_version=version)
    if version != p["_expected_resource_version"]:
        module.fail_json(msg="ConfigMap %s/%s changed since it was read (resourceVersion %s, read at %s); nothing "
                             "written" % (NAMESPACE, cm_name, version, p["_expected_resource_version"]), conflict=True)
    if obj["data"][cm_key] == p["_content"]:
        module.exit_json(changed=False, resource_version=version)
    if module.check_mode:
        module.exit_json(changed=True, resource_version=version)
    obj["data"][cm_key] = p["_content"]
    obj["metadata"] = {"name": cm_name, "namespace": NAMESPACE, "resourceVersion": version,
                       "labels": obj["metadata"].get("labels") or {},
                       "annotations": obj["metadata"].get("annotations") or {}}
    rc, out, err = _kubectl(module, ["replace", "-o", "json", "-f", "-"], data=json.dumps(obj))
    if rc != 0:
        # HTTP 409 from the API server: another writer came between the read and the replace
        module.fail_json(msg="kubectl replace of ConfigMap %s/%s failed, nothing written: %s"
                             % (NAMESPACE, cm_name, err.strip()), conflict="the object has been modified" in err)
    try:
        written = json.loads(out)
    except ValueError:
        written = {}
    if (written.get("data") or {}).get(cm_key) != p["_content"]:
        module.fail_json(msg="ConfigMap %s/%s does not read back as written" % (NAMESPACE, cm_name))
    module.exit_json(changed=True, resource_version=written["metadata"].get("resourceVersion"))


if __name__ == "__main__":
    main()
