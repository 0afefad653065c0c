# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """Options the CIS audits share: which recommendations are reported (cis_audit, cluster_audit), and the
    failure gate (cis_audit, cluster_audit, cis_report)."""

    DOCUMENTATION = r"""
options:
  level:
    description:
      - CIS profile level. V(1) reports level 1 recommendations only, V(2) reports level 1 and level 2
        (everything kube-bench reports).
    type: int
    choices: [1, 2]
    default: 2
  skip_ids:
    description: Recommendations or sections (V(1.2)) not to report.
    type: list
    elements: str
    default: []
  today:
    description: The date waivers are compared with (V(YYYY-MM-DD)); defaults to the controller's date.
    type: str
"""

    GATE = r"""
options:
  fail_on:
    description:
      - What the gate counts. V(any) counts every C(FAIL), V(scored) only scored ones (and expired waivers),
        V(none) disables the gate.
    type: str
    choices: [any, scored, none]
    default: none
  max_failures:
    description: The number of failures (counted as O(fail_on) says) the gate allows.
    type: int
    default: 0
"""
