# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ``secure_cluster.k8s.cis_audit``: one ``node_facts`` call on the target, then the CIS
evaluation and the per-host reports on the controller. Read-only on the target; supports check mode."""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_eval, cis_report
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import catalog as catalog_data
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import report_files
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.action import CollectionAction
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.plain import plain

DEFAULT_BENCHMARK = catalog_data.AUTO

ARGUMENT_SPEC = dict(
    benchmark=dict(type="str", default=DEFAULT_BENCHMARK),
    catalog=dict(type="path"),
    level=dict(type="int", default=2, choices=[1, 2]),
    ids=dict(type="list", elements="str", default=[]),
    skip_ids=dict(type="list", elements="str", default=[]),
    targets=dict(type="list", elements="str"),
    include_policies=dict(type="bool", default=True),
    waivers=dict(type="list", elements="raw", default=[]),
    today=dict(type="str"),
    report_dir=dict(type="path"),
    fail_on=dict(type="str", default="none", choices=["any", "scored", "none"]),
    max_failures=dict(type="int", default=0),
    sysctls=dict(type="list", elements="str"),
    kubeadm_upgrade=dict(type="bool", default=True),
    deviations=dict(type="bool", default=True),
)


class ActionModule(CollectionAction):

    _requires_connection = True
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, result, args, task_vars):
        host = task_vars.get("inventory_hostname") or "localhost"

        # A fixed benchmark or catalog file fails before the node is asked anything; auto needs its version first.
        if args["catalog"] or args["benchmark"] != catalog_data.AUTO:
            try:
                catalog_data.choose(args["benchmark"], None, args["catalog"])
            except AnsibleError as exc:
                result.update(failed=True, msg=to_text(exc))
                return result

        module_args = {"kubeadm_config": args["kubeadm_upgrade"]}
        if args["sysctls"] is not None:
            module_args["sysctls"] = args["sysctls"]
        facts_result = self._execute_module(
            module_name="secure_cluster.k8s.node_facts", module_args=module_args, task_vars=task_vars)
        if facts_result.get("failed") or "node_facts" not in facts_result:
            result.update(failed=True, changed=False,
                          msg="collecting node facts failed: %s" % to_text(facts_result.get("msg") or facts_result))
            return result
        facts = plain(facts_result["node_facts"])
        version = (facts.get("version") or {}).get("kubernetes") if isinstance(facts.get("version"), dict) else None

        try:
            catalog, note = catalog_data.choose(args["benchmark"], version, args["catalog"])
        except AnsibleError as exc:
            result.update(failed=True, changed=False, msg=to_text(exc))
            return result
        try:
            evaluation = cis_eval.evaluate(
                facts, catalog, host=host, level=args["level"], ids=args["ids"] or None,
                skip_ids=args["skip_ids"] or None, targets=args["targets"] or None,
                waivers=plain(args["waivers"]), today=args["today"], parse_yaml=catalog_data.safe_load,
                include_policies=args["include_policies"], deviations=args["deviations"])
        except (cis_eval.CatalogError, ValueError) as exc:
            result.update(failed=True, msg="CIS evaluation failed: %s" % to_text(exc))
            return result
        if note:
            evaluation["messages"].insert(0, note)

        result["changed"] = False
        result["cis"] = evaluation
        result["collector"] = facts.get("collector")
        totals = evaluation["totals"]
        result["msg"] = "%s: %d pass, %d fail, %d warn, %d waived of %d (%s level %d)%s" % (
            host, totals["pass"], totals["fail"], totals["warn"], totals["waived"], totals["total"],
            evaluation["benchmark"]["id"], evaluation["level"],
            "; failing: %s" % ", ".join(evaluation["failed"]) if evaluation["failed"] else "")
        if evaluation["deviations"]:
            result["msg"] += "; differs from kube-bench: %s" % ", ".join(evaluation["deviations"])
        if evaluation["upgrade_drift"]:
            result["msg"] += "; will drift on kubeadm upgrade: %s" % ", ".join(evaluation["upgrade_drift"])

        if args["report_dir"]:
            try:
                result["report_files"] = report_files.write_host_reports(args["report_dir"], evaluation)
            except (IOError, OSError) as exc:
                result["warnings"] = result.get("warnings", []) + [
                    "could not write reports to %s: %s" % (args["report_dir"], to_native(exc))]

        return cis_report.apply_gate(result, [evaluation], args["fail_on"], args["max_failures"])
