# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """The flag edit options of the modules that change a component's command line (static_pod_manifest,
    kubeadm_config, etcd_env_file); each module describes O(flags) itself, because what a value may be differs."""

    DOCUMENTATION = r"""
options:
  flags:
    type: dict
    default: {}
  remove_flags:
    description: Flags to remove.
    type: list
    elements: str
    default: []
"""
