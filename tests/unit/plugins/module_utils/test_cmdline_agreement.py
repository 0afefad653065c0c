# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit, the manifest editor and the health gate read a component's command line the same way (issue #15).

For random command lines built from each component's real flag table (bare and ``=`` booleans, ``--flag value``
and ``--flag=value``, repeated flags, ``_`` spellings, values with spaces, ``=``, commas and quotes, negative
numbers, positional tokens and ``--``), the audit's reading (``cis_view.NodeView`` over the static pod manifest and
over the running process) and the editor's reading (``static_pod.pod_flags``) give the same flags and values; and
the health gate (``plugin_utils.health_gate``, which reads the manifest's command and ``/proc/PID/cmdline``) accepts
a process exactly when it runs the manifest's command line, so a process it accepts is one the audit reads as the
manifest, and one the audit reads otherwise is refused.
"""
from __future__ import annotations

import random

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import etcd_flags, k8s_flags, static_pod, static_pod_values
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_view import NodeView
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import health_gate
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import (
    KNOWN_BOOL_FLAGS,
    parse_argv,
    parse_cmdline_bytes,
    parse_map,
    split_list,
)

COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
VALUES = ("x", "a b", "k=v", "a,b,c", "'quoted value'", '"dq"', "-1", "0.5", "/etc/kubernetes/pki/ca.crt",
          "https://10.0.0.1:6443", "", "true", "x_y")
CASES = 60


def _flag_table(comp, version):
    return etcd_flags.flags_for(version) if comp == "etcd" else k8s_flags.flags_for(comp, version)


def _random_argv(rng, comp, types):
    names = sorted(types)
    argv = [comp]
    for dummy in range(rng.randint(1, 14)):
        name = rng.choice(names)
        kind = str(types[name]).lower()
        spelled = name.replace("-", "_") if comp != "etcd" and "-" in name and rng.random() < 0.2 else name
        dashes = "-" if rng.random() < 0.1 else "--"
        if kind == "bool" or kind.endswith("[=true]"):
            argv.append(rng.choice(["%s%s" % (dashes, spelled), "%s%s=%s" % (dashes, spelled, rng.choice(
                ["true", "false"]))]))
        elif rng.random() < 0.5:
            argv.append("%s%s=%s" % (dashes, spelled, rng.choice(VALUES)))
        else:
            value = rng.choice([v for v in VALUES if v and not v.startswith("-")] + ["-1"])
            argv.extend(["%s%s" % (dashes, spelled), value])
        if rng.random() < 0.05:
            argv.append("positional")
    if rng.random() < 0.1:
        argv.extend(["--", "--after-the-end"])
    return argv


def _facts(comp, version, argv):
    path = "/etc/kubernetes/manifests/%s.yaml" % comp
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": comp, "namespace": "kube-system"},
           "spec": {"containers": [{"name": comp, "image": "registry.k8s.io/%s:v%s" % (comp, version),
                                    "command": argv}]}}
    versions = {"kubernetes": None if comp == "etcd" else version,
                "components": {comp: {"version": "v" + version, "source": "test"}}}
    return pod, {
        "manifests": {"files": {comp + ".yaml": {"path": path, "text": yaml.safe_dump(pod)}}},
        "file_sets": {"manifest:%s" % comp: [path]},
        "processes": {comp: [{"pid": 42, "argv": argv, "environ": {}}]},
        "version": versions,
    }


def _editor_reading(value, name):
    if name in static_pod_values.MERGE_LIST_FLAGS or name in static_pod_values.FILE_LIST_FLAGS:
        return split_list(value)
    if name in static_pod_values.MERGE_MAP_FLAGS:
        return parse_map(value)
    return value


def _audit_reading(args, name):
    if name in static_pod_values.MERGE_LIST_FLAGS or name in static_pod_values.FILE_LIST_FLAGS:
        return args.get_list(name)
    if name in static_pod_values.MERGE_MAP_FLAGS:
        # a key without "=" (which the component refuses) is None here and "" in the editor's formatted value
        return dict((k, "" if v is None else v) for k, v in args.get_map(name).items())
    return args.get(name)


@pytest.mark.parametrize("comp", COMPONENTS)
def test_audit_and_editor_read_random_command_lines_alike(comp):
    versions = ["3.5.21", "3.6.5"] if comp == "etcd" else ["1.34.4", "1.37.2"]
    rng = random.Random("cmdline-%s" % comp)  # seeded: a failure names a reproducible case
    for case in range(CASES):
        version = rng.choice(versions)
        types = _flag_table(comp, version)
        argv = _random_argv(rng, comp, types)
        pod, facts = _facts(comp, version, argv)
        editor = static_pod.pod_flags(pod, version=version)["flags"]
        states = NodeView(facts, parse_yaml=yaml.safe_load).states(comp)
        for kind in ("configured", "running"):
            args = states[kind].args
            where = "case %d (%s %s, %s): %r" % (case, comp, version, kind, argv)
            assert list(args.flags) == list(editor), where
            for name, value in editor.items():
                assert _audit_reading(args, name) == _editor_reading(value, name), "%s: --%s" % (where, name)


def _running_reading(comp, version, pod, proc_argv):
    facts = _facts(comp, version, pod["spec"]["containers"][0]["command"])[1]
    facts["processes"][comp][0]["argv"] = proc_argv
    args = NodeView(facts, parse_yaml=yaml.safe_load).states(comp)["running"].args
    return [(name, args.values(name)) for name in args.names()]


@pytest.mark.parametrize("comp", COMPONENTS)
def test_health_gate_accepts_exactly_what_the_audit_reads_as_the_manifest(comp):
    versions = ["3.5.21", "3.6.5"] if comp == "etcd" else ["1.34.4", "1.37.2"]
    rng = random.Random("gate-%s" % comp)
    for case in range(CASES):
        version = rng.choice(versions)
        argv = _random_argv(rng, comp, _flag_table(comp, version))
        pod = _facts(comp, version, argv)[0]
        command = health_gate.manifest_command(yaml.safe_dump(pod))
        editor = static_pod.pod_flags(pod, version=version)["flags"]
        # the runtime starts the program by its full path; the gate reads /proc/PID/cmdline
        running = parse_cmdline_bytes(("\0".join(["/usr/local/bin/" + comp] + argv[1:]) + "\0").encode())
        where = "case %d (%s %s): %r" % (case, comp, version, argv)
        assert health_gate.choose_process({42: running}, command) == (42, None), where
        configured = _running_reading(comp, version, pod, argv)
        assert _running_reading(comp, version, pod, running) == configured, where
        assert [name for name, dummy in configured] == list(editor), where
        # a process started before the change: one argument fewer, or one value other
        stale = list(running)
        index = rng.randrange(1, len(stale))
        if rng.random() < 0.5:
            del stale[index]
        else:
            stale[index] += "x"
        if _running_reading(comp, version, pod, stale) != configured:
            pid, why = health_gate.choose_process({7: stale}, command)
            assert pid is None and "another command line" in why, "%s, stale %r" % (where, stale)


def test_optional_value_flag_never_takes_the_next_token():
    """``--version`` is ``version[=true]`` (pflag NoOptDefVal): ``--version raw`` is ``--version=true`` and an
    argument ``raw``, for the audit and the editor alike."""
    argv = ["kube-apiserver", "--version", "raw", "--profiling=false"]
    pod, facts = _facts("kube-apiserver", "1.35.1", argv)
    editor = static_pod.pod_flags(pod, version="1.35.1")["flags"]
    args = NodeView(facts, parse_yaml=yaml.safe_load).states("kube-apiserver")["configured"].args
    assert editor["version"] == "true" and args.get("version") == "true"
    assert args.positional == ["raw"]


def test_underscore_spelling_is_the_kubernetes_components_not_etcds():
    """kube-apiserver folds ``_`` into ``-`` (cliflag.WordSepNormalizeFunc); etcd's Go flag package does not."""
    api = parse_argv(["/usr/local/bin/kube-apiserver", "--audit_log_path=/var/log/a.log"])
    assert api.get("audit-log-path") == "/var/log/a.log"
    etcd = parse_argv(["etcd", "--data_dir=/var/lib/etcd"])
    assert etcd.get("data-dir") is None and etcd.get("data_dir") == "/var/lib/etcd"
    pod, dummy = _facts("kube-apiserver", "1.35.1", ["kube-apiserver", "--audit_log_path", "/var/log/a.log"])
    assert static_pod.pod_flags(pod, version="1.35.1")["flags"] == {"audit-log-path": "/var/log/a.log"}


def test_a_bool_flag_outside_the_builtin_list_is_read_from_the_release_table():
    """The audit reads with the release's flag table, as the editor does: a bool flag that k8s_args' built-in list
    lacks must not swallow the next argument."""
    types = k8s_flags.flags_for("kube-apiserver", "1.35.1")
    missing = sorted(n for n, t in types.items() if str(t).lower() == "bool" and n not in KNOWN_BOOL_FLAGS)
    assert missing, "every kube-apiserver bool flag is in the built-in list: pick another component for this test"
    argv = ["kube-apiserver", "--" + missing[0], "positional"]
    pod, facts = _facts("kube-apiserver", "1.35.1", argv)
    args = NodeView(facts, parse_yaml=yaml.safe_load).states("kube-apiserver")["configured"].args
    assert args.get(missing[0]) == "true" and args.positional == ["positional"]
    assert static_pod.pod_flags(pod, version="1.35.1")["flags"] == {missing[0]: "true"}
