"""The scheduler and controller_manager roles hardened the node without breaking it, and a kube-scheduler change
that breaks the pod is rolled back by the role's health gate."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

HOST = "sck8s-mol-cp-cp1"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = "python3 /usr/local/lib/testbed/static_pod_runner.py"
MANIFESTS = "/etc/kubernetes/manifests"
SCHEDULER_FLAGS = ["--profiling=false", "--bind-address=127.0.0.1"]
CM_FLAGS = [
    "--terminated-pod-gc-threshold=10",
    "--profiling=false",
    "--use-service-account-credentials=true",
    "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
    "--root-ca-file=/etc/kubernetes/pki/ca.crt",
    "--feature-gates=RotateKubeletServerCertificate=true",
    "--bind-address=127.0.0.1",
]
PODS = {"kube-scheduler": SCHEDULER_FLAGS, "kube-controller-manager": CM_FLAGS}


def playbook(name, extra=None):
    """Run a playbook of this scenario against the node as a user would (podman connection), in the
    control_plane group the plays target."""
    binary = shutil.which("ansible-playbook") or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    inventory = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"), "control_plane_hosts.json")
    with open(inventory, "w") as handle:
        json.dump({"control_plane": {"hosts": {HOST: {"ansible_connection": "containers.podman.podman",
                                                      "ansible_python_interpreter": "/usr/bin/python3"}}}}, handle)
    cmd = [binary, "-i", inventory, os.path.join(HERE, name), "-e", json.dumps(extra or {})]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)


def pod_state(host, name):
    return json.loads(host.check_output("cat /run/static-pods/%s.json", name))


def cmdline(host, pid):
    return host.check_output("cat /proc/%s/cmdline | tr '\\0' '\\n'", str(pid)).splitlines()


def manifest_command(host, name):
    text = host.file("%s/%s.yaml" % (MANIFESTS, name)).content_string
    return [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("- --")]


@pytest.mark.parametrize("pod", sorted(PODS))
def test_manifest_has_the_flags(host, pod):
    command = manifest_command(host, pod)
    for flag in PODS[pod]:
        assert flag in command, (pod, flag, command)
    assert len(command) == len(set(c.split("=", 1)[0] for c in command)), "a flag appears twice: %s" % command


@pytest.mark.parametrize("pod", sorted(PODS))
def test_pod_runs_ready_with_the_new_args(host, pod):
    host.check_output(RUNNER + " wait %s --ready --timeout 60", pod)
    state = pod_state(host, pod)
    assert state["state"] == "running" and state["ready"] is True, state
    argv = cmdline(host, state["pid"])
    for flag in PODS[pod]:
        assert flag in argv, (pod, flag, argv)
    assert argv[-len(manifest_command(host, pod)):] == manifest_command(host, pod)


@pytest.mark.parametrize("path", [
    MANIFESTS + "/kube-scheduler.yaml", MANIFESTS + "/kube-controller-manager.yaml",
    "/etc/kubernetes/scheduler.conf", "/etc/kubernetes/controller-manager.conf"])
def test_file_modes(host, path):
    f = host.file(path)
    assert f.mode == 0o600 and f.user == "root" and f.group == "root", path


def test_backups_kept_outside_the_manifest_directory(host):
    listing = host.check_output("ls /var/lib/secure_cluster/backups/manifests")
    assert "kube-scheduler.yaml." in listing and "kube-controller-manager.yaml." in listing
    assert host.check_output("ls %s", MANIFESTS).split() == [
        "etcd.yaml", "kube-apiserver.yaml", "kube-controller-manager.yaml", "kube-scheduler.yaml"]


def test_audit_passes_for_the_roles_recommendations(tmp_path):
    proc = playbook("audit.yml", {"cis_report_dir": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(os.path.join(str(tmp_path), HOST + ".json")) as handle:
        report = json.load(handle)
    results = dict((r["test_number"], r["status"]) for c in report["Controls"] for g in c["tests"]
                   for r in g["results"])
    for cid in ["1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.15", "1.1.16", "1.1.17", "1.1.18",
                "1.3.2", "1.3.3", "1.3.4", "1.3.5", "1.3.6", "1.3.7", "1.4.1", "1.4.2"]:
        assert results.get(cid) == "PASS", (cid, results.get(cid))
    assert "FAIL" not in results.values(), results


def test_broken_scheduler_change_is_rolled_back(host):
    path = MANIFESTS + "/kube-scheduler.yaml"
    before = host.file(path).content_string
    try:
        proc = playbook("rollback.yml")
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, out[-4000:]
        assert "kube-scheduler failed its health gate after %s changed" % path in out, out[-4000:]
        assert "%s was restored from /var/lib/secure_cluster/backups/manifests/" % path in out
        assert "kube-scheduler is healthy again" in out, out[-4000:]
        assert "notAField" in out, "the pod's last log lines are in the message: " + out[-4000:]
        # the rescue really restored the manifest, byte for byte, with its mode
        assert hashlib.sha256(host.file(path).content_string.encode()).hexdigest() == \
            hashlib.sha256(before.encode()).hexdigest()
        assert host.file(path).mode == 0o600
        # and the old pod is back, ready, without the bad --config
        host.check_output(RUNNER + " wait kube-scheduler --ready --timeout 60")
        state = pod_state(host, "kube-scheduler")
        argv = cmdline(host, state["pid"])
        assert not any(a.startswith("--config") for a in argv), argv
        for flag in SCHEDULER_FLAGS:
            assert flag in argv
        time.sleep(3)
        assert pod_state(host, "kube-scheduler")["pid"] == state["pid"], "the restored pod keeps running"
    finally:
        host.run("rm -f /etc/kubernetes/bad-scheduler-config.yaml")
