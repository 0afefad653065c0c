# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of roles/etcd_backup/files/sck8s_etcd_backup.py: the refusals, the status parsing, the retention,
and whole runs against a fake etcdctl with the real gpg (when installed)."""
from __future__ import annotations

import collections
import datetime
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles/etcd_backup/files/sck8s_etcd_backup.py"
UTC = datetime.timezone.utc
PASSPHRASE = "unit-test-passphrase-0123456789"
HAVE_GPG = all(shutil.which(b) for b in ("gpg", "gpg-agent", "gpgconf"))


def _load():
    spec = importlib.util.spec_from_file_location("sck8s_etcd_backup", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


bk = _load()

FAKE_ETCDCTL = """#!/bin/sh
# fake etcdctl: 'snapshot save PATH' writes a fixed body, 'snapshot status PATH -w json' prints a status
for a in "$@"; do last2="$last1"; last1="$a"; done
case " $* " in
  *" snapshot save "*) [ -n "$FAIL_SAVE" ] && { echo "context deadline exceeded" >&2; exit 1; }
                       printf 'bolt-db-bytes-%s' "$BODY" > "$last1" ;;
  *" snapshot status "*) [ -n "$FAIL_STATUS" ] && { echo "snapshot file has wrong size" >&2; exit 2; }
                         echo '{"hash":12345,"revision":42,"totalKey":7,"totalSize":4096}' ;;
  *) exit 9 ;;
esac
"""


@pytest.fixture
def setup(tmp_path, monkeypatch):
    backup_dir = tmp_path / "backups"
    backup_dir.mkdir(mode=0o700)
    backup_dir.chmod(0o700)
    etcdctl = tmp_path / "etcdctl"
    etcdctl.write_text(FAKE_ETCDCTL)
    etcdctl.chmod(0o755)
    passfile = tmp_path / "passphrase"
    passfile.write_text(PASSPHRASE)
    passfile.chmod(0o600)
    for name in ("ca.crt", "client.crt", "client.key"):
        (tmp_path / name).write_text("x")
    monkeypatch.setenv("BODY", "one")
    config = dict(bk.DEFAULTS, backup_dir=str(backup_dir), prefix="etcd-node1", etcdctl=str(etcdctl),
                  etcdutl="", cacert=str(tmp_path / "ca.crt"), cert=str(tmp_path / "client.crt"),
                  key=str(tmp_path / "client.key"), passphrase_file=str(passfile), min_free_mb=0, keep=2,
                  timeout=60)
    return config


def test_load_config_rejects_unknown_keys(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"keep": 3, "kep": 4}))
    with pytest.raises(bk.BackupError, match="unknown keys .*: kep") as err:
        bk.load_config(str(path))
    assert err.value.code == 2


def test_load_config_defaults_and_prefix(tmp_path, monkeypatch):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"keep": 3}))
    monkeypatch.setattr(bk.socket, "gethostname", lambda: "cp1.example.internal")
    config = bk.load_config(str(path))
    assert config["keep"] == 3 and config["prefix"] == "etcd-cp1" and config["cipher"] == "AES256"


def test_check_dir_refuses_other_modes(tmp_path):
    target = tmp_path / "d"
    target.mkdir()
    target.chmod(0o755)
    with pytest.raises(bk.BackupError, match="mode 0755"):
        bk.check_dir(str(target))
    target.chmod(0o700)
    bk.check_dir(str(target))
    with pytest.raises(bk.BackupError, match="No such file"):
        bk.check_dir(str(tmp_path / "missing"))


def test_free_space_threshold():
    usage = collections.namedtuple("usage", "total used free")

    def fake(path):
        assert path == "/x"
        return usage(0, 0, 500 * 1024 * 1024)

    assert bk.check_free_space("/x", 100, usage=fake) == 500
    with pytest.raises(bk.BackupError, match="500 MiB free in /x, below the threshold of 1024 MiB") as err:
        bk.check_free_space("/x", 1024, usage=fake)
    assert err.value.code == 3


def test_parse_status():
    assert bk.parse_status('{"hash":1,"revision":2,"totalKey":3,"totalSize":4}') == {
        "hash": 1, "revision": 2, "total_key": 3, "total_size": 4}
    with pytest.raises(bk.BackupError, match="no JSON"):
        bk.parse_status("Error: snapshot file has wrong size")
    with pytest.raises(bk.BackupError, match="lacks totalKey"):
        bk.parse_status('{"hash":1,"revision":2,"totalSize":4}')
    with pytest.raises(bk.BackupError, match="empty snapshot"):
        bk.parse_status('{"hash":0,"revision":0,"totalKey":0,"totalSize":0}')
    # a store never written to has revision 0 and is a valid snapshot
    assert bk.parse_status('{"hash":7,"revision":0,"totalKey":3,"totalSize":20480}')["revision"] == 0


def _ago(now, **delta):
    return now - datetime.timedelta(**delta)


def test_select_expired_by_count_and_age():
    now = datetime.datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
    backups = [("b%d" % i, _ago(now, days=10 - i)) for i in range(10)]  # b9 newest
    assert bk.select_expired(backups, keep=3, max_age_days=0, now=now, protect="b9") == [
        "b6", "b5", "b4", "b3", "b2", "b1", "b0"]
    assert bk.select_expired(backups, keep=0, max_age_days=5, now=now, protect="b9") == [
        "b4", "b3", "b2", "b1", "b0"]
    # both limits: whichever removes more; the protected one survives even when too old
    assert bk.select_expired(backups, keep=8, max_age_days=3, now=now, protect="b0") == [
        "b6", "b5", "b4", "b3", "b2", "b1"]


def test_list_backups_ignores_incomplete_ones(tmp_path):
    for name, created in (("etcd-n-1", "2026-11-27T10:00:00Z"), ("etcd-n-2", "2026-11-27T11:00:00Z")):
        (tmp_path / (name + ".json")).write_text(json.dumps({"created": created}))
        (tmp_path / (name + ".db.gpg")).write_text("x")
    (tmp_path / "etcd-n-3.json").write_text(json.dumps({"created": "2026-11-27T12:00:00Z"}))  # no .db.gpg
    (tmp_path / "etcd-other-1.json").write_text("{}")
    (tmp_path / "etcd-other-1.db.gpg").write_text("x")
    assert [item[0] for item in bk.list_backups(str(tmp_path), "etcd-n")] == ["etcd-n-1", "etcd-n-2"]


def test_secure_remove_overwrites_then_unlinks(tmp_path):
    path = tmp_path / "plain.db"
    path.write_bytes(b"secret" * 1000)
    bk.secure_remove(str(path))
    assert not path.exists()


def test_agent_pids_finds_only_this_homedirs_agent(tmp_path):
    proc = tmp_path / "proc"
    for pid, argv in (("11", ["/usr/bin/gpg-agent", "--homedir", "/b/.gnupg-x", "--daemon"]),
                      ("12", ["/usr/bin/gpg-agent", "--homedir", "/b/.gnupg-other", "--daemon"]),
                      ("13", ["/usr/bin/python3", "/b/.gnupg-x"]), ("self", ["x"])):
        (proc / pid).mkdir(parents=True)
        (proc / pid / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    assert bk.agent_pids("/b/.gnupg-x", proc=str(proc)) == [11]


def _decrypt(path, tmp_path):
    home = tmp_path / "gnupg-check"
    home.mkdir(mode=0o700, exist_ok=True)
    passfile = tmp_path / "passphrase"
    try:
        return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--quiet", "--pinentry-mode", "loopback",
                               "--passphrase-file", str(passfile), "-d", str(path)],
                              capture_output=True, check=True).stdout
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)


@pytest.mark.skipif(not HAVE_GPG, reason="gpg, gpg-agent and gpgconf are needed")
def test_backup_writes_encrypted_snapshot_manifest_and_prunes(setup, tmp_path, monkeypatch):
    now = datetime.datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
    made = []
    for i in range(3):
        monkeypatch.setenv("BODY", "run%d" % i)
        made.append(bk.backup(setup, now=now + datetime.timedelta(minutes=i)))
    directory = Path(setup["backup_dir"])
    names = sorted(p.name for p in directory.iterdir())
    assert names == [".lock", "etcd-node1-20261127T120100Z.db.gpg", "etcd-node1-20261127T120100Z.json",
                     "etcd-node1-20261127T120200Z.db.gpg", "etcd-node1-20261127T120200Z.json"]
    last = json.loads((directory / "etcd-node1-20261127T120200Z.json").read_text())
    assert last == made[-1]
    body = b"bolt-db-bytes-run2"
    assert last["sha256"] == hashlib.sha256(body).hexdigest() and last["size"] == len(body)
    assert (last["revision"], last["hash"], last["total_key"]) == (42, 12345, 7)
    assert last["created"] == "2026-11-27T12:02:00Z" and last["verified_with"] == "etcdctl"
    encrypted = directory / last["file"]
    assert body not in encrypted.read_bytes()
    assert last["encryption"]["sha256"] == hashlib.sha256(encrypted.read_bytes()).hexdigest()
    assert _decrypt(encrypted, tmp_path) == body
    assert oct(encrypted.stat().st_mode & 0o777) == oct(0o600)


@pytest.mark.skipif(not HAVE_GPG, reason="gpg, gpg-agent and gpgconf are needed")
@pytest.mark.parametrize("env,message", [("FAIL_SAVE", "etcdctl snapshot save failed (exit 1): context deadline"),
                                         ("FAIL_STATUS", "etcdctl snapshot status failed (exit 2)")])
def test_failed_step_leaves_no_files(setup, monkeypatch, env, message):
    monkeypatch.setenv(env, "1")
    with pytest.raises(bk.BackupError, match=message.replace("(", r"\(").replace(")", r"\)")):
        bk.backup(setup)
    assert sorted(os.listdir(setup["backup_dir"])) == [".lock"]


def test_main_reports_refusal_and_exit_code(setup, tmp_path, capsys):
    Path(setup["backup_dir"]).chmod(0o750)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(dict((k, v) for k, v in setup.items() if k in bk.DEFAULTS)))
    assert bk.main(["--config", str(config)]) == 2
    assert "etcd-backup: ERROR: refusing to write to" in capsys.readouterr().err
