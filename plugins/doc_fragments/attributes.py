# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """The module attributes that several plugins share word for word. A module's own ``attributes`` entry with
    the same name wins over the fragment's (ansible-core merges the fragment under the module's keys)."""

    # The audits: they read and report, never change a node.
    READ_ONLY = r"""
attributes:
  async:
    support: none
    description: Not supported.
  check_mode:
    support: full
    description: Read-only; behaves the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed.
"""

    # Plugins that run on the controller and nowhere else.
    CONTROLLER = r"""
attributes:
  action:
    support: full
    description: Runs on the controller only.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller.
"""

    # Controller steps that write report files: the files are the run's output, written in check mode too.
    REPORT = r"""
attributes:
  check_mode:
    support: full
    description:
      - Behaves the same in check mode and writes the reports then too; they are the run's output on the
        controller, not state of any managed node.
"""

    # Modules that change a file or the kernel's state on a node, predicting the change in check mode.
    NODE_WRITE = r"""
attributes:
  check_mode:
    support: full
    description: Every check is made and C(changed) is predicted; nothing is written.
  platform:
    support: full
    platforms: posix
    description: Linux nodes.
"""
