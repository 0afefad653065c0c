# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ``secure_cluster.k8s.component_plan``: what a hardening role asks of its component (flags,
volumes or kubelet settings, and the control behind each), from the role's variables, on the controller.

The role's variables are not passed in: the planner reads them from the task's variables, and only those a plan
needs are templated (a role has dozens; templating every host variable would be slow).
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.secure_cluster.k8s.plugins.module_utils import component_plan
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.action import CollectionAction
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.plain import plain

ARGUMENT_SPEC = dict(
    component=dict(type="str", required=True, choices=list(component_plan.COMPONENTS)),
    current=dict(type="dict"),
    derived=dict(type="dict"),
)


class RoleVariables(Mapping):
    """The public variables of a role (``<component>_*``, not ``<component>__*``) in the task's variables, each
    templated when first read."""

    def __init__(self, component, task_vars, templar):
        self._prefix = component + "_"
        self._vars = task_vars
        self._templar = templar
        self._cache = {}

    def _public(self, name):
        return isinstance(name, str) and name.startswith(self._prefix) and not name.startswith(self._prefix + "_")

    def __getitem__(self, name):
        if not self._public(name) or name not in self._vars:
            raise KeyError(name)
        if name not in self._cache:
            self._cache[name] = plain(self._templar.template(self._vars[name]))
        return self._cache[name]

    def __iter__(self):
        return (name for name in self._vars if self._public(name))

    def __len__(self):
        return sum(1 for dummy in self)


class ActionModule(CollectionAction):

    _requires_connection = False
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, result, args, task_vars):
        component = args["component"]
        templar = self._templar.copy_with_new_env(available_variables=task_vars)
        try:
            plan = component_plan.desired(component, RoleVariables(component, task_vars, templar),
                                          current=args["current"], derived=args["derived"])
        except component_plan.PlanError as exc:
            result.update(failed=True, changed=False, msg=to_native(exc))
            return result
        result.update(plan)
        result["changed"] = False
        return result
