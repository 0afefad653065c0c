"""The apiserver role hardened the node without breaking it: audit, idempotence, check-mode prediction, a stable
encryption key, and the failure paths (refused flag, missing policy, bad key, automatic rollback)."""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

HOST = "sck8s-mol-api-cp1"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = "python3 /usr/local/lib/testbed/static_pod_runner.py"
MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
ENC = "/etc/kubernetes/enc/config.yaml"
SUPPORTING = [ENC, "/etc/kubernetes/audit/policy.yaml", "/etc/kubernetes/admission/admission.yaml",
              "/etc/kubernetes/authn/authentication-config.yaml"]
BACKUPS = "/var/lib/secure_cluster/backups/manifests"
FLAGS = [
    "--profiling=false", "--service-account-lookup=true", "--service-account-extend-token-expiration=false",
    "--audit-log-path=/var/log/kubernetes/audit/audit.log", "--audit-policy-file=/etc/kubernetes/audit/policy.yaml",
    "--audit-log-maxage=30", "--audit-log-maxbackup=10", "--audit-log-maxsize=100",
    "--encryption-provider-config=" + ENC, "--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt",
    "--admission-control-config-file=/etc/kubernetes/admission/admission.yaml",
    "--authentication-config=/etc/kubernetes/authn/authentication-config.yaml", "--tls-min-version=VersionTLS12",
    "--authorization-mode=Node,RBAC",
]


def playbook(name, extra=None, check=False):
    """Run a playbook of this scenario against the node as a user would (podman connection)."""
    binary = shutil.which("ansible-playbook") or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    inventory = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"), "apiserver_hosts.json")
    with open(inventory, "w") as handle:
        json.dump({"control_plane": {"hosts": {HOST: {"ansible_connection": "containers.podman.podman",
                                                      "ansible_python_interpreter": "/usr/bin/python3"}}}}, handle)
    cmd = [binary, "-i", inventory, os.path.join(HERE, name), "-e", json.dumps(extra or {})]
    if check:
        cmd.append("--check")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False)


def sha(host, path):
    return host.check_output("sha256sum %s", path).split()[0]


def snapshot(host):
    return dict((p, sha(host, p)) for p in [MANIFEST] + SUPPORTING)


def backups(host):
    return host.check_output("ls %s", BACKUPS).split()


def manifest_command(host):
    text = host.file(MANIFEST).content_string
    return [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("- --")]


def wait_ready(host):
    host.check_output(RUNNER + " wait kube-apiserver --ready --timeout 180")
    return json.loads(host.check_output("cat /run/static-pods/kube-apiserver.json"))


def recap_changed(out):
    match = re.search(r"%s\s*:\s*ok=\d+\s+changed=(\d+)" % HOST, out)
    return int(match.group(1)) if match else None


def test_manifest_has_the_flags_once(host):
    command = manifest_command(host)
    for flag in FLAGS:
        assert flag in command, (flag, command)
    assert not any(c.startswith("--anonymous-auth") or c.startswith("--token-auth-file") for c in command)
    assert len(command) == len(set(c.split("=", 1)[0] for c in command)), command
    plugins = [c for c in command if c.startswith("--enable-admission-plugins=")][0].split("=", 1)[1].split(",")
    assert {"NodeRestriction", "PodSecurity", "DenyServiceExternalIPs"} <= set(plugins)


def test_apiserver_runs_ready_with_the_new_args_and_probes_pass(host):
    state = wait_ready(host)
    argv = host.check_output("cat /proc/%s/cmdline | tr '\\0' '\\n'", str(state["pid"])).splitlines()
    assert argv[-len(manifest_command(host)):] == manifest_command(host)
    # anonymous requests reach the health endpoints only
    assert host.check_output("curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:6443/livez") == "200"
    assert host.check_output("curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:6443/version") == "401"


@pytest.mark.parametrize("path", SUPPORTING + [MANIFEST, "/etc/kubernetes/admin.conf",
                                               "/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/ca.key"])
def test_files_are_0600_root(host, path):
    f = host.file(path)
    assert f.mode == 0o600 and f.user == "root" and f.group == "root", (path, oct(f.mode), f.user, f.group)


def test_encryption_configuration_is_valid_and_identity_last(host):
    text = host.file(ENC).content_string
    assert text.index("aescbc:") < text.index("identity:")
    secret = re.search(r"secret: (\S+)", text).group(1)
    assert len(base64.b64decode(secret)) == 32


def test_audit_all_apiserver_controls_pass_or_are_waived(tmp_path):
    proc = playbook("audit.yml", {"cis_report_dir": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(os.path.join(str(tmp_path), HOST + ".json")) as handle:
        report = json.load(handle)
    results = dict((r["test_number"], r) for c in report["Controls"] for g in c["tests"] for r in g["results"])
    automated = ["1.1.1", "1.1.2", "1.1.13", "1.1.14", "1.1.19"] + ["1.2.%d" % i for i in (
        2, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 24, 25, 26, 30)]
    for cid in automated + ["1.1.20", "1.1.21", "1.2.3", "1.2.27", "1.2.28", "1.2.29"]:
        assert results[cid]["status"] == "PASS", (cid, results[cid])
    for cid in ("1.2.1", "1.2.9", "1.2.11", "1.2.20"):
        assert results[cid]["reason"].startswith("waived:"), (cid, results[cid])
    assert all(r["status"] in ("PASS", "INFO") for r in results.values()), results


def test_second_run_writes_nothing_and_keeps_the_key(host):
    before, kept = snapshot(host), backups(host)
    proc = playbook("run_role.yml")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert recap_changed(proc.stdout) == 0, proc.stdout[-3000:]
    assert snapshot(host) == before and backups(host) == kept


def test_check_mode_predicts_exactly_the_real_run(host, tmp_path):
    # drift a few flags the way a hand edit would, and let the kubelet run it
    host.check_output("sed -i -e 's/--profiling=false/--profiling=true/' -e '/--audit-log-maxage=/d' "
                      "-e 's/--tls-min-version=VersionTLS12/--tls-min-version=VersionTLS13/' %s", MANIFEST)
    wait_ready(host)
    predicted, real = str(tmp_path / "check.json"), str(tmp_path / "real.json")
    before = snapshot(host)
    proc = playbook("run_role.yml", {"sck8s_result_file": predicted}, check=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert snapshot(host) == before, "check mode wrote nothing"
    proc = playbook("run_role.yml", {"sck8s_result_file": real})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(predicted) as one, open(real) as two:
        predicted, real = json.load(one), json.load(two)
    assert predicted == real, (predicted, real)
    assert real["changed"] and real["flags_changed"] == {
        "added": {"audit-log-maxage": "30"}, "removed": {},
        "changed": {"profiling": {"before": "true", "after": "false"},
                    "tls-min-version": {"before": "VersionTLS13", "after": "VersionTLS12"}}}
    assert "--profiling=false" in manifest_command(host)


def refused(host, extra, expect):
    before, kept = snapshot(host), backups(host)
    proc = playbook("run_role.yml", extra)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert re.search(expect, out), out[-4000:]
    assert snapshot(host) == before, "nothing written (sha256 of the manifest and supporting files)"
    assert backups(host) == kept
    return out


def test_flag_removed_in_the_nodes_version_is_refused(host):
    refused(host, {"apiserver_extra_flags": {"insecure-port": 0}},
            r"--insecure-port is not accepted by kube-apiserver v1\.\d+.*removed in v1\.24")


def test_missing_audit_policy_is_refused_before_writing(host):
    refused(host, {"apiserver_audit_policy_manage": False,
                   "apiserver_audit_policy_file": "/etc/kubernetes/audit/absent.yaml"},
            r"apiserver_audit_policy_file /etc/kubernetes/audit/absent.yaml does not exist")


def test_encryption_key_of_the_wrong_length_is_refused(host):
    key = base64.b64encode(b"k" * 31).decode()
    out = refused(host, {"apiserver_encryption_key": key},
                  r"apiserver_encryption_key refused, nothing written: the aescbc key is 31 bytes long")
    assert key not in out, "the key is never printed"


def test_unhealthy_apiserver_is_rolled_back(host):
    before = sha(host, MANIFEST)
    # passes every preflight (etcd-servers names no file) but /livez fails: etcd is not there
    proc = playbook("run_role.yml", {"apiserver_health_timeout": 40,
                                     "apiserver_extra_flags": {"etcd-servers": "https://127.0.0.1:2399"}})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "kube-apiserver failed its health gate after %s changed" % MANIFEST in out, out[-4000:]
    assert "%s was restored from %s/" % (MANIFEST, BACKUPS) in out
    assert "kube-apiserver is healthy again" in out, out[-4000:]
    assert sha(host, MANIFEST) == before and host.file(MANIFEST).mode == 0o600
    state = wait_ready(host)
    argv = host.check_output("cat /proc/%s/cmdline | tr '\\0' '\\n'", str(state["pid"])).splitlines()
    assert "--etcd-servers=https://127.0.0.1:2379" in argv
    time.sleep(3)
    assert json.loads(host.check_output("cat /run/static-pods/kube-apiserver.json"))["pid"] == state["pid"]
