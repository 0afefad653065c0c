#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: static_pod_manifest
short_description: Set, merge and remove command-line flags in a kubeadm static pod manifest, safely
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - Edits C(spec.containers[N].command) of a static pod manifest (for example
    C(/etc/kubernetes/manifests/kube-apiserver.yaml)) structurally, one flag at a time, and leaves everything else
    in the manifest as it is. Flags are written as C(--name=value); existing flags keep their place, new ones are
    appended in name order.
  - List-valued flags (C(--enable-admission-plugins), C(--disable-admission-plugins), C(--authorization-mode),
    C(--tls-cipher-suites)) are merged with the members already there, and C(--feature-gates) key by key,
    unless the flag is named in O(replace).
  - Refuses, before anything is written, a flag the component does not accept at the node's Kubernetes version
    (the message names the version the flag was removed in), an unknown admission plugin, a plugin both enabled
    and disabled, C(EventRateLimit) or C(ImagePolicyWebhook) without an C(--admission-control-config-file) that
    configures it, an C(--authorization-mode) that loses C(Node) or C(RBAC), C(--anonymous-auth=false) on
    kube-apiserver while its probes are unauthenticated httpGet probes (the pod would restart-loop), a file-valued
    flag whose file is missing, unreadable or not inside a hostPath volume mounted into the container, and an
    C(--audit-log-path) whose directory is not on a writable mount.
  - Writes at most once per call, atomically (temporary file in the manifest directory, then rename), keeping the
    file's mode and owner, after copying the previous content to O(backup_dir). The kubelet runs every file in
    the manifest directory as a static pod, so the backup directory must be outside it.
  - This is an action plugin; the manifest is parsed and edited on the controller (PyYAML, which ships with
    ansible-core), the target only needs Python. One read and at most one write per manifest per task.
  - The options whose names start with an underscore are used by the action plugin to talk to the target and
    cannot be set in a task.
options:
  path:
    description: Path of the static pod manifest on the node.
    type: path
    required: true
  container:
    description: Name of the container to edit; the first container by default.
    type: str
  flags:
    description:
      - Flags to set, as a dict of flag name (with or without leading dashes) to value.
      - A list value is written as a comma list; a dict value (C(--feature-gates)) as C(K=V) pairs; a boolean as
        V(true) or V(false).
      - A null value removes the flag. For C(--feature-gates) a null value of one gate removes that gate.
  replace:
    description:
      - List-valued or map-valued flags (C(--enable-admission-plugins), C(--disable-admission-plugins),
        C(--authorization-mode), C(--tls-cipher-suites), C(--feature-gates)) whose value in O(flags) replaces
        the existing value instead of being merged with it.
    type: list
    elements: str
    default: []
  version:
    description:
      - Kubernetes version of the component (V(1.33) or V(1.33.5)); by default the tag of the container's image.
      - Supported are 1.28 to 1.37 (1.34 to 1.37 checked against the real binaries).
    type: str
  backup_dir:
    description:
      - Directory on the node for the copy of the previous content, C(<file name>.<UTC timestamp>.bak).
      - Must not be inside the manifest's directory.
    type: path
    default: /var/lib/secure_cluster/backups/manifests
  preflight:
    description:
      - Check on the node that every file a file-valued flag names exists and is readable (and that the
        C(--audit-log-path) directory is writable) before writing.
      - The mount checks (every such file inside a hostPath volume mounted into the container) are always made.
    type: bool
    default: true
  allow_probe_breaking:
    description:
      - Write C(--anonymous-auth=false) on kube-apiserver even though its probes are unauthenticated httpGet
        probes (a warning instead of a refusal). Only for clusters whose probes were changed otherwise.
    type: bool
    default: false
  _expected_sha256:
    description: Internal, set by the action plugin.
    type: str
  _node_checks:
    description: Internal, set by the action plugin.
    type: list
    elements: dict
    default: []
extends_documentation_fragment:
  - secure_cluster.k8s.flag_edit
  - secure_cluster.k8s.static_pod_volumes
  - secure_cluster.k8s.attributes.NODE_WRITE
  - secure_cluster.k8s.owned_file
  - secure_cluster.k8s.owned_file.action_internal
attributes:
  action:
    support: full
    description: The manifest is edited on the controller; the target reads and writes the file.
  async:
    support: none
    description: Not supported.
  diff_mode:
    support: full
    description: The diff shows the manifest before and after; RV(flags_changed) lists the flag changes.
  platform:
    support: full
    platforms: posix
    description: Targets are Linux Kubernetes nodes.
notes:
  - PyYAML drops comments; kubeadm writes none. Key order and kubeadm's block style are kept, and a manifest that
    needs no change is not rewritten.
  - After a write the kubelet restarts the pod; waiting for it to become healthy again is up to the caller.
  - Whether the file named by C(--admission-control-config-file) configures C(EventRateLimit) or
    C(ImagePolicyWebhook) is judged from its text (a C(name:) entry for the plugin), without parsing it.
seealso:
  - module: secure_cluster.k8s.cis_audit
"""

EXAMPLES = r"""
- name: Harden kube-scheduler
  secure_cluster.k8s.static_pod_manifest:
    path: /etc/kubernetes/manifests/kube-scheduler.yaml
    flags:
      profiling: false
      bind-address: 127.0.0.1
  become: true

- name: Audit logging and admission plugins on kube-apiserver, with the volumes the new files need
  secure_cluster.k8s.static_pod_manifest:
    path: /etc/kubernetes/manifests/kube-apiserver.yaml
    flags:
      enable-admission-plugins: [NodeRestriction, EventRateLimit]
      admission-control-config-file: /etc/kubernetes/admission/admission.yaml
      audit-policy-file: /etc/kubernetes/audit/policy.yaml
      audit-log-path: /var/log/kubernetes/audit/audit.log
      audit-log-maxage: 30
      feature-gates: {RotateKubeletServerCertificate: true}
    remove_flags: [insecure-port]
    volumes:
      - {name: admission, hostPath: /etc/kubernetes/admission, type: DirectoryOrCreate}
      - {name: audit-policy, hostPath: /etc/kubernetes/audit, type: DirectoryOrCreate}
      - {name: audit-log, hostPath: /var/log/kubernetes/audit, readOnly: false, type: DirectoryOrCreate}
  become: true
  register: apiserver_manifest

- name: Replace the cipher suites instead of adding to them
  secure_cluster.k8s.static_pod_manifest:
    path: /etc/kubernetes/manifests/kube-apiserver.yaml
    flags:
      tls-cipher-suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
    replace: [tls-cipher-suites]
  become: true
"""

RETURN = r"""
flags_changed:
  description:
    - The flag changes, C(added) (name to value), C(changed) (name to C(before) and C(after)) and C(removed)
      (name to the old value). Names have no leading dashes. Also returned in check mode.
  returned: success
  type: dict
  sample: {"added": {"profiling": "false"}, "changed": {}, "removed": {}}
volumes_added:
  description: Names of the pod volumes added.
  returned: success
  type: list
  elements: str
version:
  description: The Kubernetes version the flags were checked against.
  returned: success
  type: str
  sample: 1.33.5
component:
  description: The component the container runs (for example V(kube-apiserver)).
  returned: success
  type: str
container:
  description: Name of the container edited.
  returned: success
  type: str
backup_path:
  description: Path of the backup of the previous content on the node; null when nothing was written.
  returned: success
  type: str
  sample: /var/lib/secure_cluster/backups/manifests/kube-scheduler.yaml.20260601T120000.000000Z.bak
errors:
  description: Every reason the change was refused (nothing was written).
  returned: failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.secure_cluster.k8s.plugins.module_utils import static_pod_node

ARGUMENT_SPEC = dict(
    static_pod_node.USER_ARGUMENT_SPEC,
    _mode=dict(type="str", choices=["read", "write"]),
    _content=dict(type="str"),
    _expected_sha256=dict(type="str"),
    _node_checks=dict(type="list", elements="dict", default=[]),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    path = params["path"]
    mode = params["_mode"]
    if mode is None:
        module.fail_json(msg="secure_cluster.k8s.static_pod_manifest runs through its action plugin; "
                             "call it by its full name from a task")
    try:
        if mode == "read":
            module.exit_json(changed=False, manifest=static_pod_node.read_manifest(path))
        if params["_content"] is None:
            module.fail_json(msg="_content is required in write mode")
        if params["preflight"]:
            problems = static_pod_node.check_node_paths(params["_node_checks"])
            if problems:
                module.fail_json(msg="refused, nothing written to %s: %s" % (path, "; ".join(problems)),
                                 errors=problems)
        result = static_pod_node.write_manifest(path, params["_content"], params["_expected_sha256"],
                                                params["backup_dir"], params["backup_keep"], module.check_mode)
    except static_pod_node.ManifestError as exc:
        module.fail_json(msg=to_native(exc), errors=[to_native(exc)])
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot update %s: %s" % (path, to_native(exc)))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
