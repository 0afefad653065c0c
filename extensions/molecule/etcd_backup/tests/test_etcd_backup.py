"""The etcd_backup role's timer and service take verified, encrypted snapshots with retention and a visible
low-space refusal; the etcd_backup and etcd_restore playbooks round-trip the keyspace and refuse bad input
before anything is stopped."""
import glob
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

HOSTS = [h for h in os.environ.get("SCK8S_BAK_HOSTS", "sck8s-mol-bak-cp1").split(",") if h]
HOST = HOSTS[0]
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAYBOOKS = os.path.join(HERE, "..", "..", "..", "playbooks")
PASSPHRASE = "molecule-etcd-backup-passphrase"
SETTINGS = {"etcd_backup_passphrase": PASSPHRASE, "etcd_backup_keep": 3, "etcd_backup_min_free_mb": 10}
UNIT = "sck8s-etcd-backup"
BACKUP_DIR = "/var/backups/etcd"
CONFIG = "/etc/secure_cluster/etcd-backup/config.json"
RUNNER = "python3 /usr/local/lib/testbed/static_pod_runner.py"
ETCDCTL = ("ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt "
           "--cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key")
PREFIX = "sck8s-test/"


def playbook(name, extra=None):
    """Run a playbook of the collection against the nodes as a user would (podman connection)."""
    binary = shutil.which("ansible-playbook") or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    inventory = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"), "etcd_backup_hosts.json")
    hosts = dict((h, {"ansible_connection": "containers.podman.podman",
                      "ansible_python_interpreter": "/usr/bin/python3"}) for h in HOSTS)
    with open(inventory, "w") as handle:
        json.dump({"all": {"vars": SETTINGS},
                   "etcd": {"hosts": hosts}, "control_plane": {"hosts": hosts}}, handle)
    cmd = [binary, "-i", inventory, os.path.join(PLAYBOOKS, name), "-e", json.dumps(extra or {})]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)


def backups(host):
    out = host.check_output("ls -1 %s", BACKUP_DIR)
    return sorted(n[:-len(".db.gpg")] for n in out.split() if n.endswith(".db.gpg"))


def manifest(host, name):
    return json.loads(host.check_output("cat %s/%s.json", BACKUP_DIR, name))


def keys(host):
    out = host.check_output(ETCDCTL + " get --prefix %s --keys-only", PREFIX)
    return sorted(k for k in out.split() if k)


def pod_pids(host):
    return dict((name, json.loads(host.check_output("cat /run/static-pods/%s.json", name))["pid"])
                for name in ("etcd", "kube-apiserver"))


def assert_untouched(host, pids_before):
    """Nothing was stopped: both manifests in place, the same etcd and apiserver processes, etcd answering."""
    assert host.file("/etc/kubernetes/manifests/etcd.yaml").exists
    assert host.file("/etc/kubernetes/manifests/kube-apiserver.yaml").exists
    assert pod_pids(host) == pids_before
    host.check_output(ETCDCTL + " endpoint health")


def test_timer_is_enabled_and_active(host):
    timer = host.service(UNIT + ".timer")
    assert timer.is_enabled and timer.is_running
    text = host.file("/etc/systemd/system/%s.timer" % UNIT).content_string
    assert "Persistent=true" in text and "RandomizedDelaySec=" in text and "OnCalendar=" in text


@pytest.mark.parametrize("path,mode", [(BACKUP_DIR, 0o700), ("/etc/secure_cluster/etcd-backup", 0o700),
                                       ("/etc/secure_cluster/etcd-backup/passphrase", 0o600), (CONFIG, 0o600)])
def test_private_paths(host, path, mode):
    f = host.file(path)
    assert f.mode == mode and f.user == "root" and f.group == "root", (path, oct(f.mode))


def test_passphrase_file_holds_the_passphrase_and_nothing_logs_it(host):
    assert host.file("/etc/secure_cluster/etcd-backup/passphrase").content_string == PASSPHRASE
    assert PASSPHRASE not in host.file(CONFIG).content_string
    assert PASSPHRASE not in host.check_output("systemctl cat %s.service", UNIT)


def test_manual_start_makes_a_verified_encrypted_snapshot(host):
    before = backups(host)
    run = host.run("systemctl start %s.service", UNIT)
    assert run.rc == 0, host.run("journalctl -u %s.service -n 20 --no-pager -o cat", UNIT).stdout
    after = backups(host)
    new = sorted(set(after) - set(before))
    assert len(new) == 1, (before, after)
    data = manifest(host, new[0])
    assert data["revision"] > 0 and data["size"] > 0 and len(data["sha256"]) == 64
    assert data["encryption"]["cipher"] == "AES256" and data["verified_with"] == "etcdctl"
    path = "%s/%s.db.gpg" % (BACKUP_DIR, new[0])
    assert host.file(path).mode == 0o600
    # really encrypted: not a bolt file, and it decrypts with the passphrase to the sha256 in the manifest
    assert host.run(ETCDCTL + " snapshot status %s", path).rc != 0
    decrypted = host.check_output(
        "d=$(mktemp -d) && gpg --homedir $d --batch --quiet --pinentry-mode loopback --passphrase-file "
        "/etc/secure_cluster/etcd-backup/passphrase -d %s | sha256sum; gpgconf --homedir $d --kill gpg-agent; rm -rf $d",
        path)
    assert decrypted.split()[0] == data["sha256"]
    # no plaintext and no temporary files left
    listing = host.check_output("ls -A1 %s", BACKUP_DIR).split()
    assert [n for n in listing if n.endswith(".db") or n.endswith(".partial") or n.startswith(".gnupg")] == []
    journal = host.check_output("journalctl -u %s.service -o cat --no-pager", UNIT)
    assert "verified with etcdctl" in journal


def test_retention_keeps_three(host):
    for _run in range(4):
        host.check_output("systemctl start %s.service", UNIT)
        time.sleep(1)
    names = backups(host)
    assert len(names) == 3, names
    assert len(host.check_output("ls -1 %s/*.json", BACKUP_DIR).split()) == 3


def test_low_space_refusal_is_a_failed_unit(host):
    original = host.file(CONFIG).content_string
    before = backups(host)
    host.check_output("cp -p %s /root/etcd-backup-config.json", CONFIG)
    host.check_output("python3 -c %s", "import json; p = '%s'; c = json.load(open(p)); c['min_free_mb'] = 10 ** 9; "
                      "json.dump(c, open(p, 'w'))" % CONFIG)
    try:
        assert host.run("systemctl start %s.service", UNIT).rc != 0
        assert host.run("systemctl is-failed %s.service", UNIT).stdout.strip() == "failed"
        status = host.run("systemctl status %s.service", UNIT).stdout
        assert "refusing to run" in status and "below the threshold" in status, status
        assert backups(host) == before
    finally:
        host.check_output("mv /root/etcd-backup-config.json %s", CONFIG)
        host.run("systemctl reset-failed %s.service", UNIT)
    assert host.file(CONFIG).content_string == original


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """Keys before, an on-demand backup fetched to the controller, keys after."""
    from testinfra import get_host
    node = get_host("podman://" + HOST)
    for i in range(5):
        node.check_output(ETCDCTL + " put %s %s", "%sbefore-%d" % (PREFIX, i), "v%d" % i)
    fetch = tmp_path_factory.mktemp("fetched")
    proc = playbook("etcd_backup.yml", {"etcd_backup_fetch_dir": str(fetch)})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "verified with etcdctl, encrypted with gpg AES256" in proc.stdout
    files = glob.glob(os.path.join(str(fetch), HOST, "*.db.gpg"))
    assert len(files) == 1 and os.path.exists(files[0][:-len(".db.gpg")] + ".json"), files
    assert oct(os.stat(files[0]).st_mode & 0o777) == oct(0o600)
    for i in range(3):
        node.check_output(ETCDCTL + " put %s %s", "%safter-%d" % (PREFIX, i), "w%d" % i)
    return files[0]


def refusal(host, snapshot_path, extra, expected):
    pids = pod_pids(host)
    proc = playbook("etcd_restore.yml", dict({"etcd_restore_snapshot": snapshot_path}, **extra))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert expected in out, out[-4000:]
    assert "Nothing was stopped" in out or "nothing to back up" in out or "no etcd member" in out, out[-3000:]
    assert_untouched(host, pids)
    assert "PLAY [Stop the kube-apiservers, then etcd]" not in proc.stdout


def test_truncated_snapshot_is_refused(host, snapshot, tmp_path):
    bad = str(tmp_path / "etcd-truncated.db.gpg")
    with open(snapshot, "rb") as src, open(bad, "wb") as dst:
        dst.write(src.read()[: os.path.getsize(snapshot) // 2])
    shutil.copy(snapshot[:-len(".db.gpg")] + ".json", bad[:-len(".db.gpg")] + ".json")
    refusal(host, bad, {}, "the file is truncated or corrupted")


def test_corrupted_snapshot_is_refused_after_decryption(host, snapshot, tmp_path):
    """A snapshot whose content changed but that was encrypted again with the right passphrase (and whose
    manifest was updated for the encrypted file) decrypts fine and is refused by its plaintext checks."""
    gnupg = tmp_path / "gnupg"
    gnupg.mkdir(mode=0o700)
    passfile = tmp_path / "pass"
    passfile.write_text(PASSPHRASE)
    gpg = ["gpg", "--homedir", str(gnupg), "--batch", "--yes", "--quiet", "--pinentry-mode", "loopback",
           "--passphrase-file", str(passfile)]
    plain = str(tmp_path / "plain.db")
    subprocess.run(gpg + ["-d", "-o", plain, snapshot], check=True)
    with open(plain, "r+b") as handle:
        handle.seek(os.path.getsize(plain) // 2)
        handle.write(b"\xff" * 64)
    bad = str(tmp_path / "etcd-corrupted.db.gpg")
    subprocess.run(gpg + ["--symmetric", "--cipher-algo", "AES256", "-o", bad, plain], check=True)
    subprocess.run(["gpgconf", "--homedir", str(gnupg), "--kill", "gpg-agent"], check=False)
    with open(snapshot[:-len(".db.gpg")] + ".json") as handle:
        data = json.load(handle)
    data["encryption"]["size"] = os.path.getsize(bad)
    data["encryption"]["sha256"] = subprocess.run(["sha256sum", bad], capture_output=True, text=True,
                                                  check=True).stdout.split()[0]
    with open(bad[:-len(".db.gpg")] + ".json", "w") as handle:
        json.dump(data, handle)
    refusal(host, bad, {}, "does not match its manifest")


def test_wrong_passphrase_is_refused(host, snapshot):
    refusal(host, snapshot, {"etcd_backup_passphrase": "not-the-passphrase-at-all"}, "wrong passphrase")


def test_empty_group_is_refused(host, snapshot):
    refusal(host, snapshot, {"etcd_restore_group": "no_such_group"}, "has no hosts: there is no etcd member")


def test_restore_brings_back_exactly_the_keys_of_snapshot_time(host, snapshot):
    assert keys(host) == sorted(["%sbefore-%d" % (PREFIX, i) for i in range(5)] +
                                ["%safter-%d" % (PREFIX, i) for i in range(3)])
    proc = playbook("etcd_restore.yml", {"etcd_restore_snapshot": snapshot})
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert keys(host) == sorted("%sbefore-%d" % (PREFIX, i) for i in range(5))
    assert host.check_output(ETCDCTL + " get %sbefore-3 --print-value-only", PREFIX) == "v3"
    # the old data dir is kept, the new one is private, both pods run again
    assert host.run("ls -d /var/lib/etcd.pre-restore-*").rc == 0
    assert host.file("/var/lib/etcd").mode == 0o700
    host.check_output(RUNNER + " wait etcd --ready --timeout 120")
    host.check_output(RUNNER + " wait kube-apiserver --ready --timeout 180")
    assert host.check_output("ls /etc/kubernetes/manifests").split() == [
        "etcd.yaml", "kube-apiserver.yaml", "kube-controller-manager.yaml", "kube-scheduler.yaml"]
    assert host.run("find /var/lib/secure_cluster/etcd-restore -name snapshot.db").stdout.strip() == ""
