"""The kubelet role on a fresh kubeadm worker: the hardened configuration, the file modes, a healthy kubelet that
refuses anonymous requests, and the two ways the role refuses to leave a broken kubelet behind (run through
ansible-playbook against the node, as a user would)."""
import json
import os
import shutil
import subprocess
import sys

import pytest
import testinfra
import yaml

HOST = "sck8s-mol-kubelet-w1"
HERE = os.path.dirname(os.path.abspath(__file__))
CONVERGE = os.path.join(HERE, "..", "converge.yml")
CONFIG = "/var/lib/kubelet/config.yaml"


@pytest.fixture(scope="module")
def host():
    return testinfra.get_host("podman://" + HOST)


def kubelet_config(host):
    return yaml.safe_load(host.file(CONFIG).content_string)


def main_pid(host):
    return host.check_output("systemctl show -p MainPID --value kubelet.service")


def converge(extra_vars):
    """Run the converge playbook (the kubelet role) with extra vars; returns the finished process."""
    playbook = shutil.which("ansible-playbook") or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    extra = dict(extra_vars, ansible_python_interpreter="/usr/bin/python3")
    cmd = [playbook, "-i", HOST + ",", "-c", "containers.podman.podman", CONVERGE, "-e", json.dumps(extra)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)


def test_hardened_settings(host):
    cfg = kubelet_config(host)
    assert cfg["authentication"]["anonymous"]["enabled"] is False
    assert cfg["authentication"]["webhook"]["enabled"] is True
    assert cfg["authentication"]["x509"]["clientCAFile"] == "/etc/kubernetes/pki/ca.crt"
    assert cfg["authorization"]["mode"] == "Webhook"
    assert cfg["readOnlyPort"] == 0
    assert cfg["streamingConnectionIdleTimeout"] == "5m"
    assert cfg["makeIPTablesUtilChains"] is True
    assert cfg["eventRecordQPS"] == 5
    assert cfg["rotateCertificates"] is True
    assert cfg["tlsMinVersion"] == "VersionTLS12"
    assert cfg["tlsCipherSuites"] == ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                                      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]
    assert cfg["podPidsLimit"] == 4096
    assert cfg["seccompDefault"] is True
    assert cfg["protectKernelDefaults"] is False  # converge.yml: the kernel params are the host's
    # off by default (needs a CSR approver); TLS pair only when given
    assert "serverTLSBootstrap" not in cfg
    assert "tlsCertFile" not in cfg
    # what kubeadm wrote is kept
    assert cfg["clusterDNS"] == ["10.96.0.10"]
    assert cfg["cgroupDriver"] == "systemd"
    assert cfg["staticPodPath"] == "/etc/kubernetes/manifests"


@pytest.mark.parametrize("path,mode", [
    ("/usr/lib/systemd/system/kubelet.service", 0o600),                # 4.1.1, 4.1.2
    ("/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf", 0o600),
    ("/etc/kubernetes/kubelet.conf", 0o600),                          # 4.1.5, 4.1.6
    ("/var/lib/kubelet/config.yaml", 0o600),                          # 4.1.9, 4.1.10
])
def test_file_modes(host, path, mode):
    f = host.file(path)
    assert f.exists
    assert f.mode == mode
    assert (f.user, f.group) == ("root", "root")


def test_client_ca_mode(host):
    f = host.file("/etc/kubernetes/pki/ca.crt")  # 4.1.7, 4.1.8: 0644 or stricter
    assert f.mode & ~0o644 == 0
    assert (f.user, f.group) == ("root", "root")


def test_kubelet_healthy(host):
    assert host.service("kubelet").is_running
    assert host.check_output("curl -s -m 5 http://127.0.0.1:10248/healthz") == "ok"


def test_read_only_port_closed(host):
    assert not host.socket("tcp://0.0.0.0:10255").is_listening
    assert host.run("curl -s -m 5 http://127.0.0.1:10255/pods").rc != 0


def test_anonymous_request_refused(host):
    code = host.check_output("curl -sk -m 5 -o /dev/null -w '%{http_code}' https://127.0.0.1:10250/pods")
    assert code == "401"


KUBELET_KERNEL_DEFAULTS = {"vm/overcommit_memory": "1", "vm/panic_on_oom": "0", "kernel/panic": "10",
                           "kernel/panic_on_oops": "1", "kernel/keys/root_maxkeys": "1000000",
                           "kernel/keys/root_maxbytes": "25000000"}


def test_protect_kernel_defaults_follows_the_kernel(host):
    """protectKernelDefaults: true. The node's kernel.*/vm.* params are the host's: where they differ from the
    kubelet's expectations the module refuses, the play fails, and the file and the running kubelet are untouched;
    where they match, the setting applies and the kubelet stays healthy."""
    differing = [key for key, want in KUBELET_KERNEL_DEFAULTS.items()
                 if host.file("/proc/sys/" + key).content_string.strip() != want]
    before = host.file(CONFIG).sha256sum
    pid = main_pid(host)
    proc = converge({"kubelet_protect_kernel_defaults": True})
    out = proc.stdout + proc.stderr
    if differing:
        assert proc.returncode != 0, out[-4000:]
        assert "protectKernelDefaults: true is refused" in out, out[-4000:]
        assert " expected " in out and " actual " in out, out[-4000:]  # each parameter with both values
        assert "RUNNING HANDLER" not in out, out[-4000:]
        assert host.file(CONFIG).sha256sum == before
        assert main_pid(host) == pid
    else:
        try:
            assert proc.returncode == 0, out[-4000:]
            assert "protectKernelDefaults: true" in host.file(CONFIG).content_string
            assert host.check_output("curl -sS http://127.0.0.1:10248/healthz") == "ok"
        finally:
            assert converge({"kubelet_protect_kernel_defaults": False}).returncode == 0


def test_broken_setting_is_rolled_back(host):
    """A setting that passes validation (the files exist) but makes the kubelet exit at start: the health gate
    fails, the configuration is restored from the backup, the kubelet is healthy again, the play fails."""
    before = host.file(CONFIG).sha256sum
    proc = converge({"kubelet_health_timeout": 20,
                     "kubelet_extra_settings": {"tlsCertFile": "/etc/hostname", "tlsPrivateKeyFile": "/etc/hostname"}})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "kubelet failed its health gate" in out, out[-4000:]
    assert "was restored from" in out and "healthy again" in out, out[-4000:]
    assert "failed to find any PEM data" in out, out[-4000:]  # the kubelet's own error, from journalctl
    assert host.file(CONFIG).sha256sum == before
    assert "tlsCertFile" not in kubelet_config(host)
    assert host.check_output("curl -s -m 5 http://127.0.0.1:10248/healthz") == "ok"
    assert host.service("kubelet").is_running
