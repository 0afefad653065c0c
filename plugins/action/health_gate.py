# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ``secure_cluster.k8s.health_gate``: the health gate and rollback of every component the roles
restart (the static pods kube-apiserver, kube-scheduler, kube-controller-manager and stacked etcd; the units
etcd, kubelet and containerd), polled in one task by module calls on the node. The logic is
``plugin_utils.health_gate``."""

from __future__ import annotations

import time

from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import health_gate as hg
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.action import CollectionAction
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.kube_yaml import HAS_YAML


class ActionModule(CollectionAction):

    _requires_connection = True
    ARGUMENT_SPEC = hg.ARGUMENT_SPEC
    REMOVE_REMOTE_TMP = True  # the many probes of one gate share one remote temporary directory

    # -- target calls and time (small methods so tests can replace them) --------------------------------------
    def _module(self, name, args, task_vars):
        return self._execute_module(module_name=name, module_args=args, task_vars=task_vars)

    def _sleep(self, seconds):
        time.sleep(seconds)

    def _clock(self):
        return time.monotonic()

    def act(self, result, args, task_vars):
        errors = hg.validate(args)
        if args.get("static_pod") and not HAS_YAML:
            errors.append("PyYAML is required on the controller")
        if errors:
            result.update(failed=True, changed=False, msg="health_gate for %s: %s" % (args["component"], "; ".join(errors)))
            return result
        if self._task.check_mode:
            # a unit the gate restarts is a change the real run makes: predicted, as systemd_service predicts it
            restart = bool(args.get("unit") and args["unit"]["restart"])
            result.update(changed=restart, msg="check mode: %s was not %sgated or rolled back" % (
                args["component"], "restarted, " if restart else ""))
            return result
        gate = hg.Gate(args, call=lambda name, margs: self._module(name, margs, task_vars),
                       sleep=self._sleep, clock=self._clock)
        result.update(gate.run())
        return result
