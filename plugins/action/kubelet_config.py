# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ``secure_cluster.k8s.kubelet_config``: read the node's KubeletConfiguration, kernel parameters,
kubelet version and file states with one ``node_facts`` call, merge and validate on the controller, then write the
file once (module ``owned_file``: guarded, backed up, staged and renamed on the node) only when its content or its
mode/ownership differ."""

from __future__ import annotations

import base64
import hashlib
import re

from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.secure_cluster.k8s.plugins.module_utils import kubelet_config as kc
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.action import CollectionAction
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.plain import plain

DEFAULT_PATH = "/var/lib/kubelet/config.yaml"
DEFAULT_BACKUP_DIR = "/var/lib/secure_cluster/backups/kubelet"
OWNER = "root"
GROUP = "root"

ARGUMENT_SPEC = dict(
    settings=dict(type="dict", required=True),
    path=dict(type="path"),
    version=dict(type="str"),
    mode=dict(type="raw", default="0600"),
    backup_dir=dict(type="path", default=DEFAULT_BACKUP_DIR),
    backup_keep=dict(type="int", default=5),
)


def normalize_mode(mode):
    """0600 (int from YAML), "0600", "600" -> "0600"; ValueError for anything else (symbolic modes included)."""
    if isinstance(mode, bool):
        raise ValueError("mode must be an octal number such as '0600'")
    if isinstance(mode, int):
        if not 0 <= mode <= 0o7777:
            raise ValueError("mode %r is out of range" % (mode,))
        return "%04o" % mode
    text = to_text(mode).strip()
    if not re.match(r"^0?[0-7]{3,4}$", text):
        raise ValueError("mode must be an octal number such as '0600' (got %r)" % (text,))
    return "%04o" % int(text, 8)


def _version_text(version):
    text = to_text(version).strip()
    if text.startswith("Kubernetes "):
        text = text[len("Kubernetes "):].strip()
    return text[1:] if text.startswith("v") else text


class ActionModule(CollectionAction):

    _requires_connection = True
    ARGUMENT_SPEC = ARGUMENT_SPEC
    REMOVE_REMOTE_TMP = True  # node_facts, slurp, stat and owned_file share one remote temporary directory

    def _fail(self, result, msg, **extra):
        result.update(failed=True, changed=False, msg=msg, **extra)
        return result

    # -- target calls (small methods so tests can replace them) ----------------------------------------------
    def _module(self, name, args, task_vars):
        return self._execute_module(module_name=name, module_args=args, task_vars=task_vars)

    def _read_facts(self, extra_paths, detect_version, task_vars):
        return self._module("secure_cluster.k8s.node_facts", {
            "sysctls": [name for name, _value in kc.KERNEL_DEFAULTS],
            "extra_paths": extra_paths,
            "version_from_binaries": detect_version,
        }, task_vars)

    def _slurp(self, path, task_vars):
        res = self._module("ansible.legacy.slurp", {"src": path}, task_vars)
        if res.get("failed"):
            return None, to_text(res.get("msg") or res)
        return to_text(base64.b64decode(res.get("content") or "")), None

    def _stat_exists(self, path, task_vars):
        res = self._module("ansible.legacy.stat", {"path": path, "get_checksum": False}, task_vars)
        if res.get("failed"):
            return None
        return bool((res.get("stat") or {}).get("exists"))

    # -- main --------------------------------------------------------------------------------------------------
    def act(self, result, args, task_vars):
        check_mode = bool(self._task.check_mode)
        diff_mode = bool(self._task.diff)
        settings = args["settings"]
        try:
            mode = normalize_mode(args["mode"])
        except ValueError as exc:
            return self._fail(result, to_text(exc))

        extra_paths = []
        if args["path"]:
            extra_paths.append(args["path"])
        extra_paths.extend(sorted(set(kc.named_files(settings).values())))
        facts_result = self._read_facts(extra_paths, not args["version"], task_vars)
        if facts_result.get("failed") or "node_facts" not in facts_result:
            return self._fail(result, "reading the node failed: %s" % to_text(facts_result.get("msg") or facts_result))
        facts = plain(facts_result["node_facts"])
        stats = facts.get("stats") or {}
        kubelet = (facts.get("kubelet") or {}).get("config") or {}

        path = args["path"] or kubelet.get("path") or DEFAULT_PATH
        result["config_path"] = path
        if path == kubelet.get("path") and kubelet.get("text") is not None:
            text = kubelet["text"]
        elif (stats.get(path) or {}).get("exists") is False:
            text = None
        else:
            text, err = self._slurp(path, task_vars)
            if err:
                return self._fail(result, "cannot read %s: %s" % (path, err))
        if text is None:
            return self._fail(result, "%s does not exist on the node; kubeadm init/join writes it, this module only "
                                      "changes an existing kubelet configuration" % path)

        if args["version"]:
            version = _version_text(args["version"])
        else:
            detected = ((facts.get("version") or {}).get("components") or {}).get("kubelet") or {}
            if not detected.get("version"):
                return self._fail(result, "could not detect the kubelet version (kubelet --version); set version")
            version = _version_text(detected["version"])
        result["version"] = version

        known_files = {}

        def file_exists(file_path):
            if file_path not in known_files:
                entry = stats.get(file_path)
                if entry is not None and entry.get("exists") is not None and not entry.get("error"):
                    known_files[file_path] = bool(entry["exists"])
                else:
                    known_files[file_path] = self._stat_exists(file_path, task_vars)
            return known_files[file_path]

        decided = kc.plan(text, settings, version, sysctls=facts.get("sysctls") or {}, file_exists=file_exists)
        result["changed_keys"] = decided["changed_keys"]
        result["backup_path"] = None
        if decided["warnings"]:
            result["warnings"] = result.get("warnings", []) + decided["warnings"]
        if decided["problems"]:
            return self._fail(result, "%s was not changed: %s" % (path, " | ".join(decided["problems"])),
                              problems=decided["problems"])

        current = stats.get(path) or {}
        attrs_before = {"mode": current.get("mode"), "owner": current.get("owner"), "group": current.get("group")}
        attrs_after = {"mode": mode, "owner": OWNER, "group": GROUP}
        content_changed = decided["after_text"] is not None
        attrs_changed = attrs_before != attrs_after
        result["changed"] = content_changed or attrs_changed
        result["mode"] = mode

        if diff_mode:
            diffs = []
            if content_changed:
                diffs.append({"before_header": path, "after_header": path, "before": text,
                              "after": decided["after_text"]})
            if attrs_changed:
                diffs.append({"before_header": "%s (attributes)" % path, "after_header": "%s (attributes)" % path,
                              "before": "".join("%s: %s\n" % (k, attrs_before[k]) for k in sorted(attrs_before)),
                              "after": "".join("%s: %s\n" % (k, attrs_after[k]) for k in sorted(attrs_after))})
            result["diff"] = diffs

        if not result["changed"]:
            result["msg"] = "%s already has the requested settings" % path
            return result
        what = ", ".join(decided["changed_keys"]) if content_changed else "mode/owner only"
        if check_mode:
            result["msg"] = "%s would be changed (%s)" % (path, what)
            return result

        # one module call: guarded by the sha256 of what was judged, backed up (pruned), staged and renamed in
        res = self._module("secure_cluster.k8s.owned_file", {
            "path": path, "content": decided["after_text"] if content_changed else text, "mode": mode,
            "owner": OWNER, "group": GROUP, "expected_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "backup_dir": args["backup_dir"], "backup_keep": args["backup_keep"]}, task_vars)
        result["backup_path"] = res.get("backup_path")
        if res.get("failed"):
            return self._fail(result, "writing %s failed: %s" % (path, to_native(res.get("msg") or res)),
                              backup_path=result["backup_path"])
        result["msg"] = "%s changed (%s)" % (path, what)
        return result
