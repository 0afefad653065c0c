# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ``secure_cluster.k8s.cis_remediation_report``: the fleet step of ``playbooks/remediate.yml`` on
the controller: remediation.json and remediation.md (atomic writes), the summary, the ``set_stats`` data and the
gate's verdict. It opens no connection and never fails because of the gate: the playbook shows the summary first,
then applies RV(gate). The logic is ``module_utils.cis_remediation``."""

from __future__ import annotations

import os

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_remediation
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import report_files
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.action import CollectionAction

ARGUMENT_SPEC = dict(
    entries=dict(type="dict", required=True),
    report_dir=dict(type="path", default="reports"),
    fail_on=dict(type="str", default="any", choices=["any", "scored", "none"]),
    max_failures=dict(type="int", default=0),
)


class ActionModule(CollectionAction):

    _requires_connection = False

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, result, args, task_vars):
        try:
            rep = cis_remediation.report(args["entries"], check_mode=self._task.check_mode or
                                         self._play_context.check_mode)
        except cis_remediation.RemediationError as exc:
            result.update(failed=True, changed=False, msg="cis_remediation_report: %s" % exc)
            return result
        text = cis_remediation.to_markdown(rep)
        files = {"json": os.path.join(args["report_dir"], "remediation.json"),
                 "markdown": os.path.join(args["report_dir"], "remediation.md")}
        try:
            if not os.path.isdir(args["report_dir"]):
                os.makedirs(args["report_dir"])
            report_files.write(files["json"], report_files.json_text(rep))
            report_files.write(files["markdown"], text)
        except (IOError, OSError) as exc:
            result.update(failed=True, changed=False, msg="cannot write the remediation report to %s: %s"
                          % (args["report_dir"], to_native(exc)))
            return result
        passed, msg = cis_remediation.gate(rep["fleet"], args["fail_on"], args["max_failures"])
        result.update(
            changed=False,  # a report on the controller, not a change to the fleet
            report=rep, summary=text, files=files,
            gate={"passed": passed, "msg": msg if passed else "%s: see %s" % (msg, files["markdown"])},
            ansible_stats={"data": {"remediation": rep["fleet"]}, "per_host": False, "aggregate": True})
        return result
