# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ``secure_cluster.k8s.kubeadm_config``: read the node's manifest and the kubeadm-config ConfigMap
through the modules, compute on the controller what the hardened manifest's flags are and what the
ClusterConfiguration must say to regenerate them, and send the new ClusterConfiguration back for one guarded
write. Supports check and diff mode."""

from __future__ import annotations

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.secure_cluster.k8s.plugins.module_utils import kubeadm_config, static_pod, static_pod_values
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.kube_yaml import HAS_YAML, dump
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.action import CollectionAction

if HAS_YAML:
    import yaml

MODULE = "secure_cluster.k8s.kubeadm_config"
MANIFEST_MODULE = "secure_cluster.k8s.static_pod_manifest"
# read-edit-write attempts when another writer came in between
ATTEMPTS = 3


def wanted_args(pod, args):
    """{flag: value kubeadm must render, or None to drop} after the static_pod_manifest edit ``args`` on ``pod``."""
    edit = static_pod.edit_pod(pod, flags=args["flags"], remove_flags=args["remove_flags"], replace=args["replace"],
                               volumes=args["volumes"], version=args["version"], allow_probe_breaking=True)
    after = static_pod.pod_flags(edit.pod, version=args["version"])["flags"]
    out = {}
    for name, value in args["flags"].items():
        name = static_pod_values.normalize_flag(name)
        if value is None:
            out[name] = None
        elif name in after:  # a flag the edit leaves without a value has nothing to keep
            out[name] = after[name]
    for name in args["remove_flags"]:
        out[static_pod_values.normalize_flag(name)] = None
    return out, edit


class ActionModule(CollectionAction):

    _requires_connection = True
    ARGUMENT_SPEC = kubeadm_config.USER_ARGUMENT_SPEC

    def act(self, result, args, task_vars):
        component = args["component"]
        path = args["manifest"] or "/etc/kubernetes/manifests/%s.yaml" % component
        result.update(changed=False, changes=[], skipped={})

        def fail(msg):
            result.update(failed=True, msg=msg)
            return result

        if not HAS_YAML:
            return fail("PyYAML is required on the controller")
        if component == "kubelet":
            if args["flags"] or args["remove_flags"] or args["volumes"]:
                return fail("component kubelet takes settings, not flags or volumes")
            return self._sync(task_vars, args, result, lambda config: kubeadm_config.sync_kubelet(
                config, args["settings"]) + ({},))
        if args["settings"]:
            return fail("settings are for component kubelet; %s takes flags and volumes" % component)
        read = self._execute_module(module_name=MANIFEST_MODULE, task_vars=task_vars,
                                    module_args=dict(path=path, _mode="read"))
        manifest = read.get("manifest") or {}
        if read.get("failed") or not manifest.get("exists"):
            return fail("cannot read %s: %s" % (path, to_text(read.get("msg") or "it does not exist")))
        try:
            pod = yaml.safe_load(manifest["content"])
            wanted, edit = wanted_args(pod, args)
        except (yaml.YAMLError, static_pod.ManifestError) as exc:
            return fail("%s: %s; nothing written" % (path, to_text(exc)))
        if edit.errors:
            return fail("the edit is refused for %s, nothing written: %s" % (path, "; ".join(edit.errors)))

        return self._sync(task_vars, args, result,
                          lambda config: kubeadm_config.sync(config, component, wanted, args["volumes"]))

    def _sync(self, task_vars, args, result, edit):
        """Read the component's ConfigMap key, ``edit`` the parsed document (returns new, changes, skipped), write
        it back guarded by the resourceVersion it was read at. The kubelet-config ConfigMap is written by every
        node of a batch at once: a write that lost the race is made again from a fresh read (which then usually
        finds nothing left to change)."""
        for attempt in range(ATTEMPTS):
            out = self._sync_once(task_vars, args, dict(result), edit)
            if not (out.get("failed") and out.get("conflict")) or attempt == ATTEMPTS - 1:
                return out
        return out  # pragma: no cover

    def _sync_once(self, task_vars, args, result, edit):
        component = args["component"]
        where = "kube-system/%s %s" % kubeadm_config.CONFIGMAPS[component]
        common = dict(kubeconfig=args["kubeconfig"], kubectl=args["kubectl"], component=component)

        def fail(msg, conflict=False):
            result.update(failed=True, msg=msg, conflict=conflict)
            return result

        got = self._execute_module(module_name=MODULE, task_vars=task_vars, module_args=dict(common, _mode="read"))
        if got.get("failed"):
            return fail(to_text(got.get("msg") or got))
        old_text = got["content"]
        try:
            config = yaml.safe_load(old_text)
            new, changes, skipped = edit(config)
        except yaml.YAMLError as exc:
            return fail("%s is not YAML: %s" % (where, to_text(exc)))
        except kubeadm_config.ConfigError as exc:
            return fail("%s; nothing written" % to_text(exc))
        result.update(changes=changes, skipped=skipped)
        if component != "kubelet":
            result["extra_args"] = kubeadm_config.extra_args(new, component)
        not_kept = (" (not kept, each node's own: %s)" % ", ".join(sorted(skipped))) if skipped else ""
        if not changes:
            result["msg"] = "%s already keeps the %s settings%s" % (where, component, not_kept)
            return result
        new_text = dump(new)
        if yaml.safe_load(new_text) != new:  # pragma: no cover - a dumper bug must never reach the cluster
            return fail("internal error: the edited %s does not read back the same; nothing written" % where)
        write = self._execute_module(
            module_name=MODULE, task_vars=task_vars,
            module_args=dict(common, _mode="write", _content=new_text,
                             _expected_resource_version=got["resource_version"]))
        if write.get("failed"):
            return fail(to_text(write.get("msg") or write), bool(write.get("conflict")))
        result["changed"] = bool(write.get("changed"))
        if result["changed"] and self._task.diff:
            result["diff"] = [{"before_header": where, "after_header": where, "before": old_text, "after": new_text}]
        result["msg"] = "%d change(s) to %s%s%s" % (
            len(changes), where, " (check mode, nothing written)" if self._task.check_mode else "", not_kept)
        return result
