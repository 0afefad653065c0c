"""The etcd_backup role's timer and service take verified, encrypted snapshots with retention and a visible
low-space refusal; the etcd_backup and etcd_restore playbooks round-trip the keyspace and refuse bad input
before anything is stopped."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
from testinfra import get_host

HOSTS = ["sck8s-mol-bak-e1", "sck8s-mol-bak-e2", "sck8s-mol-bak-e3"]
HOST = HOSTS[0]
# realpath: molecule/ is a symlink to extensions/molecule/, and ansible normalises ".." textually
HERE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
PLAYBOOKS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "playbooks"))
PASSPHRASE = "molecule-etcd-backup-passphrase"
PKI = "/etc/etcd/pki"
SETTINGS = {"etcd_backup_passphrase": PASSPHRASE, "etcd_backup_keep": 3, "etcd_backup_min_free_mb": 10,
            "etcd_backup_cacert": PKI + "/ca.crt", "etcd_backup_cert": PKI + "/healthcheck-client.crt",
            "etcd_backup_key": PKI + "/healthcheck-client.key"}
UNIT = "sck8s-etcd-backup"
BACKUP_DIR = "/var/backups/etcd"
CONFIG = "/etc/secure_cluster/etcd-backup/config.json"
DATA_DIR = "/var/lib/etcd/default"
ETCDCTL = ("ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=%s/ca.crt "
           "--cert=%s/healthcheck-client.crt --key=%s/healthcheck-client.key" % (PKI, PKI, PKI))
PREFIX = "sck8s-test/"


@pytest.fixture(scope="module")
def nodes():
    return [get_host("podman://" + name) for name in HOSTS]


def playbook(name, extra=None, hostvars=None, options=()):
    """Run a playbook of the collection against the nodes as a user would (podman connection)."""
    binary = shutil.which("ansible-playbook") or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    inventory = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"), "etcd_backup_hosts.json")
    hosts = dict((h, dict({"ansible_connection": "containers.podman.podman",
                           "ansible_python_interpreter": "/usr/bin/python3"}, **(hostvars or {}).get(h, {})))
                 for h in HOSTS)
    with open(inventory, "w") as handle:
        json.dump({"all": {"vars": SETTINGS}, "etcd": {"hosts": hosts}}, handle)
    cmd = [binary, "-i", inventory, os.path.join(PLAYBOOKS, name), "-e", json.dumps(extra or {})] + list(options)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)


def backups(host):
    out = host.check_output("ls -1 %s", BACKUP_DIR)
    return sorted(n[:-len(".db.gpg")] for n in out.split() if n.endswith(".db.gpg"))


def manifest(host, name):
    return json.loads(host.check_output("cat %s/%s.json", BACKUP_DIR, name))


def keys(host):
    """The test keys written around the snapshot of the round trip."""
    out = host.check_output(ETCDCTL + " get --prefix %s --keys-only", PREFIX)
    return sorted(k for k in out.split() if k and k != PREFIX + "manual")


def etcd_pids(nodes):
    return [int(n.check_output("systemctl show --property=MainPID --value etcd.service")) for n in nodes]


def cluster_id(host):
    return json.loads(host.check_output(ETCDCTL + " endpoint status -w json"))[0]["Status"]["header"]["cluster_id"]


def assert_untouched(nodes, pids_before):
    """Nothing was stopped: the same etcd process on every member, each answering, the data dir in place."""
    assert etcd_pids(nodes) == pids_before
    for node in nodes:
        node.check_output(ETCDCTL + " endpoint health")
        assert node.run("ls -d %s.pre-restore-*", DATA_DIR).rc != 0


def test_timer_is_enabled_and_active_on_every_member(nodes):
    for node in nodes:
        timer = node.service(UNIT + ".timer")
        assert timer.is_enabled and timer.is_running, node.backend.hostname
        text = node.file("/etc/systemd/system/%s.timer" % UNIT).content_string
        assert "Persistent=true" in text and "RandomizedDelaySec=" in text and "OnCalendar=" in text


@pytest.mark.parametrize("path,mode", [(BACKUP_DIR, 0o700), ("/etc/secure_cluster/etcd-backup", 0o700),
                                       ("/etc/secure_cluster/etcd-backup/passphrase", 0o600), (CONFIG, 0o600)])
def test_private_paths(nodes, path, mode):
    for node in nodes:
        f = node.file(path)
        assert f.mode == mode and f.user == "root" and f.group == "root", (node.backend.hostname, path, oct(f.mode))


def test_passphrase_file_holds_the_passphrase_and_nothing_logs_it(host):
    assert host.file("/etc/secure_cluster/etcd-backup/passphrase").content_string == PASSPHRASE
    assert PASSPHRASE not in host.file(CONFIG).content_string
    assert PASSPHRASE not in host.check_output("systemctl cat %s.service", UNIT)


def test_manual_start_makes_a_verified_encrypted_snapshot(host):
    host.check_output(ETCDCTL + " put %s %s", PREFIX + "manual", "m")
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
    """Keys before, an on-demand backup of every member fetched to the controller (the first one's is used), keys after."""
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


def refusal(nodes, snapshot_path, extra, expected):
    pids = etcd_pids(nodes)
    proc = playbook("etcd_restore.yml", dict({"etcd_restore_snapshot": snapshot_path}, **extra))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert expected in out, out[-4000:]
    assert "Nothing was stopped" in out or "no etcd member" in out, out[-3000:]
    # no task of the stop phase (or later) ran
    assert "etcd_restore : Stop the" not in proc.stdout, proc.stdout[-3000:]
    assert_untouched(nodes, pids)


def test_truncated_snapshot_is_refused(nodes, snapshot, tmp_path):
    bad = str(tmp_path / "etcd-truncated.db.gpg")
    with open(snapshot, "rb") as src, open(bad, "wb") as dst:
        dst.write(src.read()[: os.path.getsize(snapshot) // 2])
    shutil.copy(snapshot[:-len(".db.gpg")] + ".json", bad[:-len(".db.gpg")] + ".json")
    refusal(nodes, bad, {}, "the file is truncated or corrupted")


def test_corrupted_snapshot_is_refused_after_decryption(nodes, snapshot, tmp_path):
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
    refusal(nodes, bad, {}, "does not match its manifest")


def test_wrong_passphrase_is_refused(nodes, snapshot):
    refusal(nodes, snapshot, {"etcd_backup_passphrase": "not-the-passphrase-at-all"}, "wrong passphrase")


def test_empty_group_is_refused(nodes, snapshot):
    refusal(nodes, snapshot, {"etcd_restore_group": "no_such_group"}, "has no hosts: there is no etcd member")


def test_check_mode_reads_every_member_and_changes_nothing(nodes, snapshot):
    """The runbook's first step: check mode checks the snapshot and every member's settings, and stops there."""
    pids = etcd_pids(nodes)
    staged = [n.run("ls -1 /var/lib/secure_cluster/etcd-restore").stdout for n in nodes]
    proc = playbook("etcd_restore.yml", {"etcd_restore_snapshot": snapshot}, options=["--check"])
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "etcd_restore : Check that this member's etcd settings are known" in proc.stdout
    recap = proc.stdout[proc.stdout.rindex("PLAY RECAP"):]
    for name in HOSTS:
        assert re.search(r"^%s\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0" % name, recap, re.M), recap
    assert_untouched(nodes, pids)
    # no staging dir of this run (the refusals before left theirs, without any snapshot file)
    assert [n.run("ls -1 /var/lib/secure_cluster/etcd-restore").stdout for n in nodes] == staged


def wait_healthy(node, timeout=180):
    deadline = time.time() + timeout
    while node.run(ETCDCTL + " endpoint health").rc != 0:
        assert time.time() < deadline, node.run(ETCDCTL + " endpoint health").stderr
        time.sleep(3)


def test_restore_brings_back_exactly_the_keys_of_snapshot_time(nodes, snapshot):
    before_ids = set(cluster_id(n) for n in nodes)
    assert len(before_ids) == 1
    for node in nodes:
        assert keys(node) == sorted(["%sbefore-%d" % (PREFIX, i) for i in range(5)] +
                                    ["%safter-%d" % (PREFIX, i) for i in range(3)])
    proc = playbook("etcd_restore.yml", {"etcd_restore_snapshot": snapshot})
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    for node in nodes:
        name = node.backend.hostname
        # every member serves exactly the keys of snapshot time
        assert keys(node) == sorted("%sbefore-%d" % (PREFIX, i) for i in range(5)), name
        assert node.check_output(ETCDCTL + " get %s --print-value-only", PREFIX + "before-3") == "v3"
        # one new cluster of the three members, each with its own name
        members = json.loads(node.check_output(ETCDCTL + " member list -w json"))["members"]
        assert sorted(m["name"] for m in members) == HOSTS, members
        assert node.service("etcd.service").is_running
        # the old data dir is kept, the new one is private and etcd's, no plaintext is left
        assert node.run("ls -d %s.pre-restore-*", DATA_DIR).rc == 0, name
        data = node.file(DATA_DIR)
        assert data.mode == 0o700 and data.user == "etcd", (name, oct(data.mode), data.user)
        assert node.run("find /var/lib/secure_cluster/etcd-restore -name 'snapshot.db*'").stdout.strip() == ""
    after_ids = set(cluster_id(n) for n in nodes)
    assert len(after_ids) == 1 and after_ids != before_ids


def test_failed_restore_rolls_every_member_back(nodes, snapshot):
    """After the round trip: a wrong data dir for one member (inventory) lets the restore run, but that member
    starts on its old data and the new cluster misses it; the health gate fails and every member is put back on
    its old data dir and restarted."""
    ids = set(cluster_id(n) for n in nodes)
    nodes[0].check_output(ETCDCTL + " put %s %s", PREFIX + "since-restore", "s")
    proc = playbook("etcd_restore.yml", {"etcd_restore_snapshot": snapshot, "etcd_restore_health_timeout": 40},
                    hostvars={HOSTS[2]: {"etcd_restore_data_dir": "/var/lib/etcd/elsewhere"}})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "every member was put back on" in out, out[-4000:]
    for node in nodes:
        wait_healthy(node)
        node.check_output(ETCDCTL + " put %s %s", PREFIX + "after-rollback", "r")
        assert node.run("ls -d /var/lib/etcd/*.failed-restore-*").rc == 0
        # only the round trip's old data dir; this run's was moved back
        assert len(node.check_output("ls -d %s.pre-restore-*", DATA_DIR).split()) == 1
    assert set(cluster_id(n) for n in nodes) == ids
    for node in nodes:
        # the data written after the restore survived the rolled-back attempt
        assert PREFIX + "since-restore" in keys(node)
