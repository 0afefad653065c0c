# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The component_plan action: reads the role's variables from the task's, templates only those the plan reads,
never touches a node, and names what is missing."""
from __future__ import annotations

from unittest.mock import MagicMock

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.secure_cluster.k8s.plugins.action import component_plan as action_mod
from ansible_collections.secure_cluster.k8s.plugins.module_utils import component_plan
from ansible_collections.secure_cluster.k8s.plugins.modules import component_plan as doc_stub
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.action.action_task import new_action
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.doc_options import documented_options
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils.role_defaults import (
    public, role_file, trusted)


def run(args, task_vars, check_mode=False):
    action = new_action(action_mod, "component_plan", args, check_mode=check_mode)
    action._templar = Templar(loader=DataLoader(), variables=task_vars)
    action._execute_module = MagicMock()
    result = action.run(task_vars=task_vars)
    action._execute_module.assert_not_called()  # controller only
    return result


def test_doc_stub():
    options = documented_options(doc_stub)
    assert yaml.safe_load(doc_stub.DOCUMENTATION)["module"] == "component_plan"
    assert dict((k, o["type"]) for k, o in options.items()) == dict(
        (k, spec["type"]) for k, spec in action_mod.ARGUMENT_SPEC.items())
    assert options["component"]["choices"] == list(component_plan.COMPONENTS)
    returned = set(yaml.safe_load(doc_stub.RETURN))
    assert returned == {"component", "flags", "settings", "volumes", "controls", "volume_controls"}
    assert isinstance(yaml.safe_load(doc_stub.EXAMPLES), list) and not action_mod.ActionModule._requires_connection


@pytest.mark.parametrize("check_mode", [False, True])
def test_the_role_defaults_templated_as_the_play_has_them(check_mode):
    task_vars = dict(role_file("etcd", "defaults"), etcd_pki_dir="/srv/etcd-pki", inventory_hostname="cp1")
    result = run({"component": "etcd", "derived": {"node_ip": "10.0.0.5"}}, trusted(task_vars), check_mode)
    assert result["changed"] is False and not result.get("failed")
    expected = component_plan.desired("etcd", public("etcd", trusted(task_vars)), derived={"node_ip": "10.0.0.5"})
    assert {k: result[k] for k in expected} == expected
    assert result["flags"]["cert-file"] == "/srv/etcd-pki/server.crt"  # etcd_cert_file is a template of etcd_pki_dir


def test_only_the_variables_the_plan_reads_are_templated():
    task_vars = trusted({
        "scheduler_cis_1_4_1_enabled": True,
        "scheduler_cis_1_4_2_enabled": False,
        "scheduler_bind_address": "{{ not_defined_anywhere }}",   # its control is off: never read
        "scheduler_health_url": "{{ not_defined_anywhere }}",     # not the plan's
        "scheduler__internal": "{{ not_defined_anywhere }}",      # a role internal, not a public variable
        "scheduler_extra_flags": {"v": "{{ verbosity }}"},
        "verbosity": 2,
    })
    result = run({"component": "scheduler"}, task_vars)
    assert result["flags"] == {"profiling": False, "v": 2}
    assert result["controls"] == {"profiling": ["1.4.1"], "v": ["scheduler_extra_flags"]}


def test_role_variables_mapping_is_the_public_ones():
    task_vars = {"kubelet_a": 1, "kubelet__b": 2, "kubeletc": 3, "scheduler_d": 4}
    mapping = action_mod.RoleVariables("kubelet", task_vars, Templar(loader=DataLoader(), variables=task_vars))
    assert dict(mapping) == {"kubelet_a": 1} and len(mapping) == 1
    with pytest.raises(KeyError):
        mapping["kubelet__b"]  # pylint: disable=pointless-statement


def test_a_missing_variable_is_named():
    result = run({"component": "scheduler"}, trusted({"scheduler_cis_1_4_1_enabled": True}))
    assert result["failed"] is True
    assert "scheduler_cis_1_4_2_enabled" in result["msg"]
    result = run({"component": "apiserver", "current": {}}, trusted(role_file("apiserver", "defaults")))
    assert result["failed"] is True and "derived value" in result["msg"]
