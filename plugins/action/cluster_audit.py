# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ``secure_cluster.k8s.cluster_audit``: the CIS section-5 audit of a cluster's API objects, on the
controller only. Reads a dump directory or objects already fetched (``kubernetes.core.k8s_info``); never opens a
connection. Returns the evaluation of a pseudo-host in the shape ``cis_audit`` returns for a node."""

from __future__ import annotations

import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_eval, cis_report, cluster_audit, cluster_inventory
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import catalog as catalog_data
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.action import CollectionAction
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.plain import plain

try:
    import yaml
    SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False

ARGUMENT_SPEC = dict(
    dump_dir=dict(type="path"),
    objects=dict(type="raw"),
    cluster_name=dict(type="str", default="cluster"),
    kubernetes_version=dict(type="str"),
    break_glass=dict(type="list", elements="str"),
    system_namespaces=dict(type="list", elements="str"),
    trusted_groups=dict(type="list", elements="str"),
    trusted_subjects=dict(type="list", elements="str"),
    default_namespace_allowed=dict(type="list", elements="str"),
    exemptions=dict(type="list", elements="dict"),
    benchmark=dict(type="str", default=catalog_data.AUTO),
    catalog=dict(type="path"),
    level=dict(type="int", default=2, choices=[1, 2]),
    ids=dict(type="list", elements="str", default=[]),
    skip_ids=dict(type="list", elements="str", default=[]),
    waivers=dict(type="list", elements="raw", default=[]),
    today=dict(type="str"),
    fail_on=dict(type="str", default="none", choices=["any", "scored", "none"]),
    max_failures=dict(type="int", default=0),
)
OPTION_KEYS = ("break_glass", "system_namespaces", "trusted_groups", "trusted_subjects", "default_namespace_allowed",
               "exemptions")


def _load_all(text):
    return list(yaml.load_all(text, Loader=SafeLoader))


def run_audit(args):
    """``(evaluation, evidence)`` for validated arguments; raises ValueError with a message on bad input."""
    if bool(args.get("dump_dir")) == (args.get("objects") is not None):
        raise ValueError("give exactly one of dump_dir or objects")
    if args.get("dump_dir"):
        if not os.path.isdir(args["dump_dir"]):
            raise ValueError("dump_dir %s is not a directory" % args["dump_dir"])
        inv = cluster_inventory.read_dump_dir(args["dump_dir"], _load_all if HAS_YAML else None)
    else:
        inv = cluster_inventory.load(plain(args["objects"]))
    if not inv.present:
        raise ValueError("the input has no Kubernetes objects this audit reads (%s)"
                         % "; ".join(inv.messages[:5]) if inv.messages else
                         "the input has no Kubernetes objects this audit reads")
    options = dict((k, plain(args[k])) for k in OPTION_KEYS if args.get(k) is not None)
    evidence = cluster_audit.audit(inv, options)
    version = args.get("kubernetes_version") or evidence["kubernetes_version"]
    catalog, note = catalog_data.choose(args.get("benchmark") or catalog_data.AUTO, version, args.get("catalog"))
    facts = {"hostname": args["cluster_name"], "version": {"kubernetes": version}}
    evaluation = cis_eval.evaluate(
        facts, catalog, host=args["cluster_name"], level=args["level"], ids=args["ids"] or None,
        skip_ids=args["skip_ids"] or None, targets=["policies"], waivers=plain(args["waivers"]),
        today=args.get("today"), cluster=evidence)
    if note:
        evaluation["messages"].insert(0, note)
    return evaluation, evidence


class ActionModule(CollectionAction):

    _requires_connection = False
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, result, args, task_vars):
        try:
            evaluation, evidence = run_audit(args)
        except (ValueError, cis_eval.CatalogError, AnsibleError, IOError, OSError) as exc:
            result.update(failed=True, changed=False, msg="cluster audit: %s" % to_native(exc))
            return result
        totals = evaluation["totals"]
        result["changed"] = False
        result["cis"] = evaluation
        result["findings"] = evidence["findings"]
        result["inventory"] = evidence["inventory"]
        result["msg"] = "%s: %d pass, %d fail, %d warn, %d waived of %d (%s level %d), %d finding(s)%s" % (
            evaluation["host"], totals["pass"], totals["fail"], totals["warn"], totals["waived"], totals["total"],
            evaluation["benchmark"]["id"], evaluation["level"], len(evidence["findings"]),
            "; failing: %s" % ", ".join(evaluation["failed"]) if evaluation["failed"] else "")
        return cis_report.apply_gate(result, [evaluation], args["fail_on"], args["max_failures"])
