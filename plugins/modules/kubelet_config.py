#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kubelet_config
short_description: Merge settings into the kubelet's KubeletConfiguration file, validated before it is written
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - Deep-merges O(settings) into the node's existing C(KubeletConfiguration) (C(kubelet.config.k8s.io/v1beta1)),
    keeping everything else kubeadm wrote (clusterDNS, cgroupDriver, staticPodPath, ...).
  - Reads the file, the kernel parameters the kubelet checks, the kubelet version and the state of the files the
    configuration names with one read-only M(secure_cluster.k8s.node_facts) call; merges and validates on the
    controller; writes the file once, with one M(secure_cluster.k8s.owned_file) call (refused if the file changed
    since it was read, the previous content saved to O(backup_dir) and pruned to O(backup_keep), the new one staged
    outside the file's directory and renamed over it), only when its content or its mode/ownership differ.
  - Nothing is written when validation fails. Refused are fields the node's kubelet version does not know (the
    kubelet would ignore them and the control would not take effect), wrong types (booleans, integers, duration
    strings such as V(5m) or V(4h0m0s), TLS version names, Go cipher suite names), ports out of range,
    C(authentication.anonymous.enabled=false) without webhook or x509 authentication,
    C(authorization.mode=Webhook) without webhook authentication, and files named by C(clientCAFile),
    C(tlsCertFile) or C(tlsPrivateKeyFile) that do not exist on the node.
  - C(protectKernelDefaults=true) is refused unless C(vm.overcommit_memory=1), C(vm.panic_on_oom=0),
    C(kernel.panic=10), C(kernel.panic_on_oops=1), C(kernel.keys.root_maxkeys=1000000) and
    C(kernel.keys.root_maxbytes=25000000) are already live on the node, because the kubelet would refuse to start;
    the message names each parameter with its expected and actual value. The kernel role of this collection sets
    them.
  - The kubelet is not restarted; notify a handler when RV(ignore:changed).
  - This is an action plugin; it needs PyYAML on the controller and nothing but Python on the target.
options:
  backup_dir:
    default: /var/lib/secure_cluster/backups/kubelet
  settings:
    description:
      - KubeletConfiguration fields to set, as a nested dict deep-merged into the file (dicts are merged key by
        key, other values replace).
      - A V(null) value removes the key (the kubelet then uses its default).
    type: dict
    required: true
  path:
    description:
      - The kubelet configuration file on the node.
      - Defaults to the C(--config) of the running kubelet, else of its systemd unit, else
        C(/var/lib/kubelet/config.yaml).
    type: path
  version:
    description:
      - Kubernetes version of the node's kubelet (V(1.33), V(v1.33.5)); selects the fields that are accepted.
      - Detected with C(kubelet --version) when omitted.
    type: str
  mode:
    description:
      - Mode of the file, octal. CIS 4.1.9 asks for V(0600) or stricter; kubeadm writes V(0644).
      - The owner and group are always C(root).
    type: raw
    default: '0600'
extends_documentation_fragment:
  - secure_cluster.k8s.owned_file
attributes:
  action:
    support: full
    description: Merging and validation run on the controller.
  async:
    support: none
    description: Not supported.
  check_mode:
    support: full
    description: Predicts the change (RV(ignore:changed), RV(changed_keys), the diff) without writing anything.
  diff_mode:
    support: full
    description: The file's YAML before and after, and its mode and ownership when they change.
  platform:
    support: full
    platforms: posix
    description: Targets are Linux Kubernetes nodes.
notes:
  - Run it as root (C(become=true)).
  - The v1beta1 defaults are assumed for fields the file does not set (C(authentication.webhook.enabled=true),
    C(authentication.anonymous.enabled=false), C(authorization.mode=Webhook)).
seealso:
  - module: secure_cluster.k8s.node_facts
  - name: Kubelet Configuration (v1beta1)
    description: The reference of the file format.
    link: https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/
"""

EXAMPLES = r"""
- name: Harden the kubelet configuration (CIS 4.2.x)
  secure_cluster.k8s.kubelet_config:
    settings:
      authentication:
        anonymous:
          enabled: false
        webhook:
          enabled: true
      authorization:
        mode: Webhook
      readOnlyPort: 0
      protectKernelDefaults: true
      streamingConnectionIdleTimeout: 5m
      eventRecordQPS: 5
      rotateCertificates: true
      tlsMinVersion: VersionTLS12
      tlsCipherSuites:
        - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
      seccompDefault: true
  become: true
  notify: Restart kubelet

- name: Remove a setting so the kubelet default applies again
  secure_cluster.k8s.kubelet_config:
    settings:
      eventBurst: null
  become: true
"""

RETURN = r"""
config_path:
  description: The configuration file on the node.
  returned: when the node could be read
  type: str
  sample: /var/lib/kubelet/config.yaml
version:
  description: The kubelet version the settings were validated for.
  returned: when the node could be read
  type: str
  sample: 1.33.5
changed_keys:
  description: Dotted paths of the fields whose value changes (empty when only the mode or owner changes).
  returned: when the configuration could be parsed
  type: list
  elements: str
  sample: ["readOnlyPort", "streamingConnectionIdleTimeout"]
backup_path:
  description: Where the previous content was saved on the node; null when nothing was written.
  returned: when the configuration could be parsed
  type: str
  sample: /var/lib/secure_cluster/backups/kubelet/config.yaml.20260601T120000.000000Z.bak
mode:
  description: The mode the file has (or would have, in check mode).
  returned: success
  type: str
  sample: '0600'
problems:
  description: Why the settings were refused; nothing was written.
  returned: failure of validation
  type: list
  elements: str
msg:
  description: One-line summary.
  returned: always
  type: str
"""
