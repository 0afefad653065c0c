# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/file_permissions.py on real files in a temporary tree."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import file_permissions as fp

UID = os.getuid()
GID = os.getgid()
OTHER_UID = UID + 4242
OTHER_GID = GID + 4242


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def make(path, mode=0o644, content="x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    os.chmod(path, mode)
    return str(path)


@pytest.fixture(name="pki")
def pki_tree(tmp_path):
    root = tmp_path / "pki"
    files = {
        "ca.crt": 0o644, "ca.key": 0o600, "apiserver.crt": 0o644, "apiserver.key": 0o640,
        "etcd/ca.crt": 0o644, "etcd/ca.key": 0o400, "etcd/server.crt": 0o755,
    }
    for name, mode in files.items():
        make(root / name, mode)
    return root


@pytest.mark.parametrize("value, expected", [
    ("0600", 0o600), ("600", 0o600), ("0o644", 0o644), (384, 0o600), ("7777", 0o7777), ("0", 0),
])
def test_parse_mode(value, expected):
    assert fp.parse_mode(value) == expected


@pytest.mark.parametrize("value", ["u+rw", "0800", "", "17777", True, -1, "rw-------"])
def test_parse_mode_refuses(value):
    with pytest.raises(ValueError):
        fp.parse_mode(value)


def test_mode_only_removes_bits(pki):
    out = fp.run([{"id": "1.1.20", "paths": [str(pki / "**" / "*.crt")], "mode": "0600"}])
    assert out["changed"] is True
    assert mode_of(pki / "ca.crt") == 0o600
    assert mode_of(pki / "etcd" / "server.crt") == 0o600
    res = out["results"][0]
    assert res["id"] == "1.1.20"
    assert res["paths"] == sorted(str(pki / n) for n in ("ca.crt", "apiserver.crt", "etcd/ca.crt", "etcd/server.crt"))
    assert [c["path"] for c in res["changed"]] == res["paths"]
    assert res["changed"][0]["before"]["mode"] == "0644"
    assert res["changed"][0]["after"]["mode"] == "0600"
    assert res["missing"] == []
    # Stricter modes are kept: 0400 under a 0600 maximum stays 0400.
    out = fp.run([{"id": "1.1.21", "paths": [str(pki / "**" / "*.key")], "mode": "0600"}])
    assert mode_of(pki / "etcd" / "ca.key") == 0o400
    assert mode_of(pki / "apiserver.key") == 0o600
    assert [c["path"] for c in out["results"][0]["changed"]] == [str(pki / "apiserver.key")]


def test_second_run_changes_nothing(pki):
    entries = [{"id": "1.1.20", "paths": [str(pki / "**" / "*.crt")], "mode": "0600"},
               {"id": "1.1.19", "paths": [str(pki)], "owner": str(UID), "group": str(GID), "recurse": True}]
    assert fp.run(entries)["changed"] is True
    again = fp.run(entries)
    assert again["changed"] is False
    assert all(r["changed"] == [] for r in again["results"])
    assert again["diff"]["before"] == again["diff"]["after"] == ""


def test_check_mode_predicts_and_changes_nothing(pki):
    entries = [{"id": "1.1.20", "paths": [str(pki / "*.crt")], "mode": "0600"}]
    predicted = fp.run(entries, check_mode=True)
    assert mode_of(pki / "ca.crt") == 0o644
    assert predicted["changed"] is True
    real = fp.run(entries)
    assert real["results"] == predicted["results"]
    assert real["diff"] == predicted["diff"]
    assert str(pki / "ca.crt") + ": mode 0644" in predicted["diff"]["before"]
    assert str(pki / "ca.crt") + ": mode 0600" in predicted["diff"]["after"]


def test_missing_is_reported_or_fails(tmp_path):
    present = make(tmp_path / "a.conf", 0o644)
    entries = [{"id": "1.1.13", "paths": [present, str(tmp_path / "nope.conf"), str(tmp_path / "*.kubeconfig")],
                "mode": "0600"}]
    out = fp.run(entries, check_mode=True)
    assert out["results"][0]["missing"] == [str(tmp_path / "nope.conf"), str(tmp_path / "*.kubeconfig")]
    assert out["results"][0]["paths"] == [present]
    with pytest.raises(fp.FilePermissionsError) as exc:
        fp.run(entries, missing="fail")
    assert "nope.conf" in str(exc.value)
    assert mode_of(present) == 0o644


def test_relative_and_dotdot_paths_are_refused(tmp_path):
    with pytest.raises(fp.FilePermissionsError) as exc:
        fp.run([{"id": "1.1.1", "paths": ["etc/kubernetes/admin.conf"], "mode": "0600"},
                {"id": "1.1.2", "paths": [str(tmp_path / ".." / "x")], "mode": "0600"}])
    assert "relative path" in exc.value.problems[0]
    assert "'..'" in exc.value.problems[1]


def test_entry_needs_something_to_set(tmp_path):
    with pytest.raises(fp.FilePermissionsError, match="at least one of mode, owner, group"):
        fp.run([{"id": "1.1.1", "paths": [str(tmp_path)]}])


def test_unknown_owner_is_refused(tmp_path):
    with pytest.raises(fp.FilePermissionsError, match="owner 'no-such-user-sck8s' does not exist"):
        fp.run([{"id": "1.1.2", "paths": [str(tmp_path)], "owner": "no-such-user-sck8s"}])


def test_strictest_mode_wins_in_any_order(tmp_path):
    path = make(tmp_path / "admin.conf", 0o666)
    loose = {"id": "a", "paths": [path], "mode": "0644"}
    strict = {"id": "b", "paths": [str(tmp_path / "*.conf")], "mode": "0600"}
    for entries in ([loose, strict], [strict, loose]):
        os.chmod(path, 0o666)
        out = fp.run(entries)
        assert mode_of(path) == 0o600
        # Both entries asked for a mode change, both report the same final state.
        assert [r["changed"][0]["after"]["mode"] for r in out["results"]] == ["0600", "0600"]


def test_modes_are_intersected_not_minimum(tmp_path):
    path = make(tmp_path / "f", 0o777)
    fp.run([{"id": "a", "paths": [path], "mode": "0750"}, {"id": "b", "paths": [path], "mode": "0705"}])
    assert mode_of(path) == 0o700


def test_conflicting_owners_fail_before_any_change(tmp_path):
    first = make(tmp_path / "first", 0o644)
    path = make(tmp_path / "shared", 0o644)
    entries = [{"id": "x", "paths": [first], "mode": "0600"},
               {"id": "a", "paths": [path], "owner": str(UID)},
               {"id": "b", "paths": [str(tmp_path / "sh*")], "owner": str(OTHER_UID), "mode": "0600"}]
    with pytest.raises(fp.FilePermissionsError) as exc:
        fp.run(entries)
    assert exc.value.problems[0].startswith(path + ": conflicting owner, entries a want")
    assert "entry b wants" in exc.value.problems[0]
    assert mode_of(first) == 0o644
    assert mode_of(path) == 0o644


def test_same_owner_by_name_and_number_agree(tmp_path):
    path = make(tmp_path / "f", 0o644)
    import pwd
    name = pwd.getpwuid(UID).pw_name
    out = fp.run([{"id": "a", "paths": [path], "owner": name}, {"id": "b", "paths": [path], "owner": str(UID)}])
    assert out["changed"] is False


@pytest.mark.skipif(os.geteuid() != 0, reason="changing ownership needs root")
def test_ownership_recursive_and_diff(pki):
    os.chown(pki / "etcd" / "ca.key", OTHER_UID, OTHER_GID)
    out = fp.run([{"id": "1.1.19", "paths": [str(pki)], "owner": str(UID), "group": str(GID), "recurse": True}])
    assert os.lstat(pki / "etcd" / "ca.key").st_uid == UID
    change = out["results"][0]["changed"]
    assert [c["path"] for c in change] == [str(pki / "etcd" / "ca.key")]
    assert change[0]["before"]["owner"] == str(OTHER_UID)
    assert change[0]["before"]["mode"] == change[0]["after"]["mode"] == "0400"
    assert str(OTHER_UID) in out["diff"]["before"]
    assert str(pki / "etcd") in out["results"][0]["paths"]


@pytest.mark.skipif(os.geteuid() != 0, reason="changing ownership needs root")
def test_chown_keeps_setgid_allowed_by_mode(tmp_path):
    path = make(tmp_path / "f", 0o644)
    os.chown(path, OTHER_UID, OTHER_GID)
    os.chmod(path, 0o2755)
    fp.run([{"id": "a", "paths": [path], "owner": str(UID), "group": str(GID), "mode": "2755"}])
    assert mode_of(path) == 0o2755
    assert os.lstat(path).st_uid == UID


def test_symlinks_are_never_followed(tmp_path):
    outside = tmp_path / "outside"
    secret = make(outside / "secret.crt", 0o644)
    tree = tmp_path / "pki"
    make(tree / "a.crt", 0o644)
    os.symlink(outside, tree / "linked")
    os.symlink(secret, tree / "b.crt")
    out = fp.run([{"id": "1.1.20", "paths": [str(tree / "**" / "*.crt")], "mode": "0600"},
                  {"id": "tree", "paths": [str(tree)], "mode": "0700", "recurse": True}])
    assert mode_of(secret) == 0o644
    assert mode_of(tree / "a.crt") == 0o600
    assert str(tree / "linked" / "secret.crt") not in out["results"][0]["paths"]
    # The symlink itself is matched but gets no mode.
    assert str(tree / "b.crt") in out["results"][0]["paths"]
    assert str(tree / "b.crt") not in [c["path"] for c in out["results"][0]["changed"]]
    assert str(tree / "linked") in out["results"][1]["paths"]
    assert all("secret" not in p for p in out["results"][1]["paths"])


@pytest.mark.skipif(os.geteuid() != 0, reason="changing ownership needs root")
def test_symlink_ownership_is_lchown(tmp_path):
    target = make(tmp_path / "target", 0o644)
    link = tmp_path / "link"
    os.symlink(target, link)
    os.lchown(link, OTHER_UID, OTHER_GID)
    out = fp.run([{"id": "a", "paths": [str(link)], "owner": str(UID), "group": str(GID), "mode": "0600"}])
    assert os.lstat(link).st_uid == UID
    assert mode_of(target) == 0o644
    assert out["results"][0]["changed"][0]["after"]["mode"] is None
    assert "symlink" in out["diff"]["after"]


def test_file_type_filters_globs_and_refuses_literals(tmp_path):
    make(tmp_path / "d.crt" / "inner", 0o644)
    os.chmod(tmp_path / "d.crt", 0o755)
    real = make(tmp_path / "a.crt", 0o644)
    out = fp.run([{"id": "a", "paths": [str(tmp_path / "*.crt")], "mode": "0600", "file_type": "file"}])
    assert out["results"][0]["paths"] == [real]
    assert mode_of(tmp_path / "d.crt") == 0o755
    with pytest.raises(fp.FilePermissionsError, match="is a directory, not a file"):
        fp.run([{"id": "b", "paths": [str(tmp_path / "d.crt")], "mode": "0600", "file_type": "file"}])


def test_recurse_with_file_type_file_leaves_directories(tmp_path):
    root = tmp_path / "etcd"
    make(root / "member" / "snap" / "db", 0o644)
    os.chmod(root / "member", 0o755)
    out = fp.run([{"id": "x", "paths": [str(root)], "mode": "0600", "recurse": True, "file_type": "file"}])
    assert mode_of(root / "member" / "snap" / "db") == 0o600
    assert mode_of(root / "member") == 0o755
    assert str(root) not in out["results"][0]["paths"]


def test_hidden_files_are_not_globbed(tmp_path):
    hidden = make(tmp_path / ".x.conf", 0o644)
    out = fp.run([{"id": "a", "paths": [str(tmp_path / "*.conf")], "mode": "0600"}])
    assert mode_of(hidden) == 0o644
    assert out["results"][0]["missing"] == [str(tmp_path / "*.conf")]


def test_apply_failure_reports_what_was_changed(tmp_path, monkeypatch):
    first = make(tmp_path / "a", 0o644)
    second = make(tmp_path / "b", 0o644)
    planned = fp.plan([{"id": "a", "paths": [str(tmp_path / "*")], "mode": "0600"}])
    real_chmod = os.chmod

    def failing_chmod(path, mode):
        if path == second:
            raise PermissionError(1, "Operation not permitted")
        real_chmod(path, mode)

    monkeypatch.setattr(fp.os, "chmod", failing_chmod)
    with pytest.raises(fp.FilePermissionsError) as exc:
        fp.apply(planned)
    assert exc.value.changed == [first]
    assert "cannot change " + second in str(exc.value)
