# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """The hostPath volumes of a static pod edit (static_pod_manifest, and kubeadm_config that keeps them)."""

    DOCUMENTATION = r"""
options:
  volumes:
    description:
      - hostPath volumes to add to the pod, each mounted into the container; used for files that new flags name.
      - A volume or mount that already exists with the same name and paths is left alone; one with the same name
        and another path is an error.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the volume and of its volumeMount.
        type: str
        required: true
      hostPath:
        description: Path on the node.
        type: str
        required: true
      mountPath:
        description: Path in the container; the same as O(volumes[].hostPath) by default.
        type: str
      readOnly:
        description: Whether the mount is read-only.
        type: bool
        default: true
      type:
        description: hostPath type (V(File), V(FileOrCreate), V(Directory), V(DirectoryOrCreate), ...).
        type: str
        default: DirectoryOrCreate
"""
