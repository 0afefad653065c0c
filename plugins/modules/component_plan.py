#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: component_plan
short_description: The flags, volumes or kubelet settings a hardening role asks of its component, control by control
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - Computes, on the controller, what the role of O(component) writes with its editing module
    (M(secure_cluster.k8s.static_pod_manifest), M(secure_cluster.k8s.etcd_env_file),
    M(secure_cluster.k8s.kubeadm_config), M(secure_cluster.k8s.kubelet_config)), and which control each flag or
    setting comes from.
  - Each enabled control (C(<component>_cis_<id>_enabled)) adds its fragment, in the order of the benchmark's ids;
    then the role's C(<component>_extra_flags) (C(kubelet_extra_settings), deep-merged) goes over them.
  - The role's variables are read from the task's variables, not passed in; only those a plan needs are templated.
    A variable the plan needs and lacks fails the task naming it.
  - It opens no connection and changes nothing; the roles call it before their editing module.
options:
  component:
    description:
      - The role whose plan to compute; its public variables (C(<component>_*), not C(<component>__*)) are read.
    type: str
    required: true
    choices: [apiserver, controller_manager, scheduler, etcd, kubelet]
  current:
    description:
      - The flags of the running manifest (the C(flags) of the P(secure_cluster.k8s.pod_flags#filter) filter).
        V(apiserver) computes its list flags from the current members (forbidden ones dropped, required ones
        added) and leaves out C(--authorization-mode) when C(--authorization-config) is set.
    type: dict
  derived:
    description:
      - Values the role derives from its node.
      - V(apiserver) needs C(anonymous_mode) (V(disabled), V(rbac) or V(restricted), C(auto) resolved by the
        version), C(use_authn_config) (the AuthenticationConfiguration file replaces C(--anonymous-auth)),
        C(oidc_enabled) and C(kubelet_ca_deferred) (CIS 1.2.5 left out on this node).
      - V(etcd) needs C(node_ip) when C(etcd_bind_enabled).
    type: dict
extends_documentation_fragment:
  - secure_cluster.k8s.attributes.CONTROLLER
  - secure_cluster.k8s.attributes.READ_ONLY
notes:
  - A V(null) flag value means the flag is removed; in C(settings) a V(null) field is removed from the
    KubeletConfiguration by M(secure_cluster.k8s.kubelet_config).
seealso:
  - module: secure_cluster.k8s.static_pod_manifest
  - module: secure_cluster.k8s.kubelet_config
"""

EXAMPLES = r"""
- name: Plan the kube-scheduler flags (CIS 1.4.x)
  secure_cluster.k8s.component_plan:
    component: scheduler
  register: scheduler_plan

- name: Set them in the manifest
  secure_cluster.k8s.static_pod_manifest:
    path: /etc/kubernetes/manifests/kube-scheduler.yaml
    flags: "{{ scheduler_plan.flags }}"

- name: Plan the kube-apiserver flags and volumes from the running manifest
  secure_cluster.k8s.component_plan:
    component: apiserver
    current: "{{ apiserver_pod.flags }}"
    derived:
      anonymous_mode: restricted
      use_authn_config: true
      oidc_enabled: false
      kubelet_ca_deferred: false
  register: apiserver_plan
"""

RETURN = r"""
component:
  description: The component planned.
  returned: success
  type: str
  sample: scheduler
flags:
  description:
    - The flags to set, name without dashes to value (V(null) removes the flag). Not for V(kubelet).
  returned: success and component is not kubelet
  type: dict
  sample: {profiling: false, bind-address: 127.0.0.1}
settings:
  description: The KubeletConfiguration fields to merge into the kubelet's configuration (V(null) removes one).
  returned: success and component is kubelet
  type: dict
  sample: {readOnlyPort: 0, authentication: {anonymous: {enabled: false}}}
volumes:
  description: The hostPath volumes of the supporting files, as M(secure_cluster.k8s.static_pod_manifest) takes them.
  returned: success and component is apiserver
  type: list
  elements: dict
controls:
  description:
    - For each flag (for V(kubelet) each dotted settings field), where its value comes from, in the order
      applied (the last one set it), a CIS id (V(1.4.1)) or a variable name (V(scheduler_extra_flags),
      V(etcd_bind_enabled)). A list flag rewritten from its current members alone has an empty list.
  returned: success
  type: dict
  sample: {profiling: ["1.4.1"], bind-address: ["1.4.2", scheduler_extra_flags]}
volume_controls:
  description: For each volume name of RV(volumes), where it comes from, as in RV(controls).
  returned: success and component is apiserver
  type: dict
  sample: {sck8s-audit-log: ["1.2.16"]}
"""
