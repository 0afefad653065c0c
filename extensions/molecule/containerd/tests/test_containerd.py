"""The containerd role on a fresh kubeadm control-plane node: the installed config is what containerd itself reads
(its own `config dump`), containerd answers with the CRI plugin loaded, the sockets are 0660 root:containerd, the
RuntimeClass manifests and registry hosts are there, CIS 1.1.9/1.1.10 pass in the audit, and the three ways a bad
config is stopped (rejected by containerd, silently dropped key, containerd does not start) run through
ansible-playbook against the node, as a user would. The last test shows check mode predicts a real run."""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
import testinfra
import yaml

HOST = "sck8s-mol-ctrd-cp1"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = "/etc/containerd/config.toml"
SOCKET = "/run/containerd/containerd.sock"
CRI = "io.containerd.grpc.v1.cri"


@pytest.fixture(scope="module")
def host():
    return testinfra.get_host("podman://" + HOST)


def playbook(name, extra=None, *args):
    """Run a playbook of this scenario against the node (podman connection); returns the finished process."""
    binary = shutil.which("ansible-playbook") or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    extra = dict(extra or {}, ansible_python_interpreter="/usr/bin/python3")
    cmd = [binary, "-i", HOST + ",", "-c", "containers.podman.podman", os.path.join(HERE, name),
           "-e", json.dumps(extra)] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False)


def kubeadm_pause_image(host):
    """The pause image the test bed's kubeadm of the node's version wrote into the containerd config it left."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(HERE))))  # extensions/molecule/<s>
    loader_path = os.path.join(root, "tests", "unit", "testbed_loader.py")
    spec = importlib.util.spec_from_file_location("sck8s_testbed_loader", loader_path)
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    node_init = loader.load("node_init")
    minor, dummy = node_init.resolve_version(host.file("/etc/testbed/version").content_string.strip())
    return node_init.pause_image(minor)


def dump(host):
    return tomllib.loads(host.check_output("containerd --config %s config dump", CONFIG))


def installed(host):
    return tomllib.loads(host.file(CONFIG).content_string)


def state(host):
    """What must not move when a bad config is refused: the daemon's PID and the config's bytes."""
    return (host.check_output("systemctl show -p MainPID --value containerd.service"), host.file(CONFIG).sha256sum)


def missing_from(want, got, path=""):
    """Keys of the installed file that containerd's dump does not have (containerd drops unknown keys)."""
    out = []
    for key, value in want.items():
        if key not in got:
            out.append(path + key)
        elif isinstance(value, dict):
            out.extend(missing_from(value, got[key], path + key + "."))
        elif value != got[key]:
            out.append("%s%s=%r (dump: %r)" % (path, key, value, got[key]))
    return out


def test_installed_config_is_what_containerd_reads(host):
    assert missing_from(installed(host), dump(host)) == []


def test_hardened_settings(host):
    cfg = dump(host)
    cri = cfg["plugins"][CRI]
    assert cfg["version"] == 2  # containerd 1.6
    runtimes = cri["containerd"]["runtimes"]
    assert cri["containerd"]["default_runtime_name"] == "runc"
    assert runtimes["runc"]["runtime_type"] == "io.containerd.runc.v2"
    assert runtimes["runc"]["options"]["SystemdCgroup"] is True
    assert runtimes["kata"]["runtime_type"] == "io.containerd.kata.v2"
    assert runtimes["kata"]["privileged_without_host_devices"] is True
    assert runtimes["runsc"]["runtime_type"] == "io.containerd.runsc.v1"
    assert cri["registry"]["config_path"] == "/etc/containerd/certs.d"
    assert cri["registry"]["mirrors"] == {}
    assert cri["sandbox_image"] == kubeadm_pause_image(host)  # kept from the node's config
    assert cri["disable_tcp_service"] is True
    assert cri["stream_server_address"] == "127.0.0.1"
    assert cri["enable_tls_streaming"] is False
    assert cri["enable_unprivileged_ports"] is False
    gid = int(host.check_output("getent group containerd").split(":")[2])
    assert cfg["grpc"]["gid"] == gid and cfg["grpc"]["uid"] == 0
    assert cfg["ttrpc"]["gid"] == gid


def test_config_file_mode_and_backup(host):
    f = host.file(CONFIG)
    assert (f.mode, f.user, f.group) == (0o600, "root", "root")
    backups = host.check_output("ls /var/lib/secure_cluster/backups/containerd").split()
    assert len(backups) == 1 and backups[0].startswith("config.toml.") and backups[0].endswith(".bak")
    # the backup is kubeadm users' config (containerd config default + SystemdCgroup), not the new one
    assert "max_concurrent_downloads" in host.file("/var/lib/secure_cluster/backups/containerd/" + backups[0]) \
        .content_string


def test_containerd_answers_with_cri(host):
    assert host.service("containerd").is_running
    assert "Server:" in host.check_output("ctr version")
    assert re.search(r"(?m)^io\.containerd\.grpc\.v1\s+cri\s.*\sok\s*$", host.check_output("ctr plugins ls"))


@pytest.mark.parametrize("path", [SOCKET, SOCKET + ".ttrpc"])
def test_socket_mode_and_owner(host, path):
    f = host.file(path)
    assert f.is_socket
    assert (f.mode, f.user, f.group) == (0o660, "root", "containerd")


def test_registry_hosts(host):
    hosts = tomllib.loads(host.file("/etc/containerd/certs.d/docker.io/hosts.toml").content_string)
    assert hosts == {"server": "https://registry-1.docker.io",
                     "host": {"https://registry-mirror.example.com": {"capabilities": ["pull", "resolve"]}}}


def test_runtimeclass_manifests(host):
    directory = "/etc/containerd/runtimeclasses"
    assert sorted(host.check_output("ls %s", directory).split()) == ["runtimeclass-kata.yaml",
                                                                     "runtimeclass-runsc.yaml"]
    kata = yaml.safe_load(host.file(directory + "/runtimeclass-kata.yaml").content_string)
    assert kata == {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "kata"},
                    "handler": "kata"}
    gvisor = yaml.safe_load(host.file(directory + "/runtimeclass-runsc.yaml").content_string)
    assert gvisor["metadata"]["name"] == "gvisor" and gvisor["handler"] == "runsc"
    assert gvisor["scheduling"] == {"nodeSelector": {"sandbox.gvisor.dev/enabled": "true"}}


@pytest.mark.parametrize("path", ["/etc/cni/net.d/10-containerd-net.conflist",
                                  "/var/lib/cni/networks/containerd-net/10.88.0.2"])
def test_cni_files(host, path):
    f = host.file(path)
    assert (f.mode, f.user, f.group) == (0o600, "root", "root")


def test_audit_passes_for_the_roles_recommendations(tmp_path):
    proc = playbook("audit.yml", {"cis_report_dir": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(os.path.join(str(tmp_path), HOST + ".json")) as handle:
        report = json.load(handle)
    results = dict((r["test_number"], r["status"]) for c in report["Controls"] for g in c["tests"]
                   for r in g["results"])
    assert results.get("1.1.9") == "PASS", results
    assert results.get("1.1.10") == "PASS", results


def refused(host, extra, expected):
    before = state(host)
    proc = playbook("converge.yml", {"containerd_extra_settings": extra})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert expected in out, out[-4000:]
    assert "nothing was written and containerd was not restarted" in out, out[-4000:]
    assert "RUNNING HANDLER" not in out, out[-4000:]
    assert state(host) == before  # same PID, same config bytes


def test_config_containerd_rejects_is_never_installed(host):
    refused(host, {"plugins": {CRI: {"enable_unprivileged_ports": "yes"}}},
            "Can't convert yes(string) to bool")


def test_key_containerd_would_drop_is_refused_by_name(host):
    refused(host, {"plugins": {CRI: {"enable_unprivilged_ports": True}}},
            'unknown key plugins."io.containerd.grpc.v1.cri".enable_unprivilged_ports')


def test_config_containerd_cannot_start_with_is_rolled_back(host):
    """`config dump` accepts a root under /proc, but containerd cannot create it and exits at start."""
    before = host.file(CONFIG).sha256sum
    proc = playbook("converge.yml", {"containerd_extra_settings": {"root": "/proc/containerd-root"},
                                     "containerd_health_timeout": 20})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "containerd failed its health gate after /etc/containerd/config.toml changed" in out, out[-4000:]
    assert "Rolled back: /etc/containerd/config.toml was restored from /var/lib/secure_cluster/backups/containerd/" in out
    assert "containerd is healthy again" in out, out[-4000:]
    assert "mkdir /proc/containerd-root" in out, "the journal's last lines are in the message: " + out[-4000:]
    assert host.file(CONFIG).sha256sum == before
    assert host.service("containerd").is_running
    assert "Server:" in host.check_output("ctr version")
    assert dump(host)["root"] == "/var/lib/containerd"
    assert host.file(SOCKET).group == "containerd"


def changed_tasks(output):
    """Names of the tasks (and handlers) that reported changed, from the default callback's output."""
    changed, task = [], None
    for line in output.splitlines():
        match = re.match(r"^(?:TASK|RUNNING HANDLER) \[(.*)\] \**$", line)
        if match:
            task = match.group(1)
        elif line.startswith("changed:") and task not in changed:
            changed.append(task)
    return changed


def test_check_mode_predicts_the_real_run(host):
    extra = {"containerd_enable_unprivileged_icmp": True}
    check = playbook("converge.yml", extra, "--check")
    assert check.returncode == 0, check.stdout[-4000:]
    assert installed(host)["plugins"][CRI]["enable_unprivileged_icmp"] is False  # check mode wrote nothing
    real = playbook("converge.yml", extra)
    assert real.returncode == 0, real.stdout[-4000:]
    predicted, done = changed_tasks(check.stdout), changed_tasks(real.stdout)
    assert predicted == done, (predicted, done)
    assert any("Install config.toml" in name for name in done), done
    assert any("Restart containerd" in name for name in done), done
    assert dump(host)["plugins"][CRI]["enable_unprivileged_icmp"] is True
