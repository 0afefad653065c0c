# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An action plugin instance as ansible-core builds one for a task, for the action plugins' unit tests (each test
then replaces the node side: _execute_module, _module, _write_content)."""
from __future__ import annotations

from unittest.mock import MagicMock


def new_action(plugin, name, args, check_mode=False, diff=False):
    """``plugin.ActionModule`` for a task ``secure_cluster.k8s.<name>`` with ``args``."""
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = diff
    task.action = "secure_cluster.k8s.%s" % name
    play_context = MagicMock()
    play_context.check_mode = check_mode
    return plugin.ActionModule(task, MagicMock(), play_context, loader=None, templar=None, shared_loader_obj=None)
