# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """The backup options of every module that writes a node file through module_utils/owned_file.py; a module
    sets its own O(backup_dir) default (ansible-core merges the module's keys over the fragment's)."""

    DOCUMENTATION = r"""
options:
  backup_dir:
    description:
      - Directory on the node (created with mode 0700) for a copy of the previous content,
        C(<file name>.<UTC timestamp>.bak) with mode 0600, made before the content changes.
    type: path
  backup_keep:
    description: Number of backups of this file to keep in O(backup_dir); older ones are deleted.
    type: int
    default: 5
"""

    # Options of the modules whose action plugin reads the file on the node, edits it on the controller and
    # hands the result back for the write.
    ACTION_INTERNAL = r"""
options:
  _mode:
    description: Internal, set by the action plugin.
    type: str
    choices: [read, write]
  _content:
    description: Internal, set by the action plugin.
    type: str
"""
