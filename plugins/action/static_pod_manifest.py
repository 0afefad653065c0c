# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ``secure_cluster.k8s.static_pod_manifest``: read the manifest through the module, edit it on
the controller with PyYAML and ``module_utils.static_pod``, and send the new text back for one atomic write
(preceded by the node-side preflight checks). Supports check and diff mode."""

from __future__ import annotations

import os

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.secure_cluster.k8s.plugins.module_utils import static_pod, static_pod_node
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.action import CollectionAction
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.kube_yaml import HAS_YAML, dump

if HAS_YAML:
    import yaml

MODULE = "secure_cluster.k8s.static_pod_manifest"
DEFAULT_BACKUP_DIR = static_pod_node.DEFAULT_BACKUP_DIR
ARGUMENT_SPEC = static_pod_node.USER_ARGUMENT_SPEC


def dump_manifest(pod):
    """YAML text of a Pod in kubeadm's style, keys in their existing order."""
    return dump(pod)


def _inside(path, directory):
    path = os.path.normpath(path)
    directory = os.path.normpath(directory)
    return path == directory or path.startswith(directory.rstrip("/") + "/")


class ActionModule(CollectionAction):

    _requires_connection = True
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, result, args, task_vars):
        path = args["path"]
        result["changed"] = False

        def fail(msg, errors=None):
            result.update(failed=True, msg=msg)
            if errors:
                result["errors"] = errors
            return result

        if not HAS_YAML:
            return fail("PyYAML is required on the controller")
        if _inside(args["backup_dir"], os.path.dirname(path)):
            return fail("backup_dir %s is inside %s: the kubelet would run a backup there as a second static pod"
                        % (args["backup_dir"], os.path.dirname(path)))
        if args["backup_keep"] < 1:
            return fail("backup_keep must be at least 1")

        common = dict(path=path, backup_dir=args["backup_dir"], backup_keep=args["backup_keep"],
                      preflight=args["preflight"])
        read = self._execute_module(module_name=MODULE, module_args=dict(common, _mode="read"),
                                    task_vars=task_vars)
        if read.get("failed"):
            return fail("cannot read %s: %s" % (path, to_text(read.get("msg") or read)))
        manifest = read.get("manifest") or {}
        if not manifest.get("exists"):
            return fail("%s does not exist on the node" % path)
        old_text = manifest["content"]
        try:
            pod = yaml.safe_load(old_text)
        except yaml.YAMLError as exc:
            return fail("%s is not valid YAML, nothing written: %s" % (path, to_text(exc)))

        try:
            edit = static_pod.edit_pod(
                pod, flags=args["flags"], remove_flags=args["remove_flags"], replace=args["replace"],
                volumes=args["volumes"], container=args["container"], version=args["version"],
                allow_probe_breaking=args["allow_probe_breaking"])
        except static_pod.ManifestError as exc:
            return fail("%s: %s; nothing written" % (path, to_text(exc)))

        result.update(flags_changed=edit.flags_changed, volumes_added=edit.volumes_added, version=edit.version,
                      component=edit.component, container=edit.container, backup_path=None)
        if edit.warnings:
            result["warnings"] = list(edit.warnings)
        if edit.errors:
            return fail("refused, nothing written to %s: %s" % (path, "; ".join(edit.errors)), edit.errors)
        if not edit.changed:
            result["msg"] = "%s already as requested" % path
            return result

        new_text = dump_manifest(edit.pod)
        if yaml.safe_load(new_text) != edit.pod:  # pragma: no cover - a dumper bug must never reach the node
            return fail("internal error: the edited manifest does not read back the same; nothing written")
        write = self._execute_module(
            module_name=MODULE, task_vars=task_vars,
            module_args=dict(common, _mode="write", _content=new_text, _expected_sha256=manifest["sha256"],
                             _node_checks=edit.node_checks if args["preflight"] else []))
        if write.get("failed"):
            return fail(to_text(write.get("msg") or write), write.get("errors"))
        result["changed"] = bool(write.get("changed"))
        result["backup_path"] = write.get("backup_path")
        if result["changed"] and self._task.diff:
            result["diff"] = [{"before_header": path, "after_header": path, "before": old_text, "after": new_text}]
        counts = dict((k, len(v)) for k, v in edit.flags_changed.items())
        result["msg"] = "%s: %d flag(s) added, %d changed, %d removed, %d volume(s) added%s" % (
            path, counts["added"], counts["changed"], counts["removed"], len(edit.volumes_added),
            " (check mode, nothing written)" if self._task.check_mode else "")
        return result
