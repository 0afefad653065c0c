#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cis_report
short_description: Write the fleet's CIS audit reports and judge the fleet against a failure threshold
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - The fleet step of the CIS audit. Takes the registered results of M(secure_cluster.k8s.cis_audit) of every
    host and, on the controller, writes into O(report_dir) one C(<host>.json) per host in kube-bench's JSON shape
    (with this collection's extra fields), one C(<host>.junit.xml) per host (one testcase per recommendation),
    a fleet summary C(summary.md), and for the whole fleet the OSCAL 1.1.2 assessment results
    C(oscal-assessment-results.json) and the SARIF 2.1.0 log C(cis.sarif) (see O(formats)).
  - In the OSCAL document each host is an inventory item; per host and recommendation there is an observation
    (expected, actual, reason) and, unless the recommendation does not apply to the host, a finding whose target
    is the recommendation (C(<benchmark>_<id>), for example C(cis-1.12_1.2.15)), C(satisfied) for C(PASS) and
    C(not-satisfied) for C(FAIL) and C(WARN); a waiver adds a risk with status C(deviation-approved). Its UUIDs
    depend only on the benchmark, host and recommendation, so two runs over the same state differ only in the
    timestamps.
  - In the SARIF log the rules are the recommendations judged (C(<benchmark>/<id>), for example
    C(cis-1.12/1.2.15)), with one result per host and recommendation of kind C(pass), C(fail) (level C(error)
    when scored, C(warning) when not), C(review) (C(WARN)) or C(notApplicable) (C(INFO)); a waived
    recommendation keeps the kind of the result it covers, with an accepted external suppression (a waived one
    that passes anyway is a plain C(pass)).
  - Returns the human summary (per host counts and failing recommendations with their titles, then the fleet),
    the data for M(ansible.builtin.set_stats), and the verdict of the O(fail_on)/O(max_failures) gate.
  - It does not fail when the gate fails; the caller decides (the P(secure_cluster.k8s.audit#role) role fails
    the play after it has shown the summary), so the reports are always written first.
  - Hosts without a result (failed or unreachable before their audit) are listed as not audited, in the
    summary and in C(summary.md), and make the gate fail unless O(fail_on=none).
  - This is an action plugin that runs on the controller only and opens no connection; run it once
    (C(run_once=true)) after the per-host audit.
options:
  results:
    description:
      - The audit results, as a dict of inventory host name to the registered result of
        M(secure_cluster.k8s.cis_audit) for that host (null or missing for a host that has none).
      - A list of registered results, or of their RV(secure_cluster.k8s.cis_audit#module:cis) values, is also
        accepted.
    type: raw
    required: true
  report_dir:
    description:
      - Directory on the controller to write the reports to; created when missing. Existing reports of the same
        hosts are replaced (atomically); files of other hosts are left alone.
      - A relative path is relative to the working directory of C(ansible-playbook).
    type: path
    default: reports
  formats:
    description:
      - Which reports to write. V(json) and V(junit) are per host, V(markdown) is C(summary.md), V(oscal) is
        C(oscal-assessment-results.json) and V(sarif) is C(cis.sarif) (both for the whole fleet).
    type: list
    elements: str
    choices: [json, junit, markdown, oscal, sarif]
    default: [json, junit, markdown, oscal, sarif]
  assessment_plan:
    description:
      - The C(href) of C(import-ap) in the OSCAL assessment results, which OSCAL requires. It names what governed
        the assessment; point it at your OSCAL assessment plan when you have one.
      - The default is this collection's audit documentation (what is judged and how), there being no OSCAL
        assessment plan of the collection's own.
    type: str
    default: https://github.com/secure-cluster/k8s/blob/main/docs/audit.md
extends_documentation_fragment:
  - secure_cluster.k8s.cis_selection.gate
  - secure_cluster.k8s.attributes.CONTROLLER
  - secure_cluster.k8s.attributes.REPORT
  - secure_cluster.k8s.attributes.READ_ONLY
attributes:
  diff_mode:
    support: none
    description: No diff.
notes:
  - The task never reports C(changed); the report files are output, not managed state, so an audit run twice is
    idempotent.
seealso:
  - module: secure_cluster.k8s.cis_audit
  - name: kube-bench JSON output
    description: The shape of C(<host>.json).
    link: https://github.com/aquasecurity/kube-bench/blob/main/docs/running.md
  - name: OSCAL assessment results model
    description: The model of C(oscal-assessment-results.json).
    link: https://pages.nist.gov/OSCAL/concepts/layer/assessment/assessment-results/
  - name: SARIF 2.1.0
    description: The format of C(cis.sarif).
    link: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
"""

EXAMPLES = r"""
- name: Audit every node
  secure_cluster.k8s.cis_audit:
    level: 1
  register: audit

- name: Write the reports and judge the fleet (once, on the controller)
  secure_cluster.k8s.cis_report:
    results: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars)
                 | map(attribute='audit', default=None))) }}"
    report_dir: /var/lib/cis-reports
    fail_on: scored
    max_failures: 0
  run_once: true
  delegate_to: localhost
  register: report

- name: Show the summary
  ansible.builtin.debug:
    msg: "{{ report.summary }}"
  run_once: true

- name: Fail when the gate failed
  ansible.builtin.assert:
    that: report.gate.passed
    fail_msg: "{{ report.gate.msg }}"
  run_once: true
"""

RETURN = r"""
report_dir:
  description: Absolute path of the report directory.
  returned: success
  type: str
  sample: /srv/audit/reports
files:
  description:
    - C(dir), C(summary) (path of C(summary.md)), C(oscal) (path of C(oscal-assessment-results.json)), C(sarif)
      (path of C(cis.sarif)) and C(hosts) (host to C(json) and C(junit) paths); a report not written is absent.
  returned: success
  type: dict
summary:
  description:
    - The human summary, one line per list item. Per host a line of counts, then C(FAIL <id> <title>) for each
      failing recommendation, drift and notes; hosts not audited; the fleet totals; the gate; where the reports are.
  returned: success
  type: list
  elements: str
stats:
  description:
    - Data for M(ansible.builtin.set_stats). C(cis_audit) maps each host to C(pass), C(fail), C(warn), C(waived)
      and C(failed_ids) (or C(error) when it was not audited); C(cis_audit_totals) has the fleet counts and
      C(cis_audit_gate) the gate's C(passed) and C(msg).
  returned: success
  type: dict
gate:
  description:
    - C(passed), C(msg), C(fail_on), C(max_failures), C(failures) (the number the gate counted) and
      C(not_audited) (host names).
  returned: success
  type: dict
totals:
  description: Fleet counts C(hosts), C(pass), C(fail), C(warn), C(info), C(waived), C(total).
  returned: success
  type: dict
not_audited:
  description: Host name to the reason it has no audit result.
  returned: success
  type: dict
msg:
  description: One-line summary.
  returned: always
  type: str
"""
