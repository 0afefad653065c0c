# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health_gate action plugin as ansible-core runs it: argument validation, check mode, and the gate's module
calls going through _execute_module (the gate's decisions are tested in plugin_utils/test_health_gate.py)."""
from __future__ import annotations

from ansible_collections.secure_cluster.k8s.plugins.action import health_gate
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.action.action_task import new_action

UNIT_ARGS = {"component": "containerd", "unit": {"name": "containerd.service"},
             "commands": [{"argv": ["ctr", "version"]}], "timeout": 10, "stable_seconds": 1}


def action(args, check_mode=False):
    act = new_action(health_gate, "health_gate", args, check_mode=check_mode)
    act._remove_tmp_path = lambda path: None
    act._sleep = lambda seconds: None
    return act


def test_check_mode_does_nothing_and_says_so():
    act = action(UNIT_ARGS, check_mode=True)

    def execute_module(**kwargs):
        raise AssertionError("no module runs in check mode: %s" % kwargs)

    act._execute_module = execute_module
    result = act.run(task_vars={})
    assert result["changed"] is True  # the real run restarts the unit
    assert result["msg"] == "check mode: containerd was not restarted, gated or rolled back"
    static = action({"component": "etcd", "static_pod": {"manifest": "/m.yaml"}, "timeout": 5,
                     "commands": [{"argv": ["etcdctl"]}]}, check_mode=True)
    static._execute_module = execute_module
    result = static.run(task_vars={})
    assert result["changed"] is False and result["msg"] == "check mode: etcd was not gated or rolled back"


def test_arguments_the_spec_cannot_express_are_refused():
    act = action({"component": "etcd", "timeout": 0, "static_pod": {"manifest": "/m.yaml"},
                  "unit": {"name": "etcd.service"}, "commands": [{"argv": ["etcdctl"]}]})
    result = act.run(task_vars={})
    assert result["failed"] is True
    assert result["msg"] == ("health_gate for etcd: exactly one of static_pod and unit is required: how the new "
                             "process is recognised; timeout must be at least 1 (seconds)")


def test_a_healthy_unit_through_execute_module():
    calls = []
    pids = iter([100, 200, 200])

    def execute_module(module_name, module_args, task_vars):
        calls.append((module_name, module_args))
        if module_name == "ansible.legacy.systemd_service":
            if module_args.get("state") == "restarted":
                return {"changed": True}
            return {"status": {"ActiveState": "active", "MainPID": str(next(pids))}}
        return {"rc": 0, "stdout": "Server: v2"}

    act = action(UNIT_ARGS)
    act._execute_module = execute_module
    result = act.run(task_vars={})
    assert result["healthy"] is True and result["pid"] == 200 and not result.get("failed"), result
    assert [c[0] for c in calls] == ["ansible.legacy.systemd_service"] * 3 + ["ansible.legacy.command"] + [
        "ansible.legacy.systemd_service"]
    assert ("ansible.legacy.command", {"argv": ["ctr", "version"]}) in calls
