#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cis_remediation_report
short_description: Write the fleet's remediation report (before and after of every host) and judge what still fails
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - The fleet step of C(playbooks/remediate.yml). Takes per host the remediation plan
    (P(secure_cluster.k8s.cis_remediation_plan#filter)) and the comparison of its audits before and after
    (P(secure_cluster.k8s.cis_remediation_compare#filter)) and, on the controller, writes C(remediation.json) (the
    whole report) and C(remediation.md) (the fleet's totals and a row per host) into O(report_dir), each replaced
    atomically.
  - Returns the report, the Markdown text as RV(summary), the data for M(ansible.builtin.set_stats) as
    C(ansible_stats) (Ansible publishes it as the task's result; C(remediation) for AWX) and the verdict of the gate
    in RV(gate).
  - It does not fail when the gate fails; the playbook shows the summary first and then fails on RV(gate).
  - This is an action plugin that runs on the controller only and opens no connection; run it once
    (C(run_once=true)).
options:
  entries:
    description:
      - Inventory host name to C(plan) (the host's remediation plan) and C(delta) (the comparison of its audits).
    type: dict
    required: true
  report_dir:
    description:
      - Directory on the controller to write C(remediation.json) and C(remediation.md) to; created when missing.
      - A relative path is relative to the working directory of C(ansible-playbook).
    type: path
    default: reports
  fail_on:
    description:
      - V(none) passes the gate whatever still fails; V(any) and V(scored) fail it when more than O(max_failures)
        controls still fail or newly fail after remediation (the audit's C(cis_fail_on)).
    type: str
    choices: [any, scored, none]
    default: any
  max_failures:
    description: How many controls may still fail or newly fail before the gate fails.
    type: int
    default: 0
extends_documentation_fragment:
  - secure_cluster.k8s.attributes.CONTROLLER
  - secure_cluster.k8s.attributes.REPORT
  - secure_cluster.k8s.attributes.READ_ONLY
notes:
  - The task never reports C(changed).
seealso:
  - module: secure_cluster.k8s.cis_report
"""

EXAMPLES = r"""
- name: Write remediation.json and remediation.md, publish the counts for AWX
  secure_cluster.k8s.cis_remediation_report:
    entries:
      cp1:
        plan: "{{ hostvars['cp1'].remediate_plan }}"
        delta: "{{ hostvars['cp1'].remediate_before | secure_cluster.k8s.cis_remediation_compare(hostvars['cp1'].audit_result) }}"
    report_dir: reports
  run_once: true
  delegate_to: localhost
  register: remediation

- name: Fail when a control still fails
  ansible.builtin.assert:
    that: remediation.gate.passed
    fail_msg: "{{ remediation.gate.msg }}"
  run_once: true
"""

RETURN = r"""
report:
  description: What C(remediation.json) holds.
  returned: success
  type: dict
  contains:
    check_mode:
      description: Whether the run was in check mode (predicted, nothing changed).
      type: bool
    fleet:
      description:
        - C(hosts), C(fixed), C(still_failing), C(new_failures) (control counts), C(hosts_clean_after) and
          C(hosts_still_failing) (names).
      type: dict
    hosts:
      description: The entries, by host name.
      type: dict
summary:
  description: The text of C(remediation.md).
  returned: success
  type: str
files:
  description: C(json) and C(markdown), the paths written.
  returned: success
  type: dict
gate:
  description: C(passed) and C(msg).
  returned: success
  type: dict
msg:
  description: Why the task failed.
  returned: failure
  type: str
"""
