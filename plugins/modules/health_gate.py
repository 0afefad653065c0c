#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: health_gate
short_description: Gate a restarted component on its health, roll its configuration back when it is not healthy
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - The last step of the safety chain every role of this collection follows when it changes a component's
    configuration, in this order
    B(backup) (the writing module copies the previous content to a backup directory and prunes old backups),
    B(write) (one atomic write), B(restart) (the kubelet restarts a static pod by itself; this action restarts a
    systemd unit), B(health) (this action), B(rollback) (this action, when the gate failed).
    The roles call it from their handlers, so the chain reads in the role's C(handlers/main.yml) and here.
  - "Recognises the new process: for a static pod (O(static_pod)) the one process of the manifest's program whose
    argv (read from C(/proc/PID/cmdline)) is the manifest's command; for a systemd unit (O(unit)) the unit is
    active with a new C(MainPID) after the restart (with O(unit.restart=false) the caller restarted it: active
    is enough)."
  - Then probes it until O(timeout) ends, polling every O(delay) seconds, O(http) (HTTP 200, certificates not
    verified, optionally with a client certificate) and O(commands) (exit code 0, and what O(commands[].expect)
    asks of the output), in this order, the first failing probe naming the reason.
  - Takes a second look after O(stable_seconds), the same process must still run (a crash-looping component
    passes a probe once and is restarted in between).
  - Fails as well when O(failed_checks) names a check the caller made itself (one this action cannot run on the
    node, such as the kubelet's serving certificate, approved from the API server host).
  - "When the gate fails: reads the last log lines (C(journalctl -u) for a unit, the pod state file in
    O(static_pod.state_dir) for a static pod), restores every file of O(restore) from its backup through
    M(secure_cluster.k8s.owned_file), restarts the unit or waits for the restored static pod, probes it again
    within O(timeout) (O(rollback_commands) instead of O(commands) if given), and fails with the component, what
    changed (O(changes)), why the gate failed, where each file was restored from, whether the component is
    healthy again, and the last log lines."
  - One task instead of a chain of tasks, because ansible-core never runs the rescue of a block in a handler
    (ansible/ansible#80228, still so in 2.19).
  - This is an action plugin; it runs C(pgrep), C(slurp), C(uri), C(command), C(systemd_service), C(file) and
    M(secure_cluster.k8s.owned_file) on the node.
options:
  component:
    description: The component's name, for the messages and the pod state file (C(<state_dir>/<component>.json)).
    type: str
    required: true
  static_pod:
    description: The component is a static pod; exactly one of O(static_pod) and O(unit).
    type: dict
    suboptions:
      manifest:
        description: The manifest the kubelet runs (its first container's command is what must run).
        type: path
        required: true
      state_dir:
        description: A directory where the node keeps C(<component>.json) with C(last_log_lines); empty for none.
        type: path
        default: ""
  unit:
    description: The component is a systemd unit; exactly one of O(static_pod) and O(unit).
    type: dict
    suboptions:
      name:
        description: The unit, for example V(containerd.service).
        type: str
        required: true
      restart:
        description: Restart the unit first (and require a new C(MainPID)); V(false) when the caller restarted it.
        type: bool
        default: true
  http:
    description: A health endpoint that must answer 200.
    type: dict
    suboptions:
      url:
        description: The URL, for example V(https://127.0.0.1:6443/livez).
        type: str
        required: true
      client_cert:
        description: Client certificate on the node, for an endpoint that requires one.
        type: path
      client_key:
        description: Key of O(http.client_cert).
        type: path
  commands:
    description: Commands run on the node, in order, each of which must pass.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name in the messages; by default the command line.
        type: str
      argv:
        description: The command (no shell).
        type: list
        elements: str
        required: true
      expect:
        description:
          - V(rc) exit code 0.
          - V(etcd_member) exit code 0 and the JSON of C(etcdctl member list --write-out=json) lists the member
            O(commands[].value) (decimal or hexadecimal id).
          - V(containerd_plugin) exit code 0 and C(ctr plugins ls) lists the plugin O(commands[].value)
            (C(TYPE.ID), for example V(io.containerd.grpc.v1.cri)) with status C(ok).
        type: str
        choices: [rc, etcd_member, containerd_plugin]
        default: rc
      value:
        description: The member id or plugin O(commands[].expect) looks for.
        type: str
  rollback_commands:
    description:
      - The commands that judge the restored component, when they differ from O(commands) (for example another
        socket address); by default O(commands).
      - Each element has the suboptions of an element of O(commands) (V(name), V(argv), V(expect), V(value)).
    type: list
    elements: dict
  failed_checks:
    description: Checks the caller made after the restart that failed, one reason each; any fails the gate.
    type: list
    elements: str
    default: []
  restore:
    description: The files the change wrote, with their backups, restored when the gate fails.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      backup:
        description: The backup the writing module returned (C(backup_path)); none when it made none.
        type: path
      remove_without_backup:
        description: Without O(restore[].backup), remove the file (it did not exist before); otherwise it is left.
        type: bool
        default: false
      mode:
        description: Mode of the restored file; by default the file's current mode.
        type: str
      owner:
        description: Owner of the restored file; by default the file's current owner.
        type: str
      group:
        description: Group of the restored file; by default the file's current group.
        type: str
  changes:
    description: What the write changed, for the message (a C(flags_changed) dict or a list of keys).
    type: raw
  timeout:
    description: Seconds the component has to become healthy, once after the change and once after the rollback.
    type: int
    required: true
  stable_seconds:
    description: Seconds between the passing probes and the second look at the process.
    type: int
    default: 0
  delay:
    description: Seconds between two polls.
    type: int
    default: 2
  log_lines:
    description: Number of log lines quoted in the message of a failed gate.
    type: int
    default: 20
attributes:
  action:
    support: full
    description: The gate runs on the controller; the node runs the probes.
  async:
    support: none
    description: Not supported.
  check_mode:
    support: full
    description: Nothing is restarted, probed or restored, and the message says so; C(changed) predicts the
      restart of a unit.
  diff_mode:
    support: none
    description: Restores are not shown as a diff.
  platform:
    support: full
    platforms: posix
    description: Linux nodes with systemd and procps (C(pgrep)).
notes:
  - The gate passes or the task fails; a failed task means the configuration was rolled back (or could not be).
seealso:
  - module: secure_cluster.k8s.static_pod_manifest
  - module: secure_cluster.k8s.owned_file
"""

EXAMPLES = r"""
# roles/scheduler/handlers/main.yml: the kubelet restarts the pod after the manifest changed
- name: Gate kube-scheduler on its health, roll back on failure
  secure_cluster.k8s.health_gate:
    component: kube-scheduler
    static_pod:
      manifest: /etc/kubernetes/manifests/kube-scheduler.yaml
    http:
      url: https://127.0.0.1:10259/livez
    restore:
      - path: /etc/kubernetes/manifests/kube-scheduler.yaml
        backup: "{{ scheduler_manifest_result.backup_path }}"
        mode: "0600"
    changes: "{{ scheduler_manifest_result.flags_changed }}"
    timeout: 120

# a systemd unit: restart, then the API on its socket and the CRI plugin
- name: Restart containerd, gate on its health, roll back on failure
  secure_cluster.k8s.health_gate:
    component: containerd
    unit:
      name: containerd.service
    commands:
      - argv: [ctr, --address, /run/containerd/containerd.sock, version]
      - argv: [ctr, --address, /run/containerd/containerd.sock, plugins, ls]
        expect: containerd_plugin
        value: io.containerd.grpc.v1.cri
    restore:
      - path: /etc/containerd/config.toml
        backup: "{{ config_result.backup_path }}"
        remove_without_backup: true
        mode: "0600"
    timeout: 60
    stable_seconds: 5
"""

RETURN = r"""
healthy:
  description: Whether the component passed the gate (after the change, not after the rollback).
  returned: unless in check mode
  type: bool
pid:
  description: The process that passed the gate.
  returned: when healthy
  type: int
steps:
  description: What the gate did, in order.
  returned: unless in check mode
  type: list
  elements: str
reason:
  description: Why the gate failed, naming the step.
  returned: when the gate failed
  type: str
rolled_back:
  description: What the rollback did to each file of O(restore).
  returned: when the gate failed
  type: list
  elements: str
healthy_after_rollback:
  description: Whether the restored component passed the probes again.
  returned: when the gate failed
  type: bool
last_log_lines:
  description: The component's last log lines, read before the rollback.
  returned: when the gate failed
  type: list
  elements: str
msg:
  description: The outcome in one message.
  returned: always
  type: str
"""
