# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/etcd_restore.yml (the etcd_restore role) up to where it would write: the controller checks and every
member's read-only checks, in check mode against two local hosts whose etcd static pod manifests are fixtures. The
restore itself runs in molecule etcd_backup (real etcd). Needs the collection on ANSIBLE_COLLECTIONS_PATH, which
`make unit` provides (the tests run from its copy of the collection)."""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
COLLECTIONS_ROOT = os.path.normpath(os.path.join(COLLECTION, "..", "..", ".."))
PLAYBOOK = os.path.join(COLLECTION, "playbooks", "etcd_restore.yml")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
MEMBERS = {"m1": "https://10.0.0.1:2380", "m2": "https://10.0.0.2:2380"}

pytestmark = pytest.mark.skipif(
    os.path.basename(os.path.dirname(os.path.dirname(COLLECTION))) != "ansible_collections",
    reason="run from a collection copy (make unit)")


@pytest.fixture
def site(tmp_path):
    """A snapshot with its manifest in backups/, and per member a manifest dir holding an etcd static pod."""
    (tmp_path / "backups").mkdir()
    encrypted = b"not really gpg output, only the controller checks read it" * 10
    (tmp_path / "backups" / "etcd-m1.db.gpg").write_bytes(encrypted)
    manifest = {"node": "m1", "created": "2026-12-07T00:00:00Z", "revision": 7, "hash": 1, "sha256": "0" * 64,
                "encryption": {"size": len(encrypted), "sha256": hashlib.sha256(encrypted).hexdigest()}}
    (tmp_path / "backups" / "etcd-m1.json").write_text(json.dumps(manifest))
    for name in ("ca.crt", "client.crt", "client.key"):
        (tmp_path / name).write_text("fixture\n")
    hosts = {}
    for name, peer in MEMBERS.items():
        manifests = tmp_path / name / "manifests"
        manifests.mkdir(parents=True)
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "etcd"},
               "spec": {"containers": [{"name": "etcd", "command": [
                   "etcd", "--name=" + name, "--initial-advertise-peer-urls=" + peer,
                   "--data-dir", "/var/lib/etcd-" + name + "/"]}]}}
        (manifests / "etcd.yaml").write_text(yaml.safe_dump(pod))
        hosts[name] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                       "etcd_restore_manifest_dir": str(manifests), "etcd_restore_work_dir": str(tmp_path / name / "work")}
    settings = {"etcd_backup_passphrase": "fixture-passphrase-0123456789", "etcd_backup_etcdctl": "/bin/true",
                "etcd_backup_cacert": str(tmp_path / "ca.crt"), "etcd_backup_cert": str(tmp_path / "client.crt"),
                "etcd_backup_key": str(tmp_path / "client.key")}
    inventory = {"all": {"vars": settings}, "etcd": {"hosts": hosts}}
    (tmp_path / "hosts.json").write_text(json.dumps(inventory))
    return tmp_path


def play(site, *extra, playbook=PLAYBOOK):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_HOME=str(site / ".ansible"))
    # the snapshot path is relative to the working directory, as the runbook types it
    cmd = [ANSIBLE_PLAYBOOK, "-i", "hosts.json", playbook, "--check",
           "-e", "etcd_restore_snapshot=./backups/etcd-m1.db.gpg"] + list(extra)
    proc = subprocess.run(cmd, cwd=str(site), env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def recap(out, host):
    return dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", re.search(r"^%s\s+:(.*)$" % host, out, re.M).group(1)))


def test_check_mode_reads_the_snapshot_and_every_member_and_changes_nothing(site):
    rc, out = play(site)
    assert rc == 0, out
    for host in MEMBERS:
        counts = recap(out, host)
        assert counts["failed"] == 0 and counts["changed"] == 0, out
    assert "Check that the members' names and peer URLs are distinct" in out
    for host in MEMBERS:
        # nothing staged, no manifest moved
        assert not os.path.exists(site / host / "work"), out
        assert os.listdir(site / host / "manifests") == ["etcd.yaml"]


@pytest.mark.parametrize("edit, message", [
    ("truncate", "the file is truncated or corrupted. Nothing was stopped."),
    ("no_manifest", "its manifest must exist"),
    ("same_peer_url", "Member names and peer URLs must be distinct"),
    ("missing_cert", "missing "),
    ("no_name", "set etcd_restore_member_name"),
])
def test_a_bad_input_is_refused_before_anything(site, edit, message):
    if edit == "truncate":
        path = site / "backups" / "etcd-m1.db.gpg"
        path.write_bytes(path.read_bytes()[:100])
    elif edit == "no_manifest":
        os.unlink(site / "backups" / "etcd-m1.json")
    elif edit in ("same_peer_url", "no_name"):
        path = site / "m2" / "manifests" / "etcd.yaml"
        pod = yaml.safe_load(path.read_text())
        command = pod["spec"]["containers"][0]["command"]
        if edit == "same_peer_url":
            command[2] = "--initial-advertise-peer-urls=" + MEMBERS["m1"]
        else:
            del command[1]
        path.write_text(yaml.safe_dump(pod))
    elif edit == "missing_cert":
        os.unlink(site / "client.key")
    rc, out = play(site)
    assert rc != 0, out
    assert message in out, out


def test_an_empty_group_is_refused(site):
    rc, out = play(site, "-e", "etcd_restore_group=no_such_group")
    assert rc != 0, out
    assert "has no hosts: there is no etcd member to restore" in out, out


def test_a_member_setting_from_the_inventory_wins(site):
    """etcd_restore_member_name per host (the role's variable) replaces what the manifest says."""
    inventory = json.loads((site / "hosts.json").read_text())
    inventory["etcd"]["hosts"]["m2"]["etcd_restore_member_name"] = "m1"
    (site / "hosts.json").write_text(json.dumps(inventory))
    rc, out = play(site)
    assert rc != 0, out
    assert "Member names and peer URLs must be distinct: m1=%s, m1=%s" % (MEMBERS["m1"], MEMBERS["m2"]) in out, out


def test_a_play_in_batches_is_refused(site):
    """Members restored in separate batches would each form a cluster of their own."""
    batched = site / "batched.yml"
    batched.write_text(yaml.safe_dump([{"name": "Restore in batches", "hosts": "etcd", "gather_facts": False,
                                        "serial": 1, "roles": [{"role": "secure_cluster.k8s.etcd_restore"}]}]))
    rc, out = play(site, playbook=str(batched))
    assert rc != 0, out
    assert "the play runs in batches (serial)" in out, out
