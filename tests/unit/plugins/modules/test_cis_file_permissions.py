# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import os
import stat

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.secure_cluster.k8s.plugins.modules import cis_file_permissions as mod


def run_module(capsys, args, check_mode=False, diff=False):
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            mod.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_documentation_matches_argument_spec():
    doc = yaml.safe_load(mod.DOCUMENTATION)
    assert doc["module"] == "cis_file_permissions"
    assert doc["author"] == ["secure_cluster.k8s maintainers (@secure-cluster)"]
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["attributes"]["diff_mode"]["support"] == "full"
    assert set(doc["options"]) == set(mod.ARGUMENT_SPEC)
    assert set(doc["options"]["entries"]["suboptions"]) == set(mod.ARGUMENT_SPEC["entries"]["options"])
    assert isinstance(yaml.safe_load(mod.EXAMPLES), list)
    assert {"results", "diff"} <= set(yaml.safe_load(mod.RETURN))


def test_check_mode_then_real_run(tmp_path, capsys):
    path = tmp_path / "kube-scheduler.yaml"
    path.write_text("x")
    os.chmod(path, 0o644)
    args = {"entries": [{"id": "1.1.5", "paths": [str(path)], "mode": "0600"},
                        {"id": "1.1.6", "paths": [str(path)], "owner": str(os.getuid()),
                         "group": str(os.getgid())}]}
    code, out = run_module(capsys, args, check_mode=True, diff=True)
    assert code == 0
    assert out["changed"] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert [r["id"] for r in out["results"]] == ["1.1.5", "1.1.6"]
    assert out["results"][0]["changed"][0]["after"]["mode"] == "0600"
    assert out["results"][1]["changed"] == []
    assert "mode 0644" in out["diff"]["before"]
    code, out = run_module(capsys, args)
    assert code == 0 and out["changed"] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    code, out = run_module(capsys, args)
    assert out["changed"] is False


def test_refusal_changes_nothing(tmp_path, capsys):
    path = tmp_path / "a.conf"
    path.write_text("x")
    os.chmod(path, 0o644)
    code, out = run_module(capsys, {"entries": [
        {"id": "1.1.13", "paths": [str(path)], "mode": "0600"},
        {"id": "1.1.14", "paths": ["relative/admin.conf"], "owner": "root"}]})
    assert code == 1
    assert out["failed"] is True
    assert out["msg"].startswith("refused, nothing changed: entry 1.1.14: relative/admin.conf is a relative path")
    assert out["changed"] is False
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_unknown_entry_key_is_rejected(tmp_path, capsys):
    code, out = run_module(capsys, {"entries": [{"id": "1", "paths": [str(tmp_path)], "mode": "0600",
                                                 "follow": True}]})
    assert code == 1
    assert "follow" in out["msg"]
