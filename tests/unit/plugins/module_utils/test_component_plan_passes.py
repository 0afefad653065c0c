# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner's promise: on a fresh kubeadm control plane of every supported minor, the plan of each role applied
by the real editors (static_pod.edit_pod as static_pod_manifest applies it, kubelet_config.plan as the
kubelet_config action does) passes, in the audit (cis_eval over node_facts), every command-line and configuration
recommendation whose toggle is on; and planned again on the node it hardened, it changes nothing.

Which recommendations count comes from the catalog that judges the minor: those ``remediated_by`` a toggle of
these roles and checked on the component's flags or configuration (kind ``args``), with the toggle on. The node is
kubeadm_node's fresh node with the minor's manifests and kubelet configuration from the test bed's generator
(what kubeadm writes for that minor).
"""
from __future__ import annotations

import datetime
import os

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import component_plan, kubelet_config, static_pod
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_eval import evaluate
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_version import SUPPORTED_MINORS
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import catalog as catalog_data
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils.role_defaults import (
    ROLES, public, render, role_file, trusted)
from ansible_collections.secure_cluster.k8s.tests.unit.testbed_loader import node_init as ni

TODAY = datetime.date(2026, 6, 1)
MANIFEST_OF = {"apiserver": "kube-apiserver.yaml", "controller_manager": "kube-controller-manager.yaml",
               "scheduler": "kube-scheduler.yaml", "etcd": "etcd.yaml"}
PROCESS_OF = {"apiserver": "kube-apiserver", "controller_manager": "kube-controller-manager",
              "scheduler": "kube-scheduler", "etcd": "etcd"}
# Remediated by these roles and checked on flags, but not by a flag the planner sets.
NOT_PLANNED = {"2.7": "etcd's own CA: tasks/ca.yml checks the PKI, no flag changes"}
# What "every toggle on" sets besides the toggles, so that no documented deviation is left: 4.2.9 names the
# kubelet's serving pair only when it is given, and 1.2.1 with anonymous requests disabled (not the rbac mode of auto
# before 1.32) needs the kubeadm probes' breaking allowed.
ALL_ON_INPUTS = {"kubelet_tls_cert_file": "/var/lib/kubelet/pki/kubelet.crt",
                 "kubelet_tls_private_key_file": "/var/lib/kubelet/pki/kubelet.key",
                 "apiserver_anonymous_auth_mode": "disabled", "apiserver_allow_probe_breaking": True}


def documented_warnings(variables_of, derived):
    """Recommendations a toggle enables that the documentation says the audit reports as WARN with these inputs
    (apiserver_anonymous_auth_mode and kubelet_tls_cert_file in the roles' argument specs, docs/audit.md)."""
    out = {}
    if derived["anonymous_mode"] in ("rbac", "restricted"):
        out["1.2.1"] = "anonymous requests stay on, limited by RBAC or to the health paths"
    if not render(variables_of["kubelet"], "{{ kubelet_tls_cert_file }}"):
        out["4.2.9"] = "no serving pair given: the kubelet keeps its self-signed one"
    return out


def role_variables(component, all_on):
    """The role's defaults and vars, with every toggle on when ``all_on``."""
    variables = dict(role_file(component, "defaults"), **role_file(component, "vars"))
    if all_on:
        for name in list(variables):
            if name.startswith(component + "_cis_") and name.endswith("_enabled"):
                variables[name] = True
        variables.update(trusted(dict((k, v) for k, v in ALL_ON_INPUTS.items() if k.startswith(component + "_"))))
    return variables


def manifest_task_args(variables):
    """replace and allow_probe_breaking of the apiserver role's static_pod_manifest task, rendered."""
    with open(os.path.join(ROLES, "apiserver", "tasks", "manifest.yml")) as handle:
        args = yaml.safe_load(handle)[0]["secure_cluster.k8s.static_pod_manifest"]
    return dict((key, render(variables, args[key])) for key in ("replace", "allow_probe_breaking"))


def apiserver_derived(variables, pod_info):
    """The apiserver role's derived values (roles/apiserver/vars/main.yml) for a manifest read as ``pod_info``."""
    scope = dict(variables, apiserver__pod=pod_info)
    return dict((key, render(scope, "{{ apiserver__%s }}" % key)) for key in component_plan.DERIVED["apiserver"])


def plan_and_edit(component, variables, pod):
    """(EditResult, derived values) of the role's plan applied to ``pod`` as its static_pod_manifest task does."""
    current, derived, extra = None, None, {}
    if component == "apiserver":
        info = static_pod.pod_flags(pod)
        current, derived = info["flags"], apiserver_derived(variables, info)
        extra = manifest_task_args(variables)
    elif component == "etcd":
        derived = {"node_ip": kubeadm_node.NODE_IP}
    plan = component_plan.desired(component, public(component, variables), current=current, derived=derived)
    edit = static_pod.edit_pod(pod, flags=plan["flags"], volumes=plan.get("volumes"), **extra)
    assert edit.errors == [], "%s: %s" % (component, edit.errors)
    return edit, derived


def kubelet_edit(variables, text, version):
    plan = component_plan.desired("kubelet", public("kubelet", variables))
    sysctls = dict((name, str(value)) for name, value in kubelet_config.KERNEL_DEFAULTS)
    result = kubelet_config.plan(text, plan["settings"], version, sysctls=sysctls, file_exists=lambda path: True)
    assert result["problems"] == []
    return result


def expected_ids(catalog, variables_of):
    """Recommendations of the catalog checked on flags or configuration and remediated by a toggle that is on."""
    ids = []
    for control in catalog["controls"]:
        by = control.get("remediated_by") or {}
        role = by.get("role")
        if role not in variables_of or (control.get("check") or {}).get("kind") != "args":
            continue
        if control["id"] in NOT_PLANNED or not variables_of[role].get(by["var"]):
            continue
        ids.append(control["id"])
    return ids


@pytest.mark.parametrize("all_on", [False, True], ids=["defaults", "all-toggles"])
@pytest.mark.parametrize("minor", SUPPORTED_MINORS)
def test_plan_passes_what_it_enables_and_is_idempotent(tmp_path, minor, all_on):
    full_version = ni.PATCH_FOR_MINOR[minor]
    root = str(tmp_path / "cp1")
    pids = kubeadm_node.build_node(root)
    pids_of = dict((component, pids[PROCESS_OF[component]]) for component in PROCESS_OF)
    manifests = ni.control_plane_manifests(minor, full_version, kubeadm_node.NODE_NAME, kubeadm_node.NODE_IP,
                                           path_exists=lambda path: True)
    variables_of = dict((component, role_variables(component, all_on)) for component in component_plan.COMPONENTS)

    for component, name in MANIFEST_OF.items():
        first, derived = plan_and_edit(component, variables_of[component], manifests[name])
        assert first.changed, "%s %s: the fresh manifest lacks some of the hardening" % (minor, component)
        second, dummy = plan_and_edit(component, variables_of[component], first.pod)
        assert not second.changed, "%s %s: planned again on the node it hardened: %s" % (
            minor, component, second.flags_changed)
        kubeadm_node.write(root, "/etc/kubernetes/manifests/" + name, yaml.safe_dump(first.pod), 0o600)
        kubeadm_node.add_process(root, pids_of[component], first.pod["spec"]["containers"][0]["command"])
        if component == "apiserver":
            warned = documented_warnings(variables_of, derived)

    kubelet_text = yaml.safe_dump(ni.kubelet_config(minor))
    first = kubelet_edit(variables_of["kubelet"], kubelet_text, full_version)
    assert first["changed_keys"], "the fresh kubelet configuration lacks some of the hardening"
    second = kubelet_edit(variables_of["kubelet"], first["after_text"], full_version)
    assert second["changed_keys"] == [], "planned again on the kubelet it hardened: %s" % second["changed_keys"]
    kubeadm_node.write(root, "/var/lib/kubelet/config.yaml", first["after_text"], 0o600)

    catalog, dummy = catalog_data.choose("auto", full_version)
    ids = expected_ids(catalog, variables_of)
    sections = set(cid.rsplit(".", 1)[0] if cid.count(".") > 1 else cid.split(".")[0] for cid in ids)
    assert sections == {"1.2", "1.3", "1.4", "2", "4.2"}, sections
    result = evaluate(collect(root=root), catalog, host="cp1", parse_yaml=yaml.safe_load, today=TODAY, ids=ids)
    judged = dict((c["id"], c) for c in result["controls"])
    assert sorted(judged, key=str) == sorted(ids, key=str)
    failing = ["%s %s: %s" % (cid, c["status"], c.get("reason") or c.get("actual"))
               for cid, c in judged.items() if c["status"] != ("WARN" if cid in warned else "PASS")]
    assert not all_on or not warned, warned
    assert failing == [], "%s (%s): %s" % (minor, catalog["benchmark"]["id"], failing)
