# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_yaml import (
    block_list_items,
    yaml_lookup,
)
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node


@pytest.fixture
def cp_root(tmp_path):
    kubeadm_node.build_node(tmp_path)
    return tmp_path


def test_processes_matched_on_argv0_basename(cp_root):
    facts = collect(root=str(cp_root))
    procs = facts["processes"]
    assert sorted(procs) == sorted([
        "kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kubelet", "kube-proxy", "containerd",
    ])
    assert [p["pid"] for p in procs["kube-apiserver"]] == [2101]
    assert procs["kube-apiserver"][0]["argv"][0] == "kube-apiserver"
    assert procs["kubelet"][0]["argv"][0] == "/usr/bin/kubelet"
    # containerd-shim-runc-v2 is not containerd
    assert [p["pid"] for p in procs["containerd"]] == [640]


def test_manifests_text_and_version(cp_root):
    facts = collect(root=str(cp_root))
    files = facts["manifests"]["files"]
    assert sorted(files) == ["etcd.yaml", "kube-apiserver.yaml", "kube-controller-manager.yaml", "kube-scheduler.yaml"]
    assert "--authorization-mode=Node,RBAC" in files["kube-apiserver.yaml"]["text"]
    assert facts["version"]["kubernetes"] == "1.33.4"
    assert "kube-apiserver" in facts["version"]["source"]
    assert facts["version"]["components"]["etcd"]["version"] == "3.5.21-0"


def test_file_stats_modes_and_owner(cp_root):
    facts = collect(root=str(cp_root))
    stats = facts["stats"]
    api = stats["/etc/kubernetes/manifests/kube-apiserver.yaml"]
    assert api["exists"] is True and api["type"] == "file"
    assert api["mode"] == "0600"
    assert (api["owner"], api["group"]) == ("root", "root")
    assert stats["/var/lib/kubelet/config.yaml"]["mode"] == "0644"
    assert stats["/var/lib/etcd"]["type"] == "directory" and stats["/var/lib/etcd"]["mode"] == "0700"
    sets = facts["file_sets"]
    assert sets["manifest:kube-apiserver"] == ["/etc/kubernetes/manifests/kube-apiserver.yaml"]
    assert sets["manifest:etcd"] == ["/etc/kubernetes/manifests/etcd.yaml"]
    assert sets["admin_kubeconfigs"] == ["/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf"]
    assert "/etc/kubernetes/pki" in sets["pki_all"] and "/etc/kubernetes/pki/etcd" in sets["pki_all"]
    assert "/etc/kubernetes/pki/etcd/peer.key" in sets["pki_key"]
    assert all(p.endswith(".crt") for p in sets["pki_crt"]) and len(sets["pki_crt"]) == 10
    for paths in sets.values():
        for path in paths:
            assert path in stats, path
    assert "etcd/server.crt" in facts["pki"]["files"]
    assert sets["cni"] == ["/etc/cni/net.d/10-bridge.conflist"]


def test_kubelet_unit_dropins_and_config(cp_root):
    facts = collect(root=str(cp_root))
    kubelet = facts["kubelet"]
    assert kubelet["present"] is True
    assert kubelet["config"]["path"] == "/var/lib/kubelet/config.yaml"
    assert kubelet["config"]["source"] == "argv"
    assert "clientCAFile: /etc/kubernetes/pki/ca.crt" in kubelet["config"]["text"]
    service = kubelet["service"]
    assert service["unit"] == "/usr/lib/systemd/system/kubelet.service"
    assert [f["path"] for f in service["files"]] == [
        "/usr/lib/systemd/system/kubelet.service", "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"]
    assert "--config=/var/lib/kubelet/config.yaml" in service["exec_argv"]
    assert "--node-ip=10.89.0.2" in service["exec_argv"]
    assert list(service["env_files"]) == ["/var/lib/kubelet/kubeadm-flags.env"]
    assert kubelet["kubeconfig"] == "/etc/kubernetes/kubelet.conf"
    assert kubelet["client_ca_file"] == {"path": "/etc/kubernetes/pki/ca.crt", "source": "config"}
    assert facts["file_sets"]["kubelet_service"] == [f["path"] for f in service["files"]]


def test_etc_dropin_overrides_usr_lib_one(cp_root):
    kubeadm_node.write(cp_root, "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
                       "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --config=/etc/kubelet.yaml\n", 0o600)
    kubeadm_node.write(cp_root, "/etc/systemd/system/kubelet.service.d/20-extra.conf",
                       "[Service]\nEnvironment=X=1\n", 0o600)
    facts = collect(root=str(cp_root))
    paths = [f["path"] for f in facts["kubelet"]["service"]["files"]]
    assert paths == [
        "/usr/lib/systemd/system/kubelet.service",
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
        "/etc/systemd/system/kubelet.service.d/20-extra.conf",
    ]
    assert facts["kubelet"]["service"]["exec_argv"] == ["/usr/bin/kubelet", "--config=/etc/kubelet.yaml"]


def test_kube_proxy_config_read_from_its_container(cp_root):
    facts = collect(root=str(cp_root))
    proxy = facts["kube_proxy"]
    assert proxy["present"] is True
    assert proxy["config"]["via"] == "process_root"
    assert "metricsBindAddress" in proxy["config"]["text"]
    assert proxy["kubeconfig"]["path"] == "/var/lib/kube-proxy/kubeconfig.conf"
    assert proxy["kubeconfig"]["source"] == "config"
    assert facts["file_sets"]["proxy_kubeconfig"] == ["/proc/3001/root/var/lib/kube-proxy/kubeconfig.conf"]
    assert facts["kubeconfigs"]["kube-proxy"] == "/var/lib/kube-proxy/kubeconfig.conf"


def test_etcd_data_dir_sources(tmp_path):
    kubeadm_node.build_node(tmp_path, running=False)
    facts = collect(root=str(tmp_path))
    assert (facts["etcd"]["data_dir"], facts["etcd"]["data_dir_source"]) == ("/var/lib/etcd", "manifest")
    assert facts["processes"]["etcd"] == []
    assert facts["kubelet"]["config"]["source"] == "unit"


def test_etcd_data_dir_from_argv(cp_root):
    facts = collect(root=str(cp_root))
    assert facts["etcd"]["data_dir_source"] == "argv"
    assert facts["file_sets"]["etcd_data_dir"] == ["/var/lib/etcd"]


def test_sysctls_modules_and_missing_modules(cp_root):
    facts = collect(root=str(cp_root), sysctls=["net.ipv4.ip_forward", "vm.overcommit_memory", "kernel.nope"])
    assert facts["sysctls"] == {"net.ipv4.ip_forward": "1", "vm.overcommit_memory": "0", "kernel.nope": None}
    assert facts["modules"] == {"available": True, "loaded": ["br_netfilter", "overlay"]}
    os.remove(os.path.join(str(cp_root), "proc/modules"))
    facts = collect(root=str(cp_root))
    assert facts["modules"]["available"] is False
    assert "not readable" in facts["modules"]["reason"]


def test_hardened_encryption_providers_without_secrets(tmp_path):
    kubeadm_node.build_node(tmp_path, variant="hardened")
    facts = collect(root=str(tmp_path))
    assert facts["encryption"] == {"path": "/etc/kubernetes/enc/config.yaml", "providers": ["aescbc", "identity"]}
    assert "secret" not in repr(facts["encryption"])
    assert facts["stats"]["/etc/kubernetes/enc/config.yaml"]["mode"] == "0600"


def test_kubeconfig_text_never_returned(cp_root):
    kubeadm_node.write(cp_root, "/etc/kubernetes/admin.conf", "client-key-data: TOPSECRET\n", 0o600)
    facts = collect(root=str(cp_root))
    assert "TOPSECRET" not in repr(facts)


def test_worker_node(tmp_path):
    kubeadm_node.build_node(tmp_path, role="worker")
    facts = collect(root=str(tmp_path))
    assert facts["manifests"]["files"] == {}
    assert facts["processes"]["kube-apiserver"] == []
    assert facts["file_sets"]["admin_kubeconfigs"] == []
    assert facts["stats"]["/etc/kubernetes/manifests/kube-apiserver.yaml"] == {"exists": False}
    assert facts["version"]["kubernetes"] is None  # no manifests, no runner


def kubelet_binary(root):
    """The kubelet binary the fake node's running kubelet names (only binaries the node has are run)."""
    (root / "usr" / "bin").mkdir(parents=True, exist_ok=True)
    (root / "usr" / "bin" / "kubelet").write_text("")


def test_version_from_kubelet_binary_on_worker(tmp_path):
    kubeadm_node.build_node(tmp_path, role="worker")
    kubelet_binary(tmp_path)
    calls = []

    def runner(argv):
        calls.append(argv)
        return 0, "Kubernetes v1.33.4\n", ""

    facts = collect(root=str(tmp_path), run_command=runner)
    assert facts["version"]["kubernetes"] == "1.33.4"
    assert calls and calls[0][1] == "--version"
    assert calls[0][0] == "/usr/bin/kubelet"


def test_version_skips_an_interpreter_exe(tmp_path, monkeypatch):
    """A wrapper-script kubelet has python as its exe: its --version must not be taken for Kubernetes'."""
    kubeadm_node.build_node(tmp_path, role="worker")
    from ansible_collections.secure_cluster.k8s.plugins.module_utils import node_facts_collect as nfc
    real_processes = nfc.Collector.processes

    def processes(self):
        procs = real_processes(self)
        procs["kubelet"] = [{"pid": 7, "argv": ["/usr/bin/kubelet", "--config=/var/lib/kubelet/config.yaml"],
                             "exe": "/usr/bin/python3.11"}]
        return procs

    monkeypatch.setattr(nfc.Collector, "processes", processes)
    kubelet_binary(tmp_path)
    (tmp_path / "usr" / "bin" / "python3.11").write_text("")
    calls = []

    def runner(argv):
        calls.append(argv[0])
        if argv[0] == "/usr/bin/python3.11":
            return 0, "Python 3.11.2\n", ""
        return 0, "Kubernetes v1.30.14\n", ""

    facts = collect(root=str(tmp_path), run_command=runner)
    assert facts["version"]["kubernetes"] == "1.30.14"
    assert calls == ["/usr/bin/python3.11", "/usr/bin/kubelet"]


def test_version_never_runs_a_binary_this_node_lacks(tmp_path, monkeypatch):
    """A kubelet in a container on this host shows in /proc with a path of its own mount namespace."""
    from ansible_collections.secure_cluster.k8s.plugins.module_utils import node_facts_collect as nfc
    real_processes = nfc.Collector.processes

    def processes(self):
        procs = real_processes(self)
        procs["kubelet"] = [{"pid": 9, "argv": ["/opt/container-only/kubelet"], "exe": "/opt/container-only/kubelet"}]
        return procs

    monkeypatch.setattr(nfc.Collector, "processes", processes)
    calls = []
    facts = collect(root=str(tmp_path), run_command=lambda argv: calls.append(argv) or (0, "", ""))
    assert calls == []
    assert facts["version"]["kubernetes"] is None


def test_version_runner_failure_is_not_fatal(tmp_path):
    kubeadm_node.build_node(tmp_path, role="worker")
    kubelet_binary(tmp_path)

    def runner(argv):
        raise OSError("exec format error")

    facts = collect(root=str(tmp_path), run_command=runner)
    assert facts["version"]["kubernetes"] is None
    assert facts["collector"]["errors"]


def test_empty_node_without_kubernetes(tmp_path):
    facts = collect(root=str(tmp_path))
    assert all(v == [] for v in facts["processes"].values())
    assert facts["kubelet"]["present"] is False
    assert facts["manifests"]["exists"] is False
    assert facts["pki"] == {"dir": "/etc/kubernetes/pki", "exists": False, "files": []}
    assert facts["modules"]["available"] is False
    assert facts["version"]["kubernetes"] is None
    assert facts["collector"]["errors"] == []


def test_unreadable_and_odd_files(cp_root):
    # a manifest directory entry that is a directory, and a non-YAML manifest
    os.makedirs(os.path.join(str(cp_root), "etc/kubernetes/manifests/backup.yaml"))
    kubeadm_node.write(cp_root, "/etc/kubernetes/manifests/broken.yaml", "\x00\x01 not yaml: [", 0o600)
    os.symlink("/nonexistent", os.path.join(str(cp_root), "etc/cni/net.d/99-dangling.conf"))
    facts = collect(root=str(cp_root))
    assert "backup.yaml" not in facts["manifests"]["files"]
    assert facts["manifests"]["files"]["broken.yaml"]["readable"] is True
    dangling = facts["stats"]["/etc/cni/net.d/99-dangling.conf"]
    assert dangling["exists"] is False and "dangling" in dangling["error"]


def test_collector_timing_fields(cp_root):
    facts = collect(root=str(cp_root))
    assert facts["collector"]["root"] == str(cp_root)
    assert facts["collector"]["wall_seconds"] >= 0
    assert facts["schema_version"] == 1
    assert facts["hostname"] == "cp1"


@pytest.mark.parametrize("text,keys,expected", [
    (kubeadm_node.KUBELET_CONFIG, ("authentication", "x509", "clientCAFile"), "/etc/kubernetes/pki/ca.crt"),
    (kubeadm_node.KUBELET_CONFIG, ("authorization", "mode"), "Webhook"),
    (kubeadm_node.KUBELET_CONFIG, ("authentication", "webhook", "enabled"), "true"),
    (kubeadm_node.KUBELET_CONFIG, ("staticPodPath",), "/etc/kubernetes/manifests"),
    (kubeadm_node.KUBELET_CONFIG, ("authentication", "nope"), None),
    (kubeadm_node.KUBE_PROXY_CONFIG, ("clientConnection", "kubeconfig"), "/var/lib/kube-proxy/kubeconfig.conf"),
    (kubeadm_node.KUBE_PROXY_CONFIG, ("metricsBindAddress",), None),
    ('{"authentication": {"x509": {"clientCAFile": "/ca.crt"}}}', ("authentication", "x509", "clientCAFile"),
     "/ca.crt"),
    ("a:\n  b: 'quoted'  # comment\n", ("a", "b"), "quoted"),
    ("x:\n  a:\n    b: 1\ny:\n  b: 2\n", ("y", "b"), "2"),
    ("", ("a",), None),
])
def test_yaml_lookup(text, keys, expected):
    assert yaml_lookup(text, keys) == expected


# ---------------------------------------------------------------------------------------------------------------
# the API server's structured authorization and authentication files
# ---------------------------------------------------------------------------------------------------------------
AUTHZ_YAML = """apiVersion: apiserver.config.k8s.io/v1
kind: AuthorizationConfiguration
authorizers:
  - type: Webhook
    name: corp
    webhook:
      connectionInfo:
        type: KubeConfigFile
        kubeConfigFile: /etc/authz/webhook.kubeconfig
      matchConditions:
      - expression: has(request.resourceAttributes)
  - type: Node
    name: node
  - type: RBAC
    name: rbac
"""


def apiserver_with(root, flags, mounts):
    """The API server's manifest and process with extra ``flags`` and ``mounts`` ``(volume, host, container)``."""
    argv = list(kubeadm_node.APISERVER_ARGS) + list(flags)
    text = kubeadm_node.manifest("kube-apiserver", argv, "registry.k8s.io/kube-apiserver:v1.33.4",
                                 [("k8s-certs", "/etc/kubernetes/pki")] + [(v, host) for v, host, dummy in mounts])
    for dummy, host, container in mounts:
        text = text.replace("- mountPath: %s\n" % host, "- mountPath: %s\n" % container)
    kubeadm_node.write(root, "/etc/kubernetes/manifests/kube-apiserver.yaml", text, 0o600)
    kubeadm_node.add_process(root, 2101, argv)


def test_authorization_config_read_through_host_path_mount(cp_root):
    kubeadm_node.write(cp_root, "/etc/authz/config.yaml", AUTHZ_YAML, 0o600)
    apiserver_with(cp_root, ["--authorization-config=/srv/authz/config.yaml"], [("authz", "/etc/authz", "/srv/authz")])
    facts = collect(root=str(cp_root))
    authz = facts["authorization"]
    assert authz["path"] == "/srv/authz/config.yaml" and authz["read_path"] == "/etc/authz/config.yaml"
    assert authz["authorizers"] == [{"type": "Webhook", "name": "corp"}, {"type": "Node", "name": "node"},
                                    {"type": "RBAC", "name": "rbac"}]
    assert authz["error"] is None
    assert "webhook.kubeconfig" not in json.dumps(authz)
    assert facts["authentication"] == {"path": None, "read_path": None, "anonymous": None, "error": None}


def test_authorization_config_from_manifest_when_not_running(cp_root):
    kubeadm_node.write(cp_root, "/etc/authz/config.json", json.dumps({
        "kind": "AuthorizationConfiguration", "authorizers": [{"type": "Node", "name": "n"}]}), 0o600)
    apiserver_with(cp_root, ["--authorization-config=/etc/authz/config.json"], [("authz", "/etc/authz", "/etc/authz")])
    os.remove(os.path.join(str(cp_root), "proc/2101/cmdline"))
    authz = collect(root=str(cp_root))["authorization"]
    assert authz["authorizers"] == [{"type": "Node", "name": "n"}]


def test_authorization_config_missing_is_an_error_not_a_raise(cp_root):
    apiserver_with(cp_root, ["--authorization-config=/srv/authz/none.yaml"], [("authz", "/etc/authz", "/srv/authz")])
    authz = collect(root=str(cp_root))["authorization"]
    assert authz["authorizers"] is None and authz["error"] == "cannot be read"


@pytest.mark.parametrize("text, anonymous", [
    ("apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\nanonymous:\n  enabled: false\n",
     {"enabled": False, "conditions": 0}),
    ("kind: AuthenticationConfiguration\nanonymous:\n  enabled: true\n  conditions:\n  - path: /livez\n"
     "  - path: /readyz\n", {"enabled": True, "conditions": 2}),
    ('{"kind": "AuthenticationConfiguration", "anonymous": {"enabled": false}}', {"enabled": False, "conditions": 0}),
    ("kind: AuthenticationConfiguration\njwt:\n- issuer:\n    url: https://issuer.example.com\n", None),
])
def test_authentication_config_anonymous_section(cp_root, text, anonymous):
    kubeadm_node.write(cp_root, "/etc/kubernetes/authn/config.yaml", text, 0o600)
    apiserver_with(cp_root, ["--authentication-config=/etc/kubernetes/authn/config.yaml"],
                   [("authn", "/etc/kubernetes/authn", "/etc/kubernetes/authn")])
    authn = collect(root=str(cp_root))["authentication"]
    assert authn["anonymous"] == anonymous and authn["error"] is None


def test_kubelet_config_dir_dropins_sorted_conf_only(cp_root):
    argv = list(kubeadm_node.KUBELET_ARGS) + ["--config-dir=/etc/kubernetes/kubelet.conf.d"]
    kubeadm_node.add_process(cp_root, 812, argv)
    for name in ("20-b.conf", "10-a.conf", "README", "30-c.conf.bak"):
        kubeadm_node.write(cp_root, "/etc/kubernetes/kubelet.conf.d/" + name, "readOnlyPort: 0\n", 0o644)
    config = collect(root=str(cp_root))["kubelet"]["config"]
    assert config["config_dir"] == "/etc/kubernetes/kubelet.conf.d"
    assert [d["path"] for d in config["dropins"]] == [
        "/etc/kubernetes/kubelet.conf.d/10-a.conf", "/etc/kubernetes/kubelet.conf.d/20-b.conf"]


def test_block_list_items_kubeadm_volumes():
    pod = kubeadm_node.manifest("etcd", ["etcd"], "img", [("etcd-data", "/var/lib/etcd")])
    assert block_list_items(pod, "volumes") == [
        {"hostPath.path": "/var/lib/etcd", "hostPath.type": "DirectoryOrCreate", "name": "etcd-data"}]
    assert block_list_items(pod, "volumeMounts") == [{"mountPath": "/var/lib/etcd", "name": "etcd-data"}]
    assert block_list_items(pod, "absent") == []
