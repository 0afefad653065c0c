# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the containerd role: TOML on the controller (tomllib, Python 3.11+), logic in module_utils."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.secure_cluster.k8s.plugins.module_utils import containerd_toml

try:
    import tomllib
except ImportError:  # pragma: no cover - the controller runs Python 3.11+
    tomllib = None


def containerd_from_toml(text):
    """Parse TOML text (such as the output of C(containerd config dump))."""
    if tomllib is None:
        raise AnsibleFilterError("containerd_from_toml needs Python 3.11+ (tomllib) on the controller")
    try:
        return tomllib.loads(str(text))
    except tomllib.TOMLDecodeError as exc:
        raise AnsibleFilterError("not valid TOML: %s" % exc) from exc


def containerd_to_toml(settings):
    """Render a nested dict as containerd config TOML."""
    try:
        return containerd_toml.render(settings)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def containerd_config_version(version_output):
    """2 for containerd 1.x, 3 for 2.x, from C(containerd --version)."""
    try:
        return containerd_toml.config_version(version_output)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def containerd_config_mismatches(intended, dump_text):
    """Sentences for every intended setting that containerd's C(config dump) of the candidate does not show."""
    return containerd_toml.mismatches(intended, containerd_from_toml(dump_text))


class FilterModule:
    def filters(self):
        return {
            "containerd_from_toml": containerd_from_toml,
            "containerd_to_toml": containerd_to_toml,
            "containerd_config_version": containerd_config_version,
            "containerd_config_mismatches": containerd_config_mismatches,
        }
