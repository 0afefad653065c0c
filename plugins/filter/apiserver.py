# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the apiserver role: ``encryption_config_plan``, ``encryption_key_problem`` and ``pod_flags`` (logic
in module_utils)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.secure_cluster.k8s.plugins.module_utils import encryption_config, k8s_flags, static_pod
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.plain import plain

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False


def encryption_config_plan(existing, provider, user_key=None, generated_key=None, resources=None, kms=None,
                           keep_old_keys=True, raise_errors=True):
    """The EncryptionConfiguration to write; fails (without quoting any key) when it cannot be planned, or with
    ``raise_errors`` false returns the reasons in ``errors`` (for a task that must keep the key out of its log)."""
    if not HAS_YAML:
        raise AnsibleFilterError("PyYAML is required on the controller")
    result = encryption_config.plan(plain(existing or {}), to_text(provider), user_key=user_key or None,
                                    generated_key=generated_key or None, resources=plain(resources or []),
                                    kms=plain(kms or {}), keep_old_keys=bool(keep_old_keys),
                                    parse_yaml=yaml.safe_load)
    if result["errors"] and raise_errors:
        raise AnsibleFilterError("encryption configuration refused, nothing written: " + "; ".join(result["errors"]))
    return result


def encryption_key_problem(key, provider):
    """Why ``key`` is not a valid ``provider`` key (empty string when it is); never quotes the key."""
    return encryption_config.key_problem(to_text(provider), to_text(key)) or ""


def pod_flags(manifest_text, version=None):
    """``{component, version, container, flags}`` of a static pod manifest's text."""
    if not HAS_YAML:
        raise AnsibleFilterError("PyYAML is required on the controller")
    try:
        pod = yaml.safe_load(to_text(manifest_text))
        result = static_pod.pod_flags(pod, version=version or None)
        result["supported_minors"] = list(k8s_flags.SUPPORTED_MINORS)
        return result
    except (yaml.YAMLError, ValueError) as exc:
        raise AnsibleFilterError("cannot read the static pod manifest: %s" % to_text(exc))


class FilterModule(object):
    def filters(self):
        return {"encryption_config_plan": encryption_config_plan, "encryption_key_problem": encryption_key_problem,
                "pod_flags": pod_flags}
