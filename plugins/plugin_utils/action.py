# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The prologue every action plugin of the collection shares."""
from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.plain import plain


class CollectionAction(ActionBase):
    """Check mode supported (each action predicts or only reads), no async, the task's arguments validated against
    ``ARGUMENT_SPEC`` and handed over in plain JSON types; the work is :meth:`act`.

    ``REMOVE_REMOTE_TMP``: an action that makes several module calls on the node keeps one remote temporary
    directory for them and removes it at the end.
    """

    TRANSFERS_FILES = False
    ARGUMENT_SPEC = {}
    REMOVE_REMOTE_TMP = False

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = False
        result = super(CollectionAction, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        try:
            return self.act(result, plain(args), task_vars or {})
        finally:
            if self.REMOVE_REMOTE_TMP:
                self._remove_tmp_path(self._connection._shell.tmpdir)

    def act(self, result, args, task_vars):
        raise NotImplementedError("%s must implement act()" % type(self).__name__)
