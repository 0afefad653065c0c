# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/owned_file.py, the one file writer on the nodes (issue #15)."""
from __future__ import annotations

import errno
import hashlib
import os
import re
import stat

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import owned_file

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def target(tmp_path):
    directory = tmp_path / "etc" / "manifests"
    directory.mkdir(parents=True)
    path = directory / "kube-apiserver.yaml"
    path.write_bytes(b"old\n")
    os.chmod(path, 0o640)
    return path


def test_new_content_is_backed_up_renamed_in_and_keeps_mode(target, tmp_path):
    backups = tmp_path / "backups"
    res = owned_file.write(str(target), "new\n", expected_sha256=_sha(b"old\n"), backup_dir=str(backups))
    assert res["changed"] and res["content_changed"] and target.read_bytes() == b"new\n"
    assert _mode(target) == 0o640 and res["mode"] == "0640"
    assert open(res["backup_path"], "rb").read() == b"old\n"
    assert _mode(res["backup_path"]) == 0o600 and _mode(backups) == 0o700
    # staged beside the manifest directory, which holds nothing but the file afterwards
    assert sorted(os.listdir(target.parent)) == ["kube-apiserver.yaml"]
    assert os.listdir(owned_file.staging_dir(str(target))) == []
    assert owned_file.staging_dir(str(target)) == str(tmp_path / "etc" / owned_file.STAGING_NAME)


def test_unchanged_and_check_mode_write_nothing(target, tmp_path):
    assert owned_file.write(str(target), "old\n", mode=0o640)["changed"] is False
    res = owned_file.write(str(target), "new\n", backup_dir=str(tmp_path / "b"), check_mode=True)
    assert res["changed"] and target.read_bytes() == b"old\n" and not (tmp_path / "b").exists()
    res = owned_file.write(str(target), "old\n", mode=0o600)
    assert res["changed"] and not res["content_changed"] and _mode(target) == 0o600


def test_a_file_changed_since_it_was_read_is_refused(target, tmp_path):
    with pytest.raises(owned_file.OwnedFileError, match="changed on the node since it was read"):
        owned_file.write(str(target), "new\n", expected_sha256=_sha(b"something else"))
    with pytest.raises(owned_file.OwnedFileError, match="changed on the node"):
        owned_file.write(str(target), "new\n", expected_sha256=None)  # None: must not exist
    assert target.read_bytes() == b"old\n"
    fresh = tmp_path / "etc" / "manifests" / "new.yaml"
    owned_file.write(str(fresh), "x", expected_sha256=None)
    assert fresh.read_text() == "x" and _mode(fresh) == 0o600


def test_backups_are_pruned_to_the_newest(target, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "other.yaml.20200101T000000.000000Z.bak").write_text("not ours")
    for index in range(7):
        owned_file.write(str(target), "v%d\n" % index, backup_dir=str(backups), backup_keep=3)
    ours = sorted(n for n in os.listdir(backups) if n.startswith("kube-apiserver.yaml."))
    assert len(ours) == 3
    assert [open(os.path.join(backups, n)).read() for n in ours] == ["v3\n", "v4\n", "v5\n"]
    assert (backups / "other.yaml.20200101T000000.000000Z.bak").exists()


def test_a_crash_between_write_and_rename_leaves_the_old_file(target, monkeypatch):
    def crash(src, dst):
        # the staged file is complete, with its final mode, when the rename would happen
        assert open(src, "rb").read() == b"new\n" and _mode(src) == 0o640
        raise OSError("power lost")

    monkeypatch.setattr(owned_file.os, "rename", crash)
    with pytest.raises(OSError, match="power lost"):
        owned_file.write(str(target), "new\n")
    monkeypatch.undo()
    assert target.read_bytes() == b"old\n" and _mode(target) == 0o640
    assert os.listdir(owned_file.staging_dir(str(target))) == []


def test_validation_refuses_before_anything_changes(target, tmp_path):
    seen = []

    def validate(tmp):
        seen.append(open(tmp).read())
        return "containerd: invalid config"

    with pytest.raises(owned_file.OwnedFileError, match="invalid config"):
        owned_file.write(str(target), "new\n", backup_dir=str(tmp_path / "b"), validate=validate)
    assert seen == ["new\n"] and target.read_bytes() == b"old\n" and not (tmp_path / "b").exists()


def test_a_staging_dir_on_another_file_system_is_not_used(target, tmp_path, monkeypatch):
    real_stat = os.stat
    staging = tmp_path / "elsewhere"
    staging.mkdir()

    class Other(object):
        def __init__(self, st):
            self.st_dev = st.st_dev + 1

    monkeypatch.setattr(owned_file.os, "stat", lambda p, *a, **k: Other(real_stat(p)) if str(p) == str(staging)
                        else real_stat(p, *a, **k))
    renamed = []
    real_rename = os.rename
    monkeypatch.setattr(owned_file.os, "rename", lambda src, dst: renamed.append(src) or real_rename(src, dst))
    owned_file.write(str(target), "new\n", tmp_dir=str(staging))
    assert target.read_bytes() == b"new\n" and os.listdir(staging) == []
    assert [os.path.dirname(src) for src in renamed] == [str(target.parent)]


def test_a_mount_between_staging_and_file_is_crossed_beside_the_file(target, tmp_path, monkeypatch):
    """A bind mount or a container volume (the real test nodes' /var/lib/kubelet) shares st_dev with the staging
    directory, and rename(2) still refuses with EXDEV: the file is staged again beside the target."""
    real_rename = os.rename
    staging = owned_file.staging_dir(str(target))
    renamed = []

    def rename(src, dst):
        renamed.append(os.path.dirname(src))
        if os.path.dirname(src) == staging:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_rename(src, dst)

    monkeypatch.setattr(owned_file.os, "rename", rename)
    res = owned_file.write(str(target), "new\n", backup_dir=str(tmp_path / "b"), backup_keep=3)
    assert renamed == [staging, str(target.parent)]
    assert target.read_bytes() == b"new\n" and _mode(target) == 0o640
    assert sorted(os.listdir(target.parent)) == ["kube-apiserver.yaml"] and os.listdir(staging) == []
    assert os.listdir(tmp_path / "b") == [os.path.basename(res["backup_path"])]


# Every place that replaces a file on a node goes through owned_file.write. The controller-side report writers
# (action plugins) write on the controller, not on a node, and are listed apart.
NODE_WRITE_SITES = {"plugins/module_utils/owned_file.py"}
CONTROLLER_WRITE_SITES = {"plugins/plugin_utils/report_files.py"}
WRITE_RE = re.compile(r"os\.rename\(|os\.replace\(|atomic_move\(|mkstemp\(|NamedTemporaryFile\(|open\([^)]*[\"']w")


def test_the_write_sites_are_the_listed_ones():
    sites = set()
    for top in ("plugins/module_utils", "plugins/modules", "plugins/action", "plugins/filter", "plugins/plugin_utils"):
        for name in sorted(os.listdir(os.path.join(ROOT, top))):
            if name.endswith(".py"):
                with open(os.path.join(ROOT, top, name)) as handle:
                    if WRITE_RE.search(handle.read()):
                        sites.add("%s/%s" % (top, name))
    assert sites - CONTROLLER_WRITE_SITES == NODE_WRITE_SITES, sorted(sites)
