# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/static_pod.py on kubeadm manifests made by the test node's generator."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.action.static_pod_manifest import dump_manifest
from ansible_collections.secure_cluster.k8s.plugins.module_utils import static_pod as sp
from ansible_collections.secure_cluster.k8s.plugins.module_utils import static_pod_node as spn
from ansible_collections.secure_cluster.k8s.tests.unit.testbed_loader import node_init as ni

IP = "10.89.0.2"
MINORS = ("1.28", "1.33")


def manifest_text(component, minor):
    full = ni.PATCH_FOR_MINOR[minor]
    if component == "kube-apiserver":
        pod = ni.apiserver_manifest(minor, full, IP, lambda _path: False)
    elif component == "kube-controller-manager":
        pod = ni.controller_manager_manifest(minor, full, lambda _path: False)
    elif component == "kube-scheduler":
        pod = ni.scheduler_manifest(minor, full)
    else:
        pod = ni.etcd_manifest(minor, "cp1", IP)
    return ni.to_yaml(pod)


def pod_of(component, minor):
    return yaml.safe_load(manifest_text(component, minor))


def command(pod):
    return pod["spec"]["containers"][0]["command"]


@pytest.mark.parametrize("minor", MINORS)
@pytest.mark.parametrize("component", ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"])
def test_dump_round_trips_kubeadm_manifests_byte_for_byte(component, minor):
    text = manifest_text(component, minor)
    assert dump_manifest(yaml.safe_load(text)) == text


@pytest.mark.parametrize("minor", MINORS)
def test_version_detected_from_image(minor):
    res = sp.edit_pod(pod_of("kube-scheduler", minor))
    assert res.version == ni.PATCH_FOR_MINOR[minor]
    assert res.component == "kube-scheduler" and res.container == "kube-scheduler"
    assert res.changed is False and res.errors == []
    assert sp.detect_version("registry.k8s.io/kube-apiserver:v1.33.5@sha256:abc") == "1.33.5"
    assert sp.detect_version("my.registry:5000/kube-apiserver:v1.30.1") == "1.30.1"
    assert sp.detect_version("kube-apiserver") is None


@pytest.mark.parametrize("minor", MINORS)
def test_set_new_flags_appended_sorted_existing_order_kept(minor):
    pod = pod_of("kube-scheduler", minor)
    before = list(command(pod))
    res = sp.edit_pod(pod, flags={"profiling": False, "--contention-profiling": "false"})
    assert res.errors == []
    assert res.changed is True
    assert command(res.pod) == before + ["--contention-profiling=false", "--profiling=false"]
    assert res.flags_changed == {"added": {"contention-profiling": "false", "profiling": "false"},
                                 "changed": {}, "removed": {}}
    assert command(pod) == before  # the input is not modified
    # everything but the command is unchanged
    res.pod["spec"]["containers"][0]["command"] = before
    assert res.pod == pod


def test_change_in_place_and_remove():
    pod = pod_of("kube-controller-manager", "1.33")
    res = sp.edit_pod(pod, flags={"bind-address": "127.0.0.2", "leader-elect": None},
                      remove_flags=["--controllers", "not-there"])
    assert res.errors == []
    cmd = command(res.pod)
    old = command(pod)
    assert cmd.index("--bind-address=127.0.0.2") == old.index("--bind-address=127.0.0.1")
    assert "--leader-elect=true" not in cmd and not any(t.startswith("--controllers") for t in cmd)
    assert res.flags_changed["changed"] == {"bind-address": {"before": "127.0.0.1", "after": "127.0.0.2"}}
    assert res.flags_changed["removed"] == {"controllers": "*,bootstrapsigner,tokencleaner", "leader-elect": "true"}
    assert res.flags_changed["added"] == {}


def test_space_separated_and_repeated_flags_collapse_into_one():
    pod = pod_of("kube-scheduler", "1.33")
    pod["spec"]["containers"][0]["command"] += ["--v", "2", "--profiling", "--v=3"]
    res = sp.edit_pod(pod, flags={"v": 4, "profiling": True})
    cmd = command(res.pod)
    assert cmd[-2:] == ["--v=4", "--profiling"]  # bare bool already true: untouched
    assert res.flags_changed["changed"] == {"v": {"before": "3", "after": "4"}}


@pytest.mark.parametrize("minor", MINORS)
def test_merge_list_flags_keep_existing_members(minor):
    pod = pod_of("kube-apiserver", minor)
    res = sp.edit_pod(pod, flags={"enable-admission-plugins": ["AlwaysPullImages", "NodeRestriction"],
                                  "authorization-mode": "RBAC",
                                  "tls-cipher-suites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"})
    assert res.errors == []
    cmd = command(res.pod)
    assert "--enable-admission-plugins=NodeRestriction,AlwaysPullImages" in cmd
    assert "--authorization-mode=Node,RBAC" in cmd
    assert res.flags_changed["added"] == {"tls-cipher-suites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}
    assert list(res.flags_changed["changed"]) == ["enable-admission-plugins"]
    # merging more members into the now-present cipher list
    pod2 = yaml.safe_load(dump_manifest(res.pod))
    res2 = sp.edit_pod(pod2, flags={"tls-cipher-suites": ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]})
    assert res2.flags_changed["changed"]["tls-cipher-suites"]["after"] == (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
    # replace
    res3 = sp.edit_pod(pod2, flags={"tls-cipher-suites": ["TLS_AES_128_GCM_SHA256"]}, replace=["tls-cipher-suites"])
    assert "--tls-cipher-suites=TLS_AES_128_GCM_SHA256" in command(res3.pod)


def test_feature_gates_merge_key_by_key():
    pod = pod_of("kube-controller-manager", "1.33")
    pod["spec"]["containers"][0]["command"].append("--feature-gates=A=true,B=false")
    res = sp.edit_pod(pod, flags={"feature-gates": {"RotateKubeletServerCertificate": True, "B": None}})
    assert command(res.pod)[-1] == "--feature-gates=A=true,RotateKubeletServerCertificate=true"
    res = sp.edit_pod(pod, flags={"feature-gates": "C=true"}, replace=["feature-gates"])
    assert command(res.pod)[-1] == "--feature-gates=C=true"
    res = sp.edit_pod(pod, flags={"feature-gates": {"A": None, "B": None}})
    assert res.flags_changed["removed"] == {"feature-gates": "A=true,B=false"}


@pytest.mark.parametrize("minor", MINORS)
def test_insecure_port_refused_naming_1_24(minor):
    res = sp.edit_pod(pod_of("kube-apiserver", minor), flags={"insecure-port": 0})
    assert res.errors == ["--insecure-port is not accepted by kube-apiserver v%s: it was removed in v1.24" % minor]
    # removing it is fine (and a no-op here)
    res = sp.edit_pod(pod_of("kube-apiserver", minor), remove_flags=["insecure-port"])
    assert res.errors == [] and res.changed is False


def test_flag_added_later_refused_on_older_version_and_version_override():
    res = sp.edit_pod(pod_of("kube-apiserver", "1.28"), flags={"allow-metric-labels-manifest": "/x"})
    assert res.errors[0].endswith("it was added in v1.29")
    res = sp.edit_pod(pod_of("kube-apiserver", "1.33"), flags={"cloud-provider": "external"}, version="1.32")
    assert res.errors == [] and res.version == "1.32"
    res = sp.edit_pod(pod_of("kube-apiserver", "1.33"), flags={"cloud-provider": "external"})
    assert "removed in v1.33" in res.errors[0]
    with pytest.raises(sp.ManifestError, match="unsupported Kubernetes version"):
        sp.edit_pod(pod_of("kube-apiserver", "1.33"), version="1.20")


@pytest.mark.parametrize("minor", MINORS)
def test_unknown_admission_plugin_and_enable_disable_conflict(minor):
    pod = pod_of("kube-apiserver", minor)
    res = sp.edit_pod(pod, flags={"enable-admission-plugins": ["NoSuchPlugin"]})
    assert res.errors == ["admission plugin NoSuchPlugin is not known to kube-apiserver v%s: it is not a "
                          "kube-apiserver admission plugin" % minor]
    res = sp.edit_pod(pod, flags={"disable-admission-plugins": ["NodeRestriction"]})
    assert any("NodeRestriction would be both enabled" in e for e in res.errors)


@pytest.mark.parametrize("component", ["kube-apiserver", "kube-controller-manager", "kube-scheduler"])
def test_tls_names_the_components_refuse_are_refused_before_writing(component):
    # the real components exit at start on an unknown name (the real kube-apiserver 1.37 crash-looped on one)
    pod = pod_of(component, "1.35")
    res = sp.edit_pod(pod, flags={"tls-cipher-suites": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_NO_SUCH"]})
    assert res.errors == ["--tls-cipher-suites: 'TLS_NO_SUCH' is not a Go cipher suite name (for example "
                          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)"]
    res = sp.edit_pod(pod, flags={"tls-min-version": "TLS1.2"})
    assert res.errors == ["--tls-min-version: 'TLS1.2' is not a TLS version name (one of VersionTLS10, "
                          "VersionTLS11, VersionTLS12, VersionTLS13)"]
    res = sp.edit_pod(pod, flags={"tls-min-version": "VersionTLS13",
                                  "tls-cipher-suites": "TLS_AES_128_GCM_SHA256,TLS_RSA_WITH_3DES_EDE_CBC_SHA"})
    assert res.errors == [] and res.changed
    assert res.warnings == ["--tls-cipher-suites: TLS_RSA_WITH_3DES_EDE_CBC_SHA is an insecure cipher suite"]


def test_event_rate_limit_needs_admission_configuration(tmp_path):
    pod = pod_of("kube-apiserver", "1.33")
    res = sp.edit_pod(pod, flags={"enable-admission-plugins": ["EventRateLimit"]})
    assert res.errors == ["admission plugin EventRateLimit needs a configuration in --admission-control-config-file "
                          "(an AdmissionConfiguration naming EventRateLimit); without it kube-apiserver refuses to "
                          "start"]
    res = sp.edit_pod(pod, flags={"enable-admission-plugins": ["EventRateLimit"],
                                  "admission-control-config-file": "/etc/kubernetes/pki/admission.yaml"})
    assert res.errors == []
    check = [c for c in res.node_checks if c["flag"] == "admission-control-config-file"][0]
    assert check["mentions"] == ["EventRateLimit"]
    config = tmp_path / "admission.yaml"
    config.write_text("apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n"
                      "- name: PodSecurity\n  path: podsecurity.yaml\n")
    check["path"] = str(config)
    assert spn.check_node_paths([check]) == [
        "--admission-control-config-file: %s has no configuration for admission plugin EventRateLimit (no plugins "
        "entry with name: EventRateLimit)" % config]
    config.write_text(config.read_text() + "- name: EventRateLimit\n  path: eventconfig.yaml\n")
    assert spn.check_node_paths([check]) == []


def test_authorization_mode_must_keep_node_and_rbac():
    pod = pod_of("kube-apiserver", "1.33")
    res = sp.edit_pod(pod, flags={"authorization-mode": "RBAC"}, replace=["authorization-mode"])
    assert res.errors == ["--authorization-mode must keep Node: it was Node,RBAC and would become RBAC"]
    res = sp.edit_pod(pod, remove_flags=["authorization-mode"])
    assert "would become unset (AlwaysAllow)" in res.errors[0]
    res = sp.edit_pod(pod, flags={"authorization-mode": "Node,Webhook,RBAC"}, replace=["authorization-mode"])
    assert res.errors == []


@pytest.mark.parametrize("minor", MINORS)
def test_anonymous_auth_false_refused_while_probes_are_unauthenticated(minor):
    pod = pod_of("kube-apiserver", minor)
    res = sp.edit_pod(pod, flags={"anonymous-auth": False})
    assert len(res.errors) == 1
    assert "401" in res.errors[0] and "restart-loop" in res.errors[0] and "livenessProbe" in res.errors[0]
    res = sp.edit_pod(pod, flags={"anonymous-auth": False}, allow_probe_breaking=True)
    assert res.errors == [] and "401" in res.warnings[0]
    # probes that do not depend on anonymous access are fine
    container = pod["spec"]["containers"][0]
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        container[key] = {"tcpSocket": {"port": 6443}}
    res = sp.edit_pod(pod, flags={"anonymous-auth": False})
    assert res.errors == []
    # other components are not concerned
    scheduler_flags = {"authentication-kubeconfig": "/etc/kubernetes/scheduler.conf"}
    assert sp.edit_pod(pod_of("kube-scheduler", minor), flags=scheduler_flags).errors == []


@pytest.mark.parametrize("minor", MINORS)
def test_file_flag_not_mounted_refused_then_volume_added(minor):
    pod = pod_of("kube-apiserver", minor)
    flags = {"audit-policy-file": "/etc/kubernetes/audit/policy.yaml",
             "audit-log-path": "/var/log/kubernetes/audit/audit.log"}
    res = sp.edit_pod(pod, flags=flags)
    assert any(e.startswith("--audit-policy-file=/etc/kubernetes/audit/policy.yaml: /etc/kubernetes/audit/policy.yaml"
                            " is not inside any volume mounted into container kube-apiserver") for e in res.errors)
    assert any(e.startswith("--audit-log-path=") and "writable hostPath volume" in e for e in res.errors)
    volumes = [{"name": "audit-policy", "hostPath": "/etc/kubernetes/audit"},
               {"name": "audit-log", "hostPath": "/var/log/kubernetes/audit", "readOnly": True}]
    res = sp.edit_pod(pod, flags=flags, volumes=volumes)
    assert res.errors == ["--audit-log-path=/var/log/kubernetes/audit/audit.log: its directory /var/log/kubernetes/"
                          "audit is on volume audit-log, which is mounted read-only at /var/log/kubernetes/audit"]
    volumes[1]["readOnly"] = False
    res = sp.edit_pod(pod, flags=flags, volumes=volumes)
    assert res.errors == []
    assert res.volumes_added == ["audit-policy", "audit-log"]
    spec = res.pod["spec"]
    assert spec["volumes"][-2:] == [
        {"hostPath": {"path": "/etc/kubernetes/audit", "type": "DirectoryOrCreate"}, "name": "audit-policy"},
        {"hostPath": {"path": "/var/log/kubernetes/audit", "type": "DirectoryOrCreate"}, "name": "audit-log"}]
    assert spec["containers"][0]["volumeMounts"][-2:] == [
        {"mountPath": "/etc/kubernetes/audit", "name": "audit-policy", "readOnly": True},
        {"mountPath": "/var/log/kubernetes/audit", "name": "audit-log"}]
    checks = dict((c["flag"], c) for c in res.node_checks)
    assert checks["audit-policy-file"] == {"flag": "audit-policy-file", "path": "/etc/kubernetes/audit/policy.yaml",
                                           "kind": "file", "may_create": False}
    assert checks["audit-log-path"] == {"flag": "audit-log-path", "path": "/var/log/kubernetes/audit",
                                        "kind": "writable_dir", "may_create": True}
    assert checks["tls-cert-file"]["path"] == "/etc/kubernetes/pki/apiserver.crt"
    # idempotent: the same volumes again add nothing; a conflicting one is refused
    again = sp.edit_pod(yaml.safe_load(dump_manifest(res.pod)), flags=flags, volumes=volumes)
    assert again.changed is False and again.volumes_added == []
    clash = sp.edit_pod(res.pod, volumes=[{"name": "audit-log", "hostPath": "/var/log/other"}])
    assert clash.errors == ["volumes: pod volume audit-log already exists with hostPath /var/log/kubernetes/audit, "
                            "not /var/log/other"]


def test_mount_with_different_container_path_maps_to_host_path():
    pod = pod_of("kube-scheduler", "1.33")
    res = sp.edit_pod(pod, flags={"config": "/config/scheduler.yaml"},
                      volumes=[{"name": "cfg", "hostPath": "/etc/kubernetes/scheduler", "mountPath": "/config"}])
    assert res.errors == []
    assert {"flag": "config", "path": "/etc/kubernetes/scheduler/scheduler.yaml", "kind": "file",
            "may_create": False} in res.node_checks


@pytest.mark.parametrize("minor", MINORS)
def test_idempotence_second_apply_changes_nothing(minor):
    request = dict(flags={"profiling": False, "enable-admission-plugins": ["EventRateLimit"],
                          "admission-control-config-file": "/etc/kubernetes/admission/admission.yaml",
                          "feature-gates": {"RotateKubeletServerCertificate": True}},
                   volumes=[{"name": "admission", "hostPath": "/etc/kubernetes/admission"}],
                   remove_flags=["insecure-port"])
    first = sp.edit_pod(pod_of("kube-apiserver", minor), **request)
    assert first.errors == [] and first.changed
    text = dump_manifest(first.pod)
    second = sp.edit_pod(yaml.safe_load(text), **request)
    assert second.errors == []
    assert second.changed is False
    assert second.flags_changed == {"added": {}, "changed": {}, "removed": {}}
    assert dump_manifest(second.pod) == text


def test_malformed_manifests():
    with pytest.raises(sp.ManifestError, match="not a Pod"):
        sp.edit_pod(["not", "a", "pod"])
    with pytest.raises(sp.ManifestError, match="no spec.containers"):
        sp.edit_pod({"kind": "Pod", "spec": {"containers": []}})
    with pytest.raises(sp.ManifestError, match="no container named nope"):
        sp.edit_pod(pod_of("kube-scheduler", "1.33"), container="nope")
    other = pod_of("etcd", "1.33")
    other["spec"]["containers"][0].update(name="coredns", command=["/coredns", "-conf", "/etc/coredns/Corefile"])
    with pytest.raises(sp.ManifestError, match="does not run a component"):
        sp.edit_pod(other)
    pod = pod_of("kube-scheduler", "1.33")
    pod["spec"]["containers"][0]["image"] = "scheduler:latest"
    with pytest.raises(sp.ManifestError, match="set version"):
        sp.edit_pod(pod)


# ------------------------------------------------------------------------------------------------------------
# target side
# ------------------------------------------------------------------------------------------------------------


def test_check_node_paths(tmp_path):
    present = tmp_path / "ca.crt"
    present.write_text("x")
    checks = [
        {"flag": "client-ca-file", "path": str(present), "kind": "file"},
        {"flag": "audit-policy-file", "path": str(tmp_path / "missing.yaml"), "kind": "file"},
        {"flag": "kubeconfig", "path": str(tmp_path), "kind": "file"},
        {"flag": "audit-log-path", "path": str(tmp_path / "logs"), "kind": "writable_dir", "may_create": True},
        {"flag": "audit-log-path", "path": str(tmp_path / "nologs"), "kind": "writable_dir", "may_create": False},
    ]
    assert spn.check_node_paths(checks) == [
        "--audit-policy-file: file %s does not exist on the node" % (tmp_path / "missing.yaml"),
        "--kubeconfig: %s is not a regular file" % tmp_path,
        "--audit-log-path: directory %s does not exist on the node" % (tmp_path / "nologs"),
    ]


def _node(tmp_path):
    manifests = tmp_path / "etc/kubernetes/manifests"
    manifests.mkdir(parents=True)
    path = manifests / "kube-scheduler.yaml"
    path.write_text(manifest_text("kube-scheduler", "1.33"))
    os.chmod(path, 0o600)
    return path, tmp_path / "var/lib/secure_cluster/backups/manifests"


def test_write_manifest_atomic_with_backup_outside_manifest_dir(tmp_path):
    path, backups = _node(tmp_path)
    old = path.read_text()
    read = spn.read_manifest(str(path))
    assert read["exists"] and read["mode"] == "0600" and read["content"] == old
    new = old.replace("--leader-elect=true", "--leader-elect=true\n    - --profiling=false")
    out = spn.write_manifest(str(path), new, read["sha256"], str(backups), 5)
    assert out["changed"] is True
    assert path.read_text() == new
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(path.parent) == ["kube-scheduler.yaml"]  # no temp file, no backup next to the manifest
    assert Path(out["backup_path"]).parent == backups
    assert Path(out["backup_path"]).read_text() == old
    assert stat.S_IMODE(Path(out["backup_path"]).stat().st_mode) == 0o600
    # same content again: nothing written, no new backup
    out = spn.write_manifest(str(path), new, spn.read_manifest(str(path))["sha256"], str(backups), 5)
    assert out == {"changed": False, "backup_path": None}
    assert len(os.listdir(backups)) == 1


def test_write_manifest_check_mode_writes_nothing(tmp_path):
    path, backups = _node(tmp_path)
    old = path.read_text()
    out = spn.write_manifest(str(path), old + "# x\n", spn.read_manifest(str(path))["sha256"], str(backups), 5,
                             check_mode=True)
    assert out == {"changed": True, "backup_path": None}
    assert path.read_text() == old and not backups.exists()


def test_write_manifest_refusals(tmp_path):
    path, backups = _node(tmp_path)
    old = path.read_text()
    with pytest.raises(spn.ManifestError, match="changed on the node since it was read"):
        spn.write_manifest(str(path), "x", "0" * 64, str(backups), 5)
    with pytest.raises(spn.ManifestError, match="second static pod"):
        spn.write_manifest(str(path), "x", spn.read_manifest(str(path))["sha256"], str(path.parent / "bak"), 5)
    assert path.read_text() == old
    assert os.listdir(path.parent) == ["kube-scheduler.yaml"]


def test_backups_pruned_to_keep(tmp_path):
    path, backups = _node(tmp_path)
    for i in range(4):
        sha = spn.read_manifest(str(path))["sha256"]
        spn.write_manifest(str(path), "%s# %d\n" % (path.read_text(), i), sha, str(backups), 2)
    names = sorted(os.listdir(backups))
    assert len(names) == 2 and all(n.startswith("kube-scheduler.yaml.") and n.endswith(".bak") for n in names)
    assert (backups / names[-1]).read_text().endswith("# 2\n")


def test_feature_gates_checked_for_the_version():
    pod = pod_of("kube-apiserver", "1.33")
    res = sp.edit_pod(pod, flags={"feature-gates": {"KMSv2": True, "NoSuchGate": False}})
    assert res.errors == [
        "--feature-gates: unrecognized feature gate: KMSv2 (kube-apiserver v1.33; removed in v1.32)",
        "--feature-gates: unrecognized feature gate: NoSuchGate (kube-apiserver v1.33)"]
    res = sp.edit_pod(pod, flags={"feature-gates": {"KMSv2": True}}, version="1.31")
    assert res.errors == []
    res = sp.edit_pod(pod_of("kube-scheduler", "1.33"), flags={"feature-gates": "AnonymousAuthConfigurableEndpoints=false"},
                      version="1.34")
    assert res.errors == ["--feature-gates: cannot set feature gate AnonymousAuthConfigurableEndpoints to false, "
                          "feature is locked to true"]


def test_feature_gates_already_in_the_manifest_are_not_judged():
    pod = pod_of("kube-controller-manager", "1.33")
    pod["spec"]["containers"][0]["command"].append("--feature-gates=OldGate=true")
    res = sp.edit_pod(pod, flags={"feature-gates": {"RotateKubeletServerCertificate": True}})
    assert res.errors == []
    assert command(res.pod)[-1] == "--feature-gates=OldGate=true,RotateKubeletServerCertificate=true"
    res = sp.edit_pod(pod, flags={"feature-gates": {"OldGate": False}})
    assert res.errors == ["--feature-gates: unrecognized feature gate: OldGate (kube-controller-manager v1.33)"]
