# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/encryption_config.py: the key is kept, never regenerated, rotated on request."""
from __future__ import annotations

import base64

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import encryption_config as ec

K32 = base64.b64encode(b"a" * 32).decode()
K32B = base64.b64encode(b"b" * 32).decode()
K16 = base64.b64encode(b"c" * 16).decode()
K31 = base64.b64encode(b"d" * 31).decode()


def plan(existing=None, provider="aescbc", **kw):
    return ec.plan(existing or {}, provider, parse_yaml=yaml.safe_load, **kw)


def text(config):
    return yaml.safe_dump(config)


def first_key(result):
    prov = result["config"]["resources"][0]["providers"][0]
    kind = list(prov)[0]
    return kind, prov[kind]


@pytest.mark.parametrize("provider,key,ok", [
    ("aescbc", K32, True), ("aescbc", K16, True), ("aescbc", base64.b64encode(b"x" * 24).decode(), True),
    ("aescbc", K31, False), ("secretbox", K32, True), ("secretbox", K16, False),
    ("aescbc", "not base64!", False), ("aescbc", "", False), ("aescbc", K32[:-1], False), ("kms", K32, False),
])
def test_key_problem(provider, key, ok):
    problem = ec.key_problem(provider, key)
    assert (problem is None) is ok, problem
    if problem:
        assert key not in problem or not key, "a message never quotes the key"


def test_wrong_length_names_the_sizes():
    assert ec.key_problem("aescbc", K31) == "the aescbc key is 31 bytes long; aescbc needs 16 or 24 or 32 bytes"
    assert "needs 32 bytes" in ec.key_problem("secretbox", K16)


def test_generated_key_used_only_when_no_node_has_one():
    result = plan({"cp1": None, "cp2": None}, generated_key=K32)
    assert result["errors"] == [] and result["source"] == "generated"
    kind, body = first_key(result)
    assert kind == "aescbc" and body["keys"] == [{"name": ec.key_name(K32), "secret": K32}]
    assert result["config"]["resources"][0]["providers"][-1] == {"identity": {}}
    assert result["config"]["resources"][0]["resources"] == ["secrets"]


def test_existing_key_is_reused_and_the_plan_is_stable():
    first = plan({"cp1": None}, generated_key=K32)
    again = plan({"cp1": text(first["config"]), "cp2": None}, generated_key=K32B)
    assert again["source"] == "existing" and again["errors"] == []
    assert again["config"] == first["config"], "a rerun (even with another generated key) changes nothing"


def test_nodes_with_different_keys_are_refused():
    one = plan({}, generated_key=K32)["config"]
    two = plan({}, generated_key=K32B)["config"]
    result = plan({"cp1": text(one), "cp2": text(two)}, generated_key=K32)
    assert result["config"] is None
    assert "hold different encryption keys" in result["errors"][0]
    assert K32 not in result["errors"][0] and K32B not in result["errors"][0]


def test_user_key_rotation_keeps_the_old_key_as_secondary_and_is_idempotent():
    old = plan({}, generated_key=K32)["config"]
    rotated = plan({"cp1": text(old)}, user_key=K32B)
    assert rotated["rotated"] is True and rotated["source"] == "user"
    kind, body = first_key(rotated)
    assert [k["secret"] for k in body["keys"]] == [K32B, K32]
    rerun = plan({"cp1": text(rotated["config"])}, user_key=K32B)
    assert rerun["rotated"] is False and rerun["config"] == rotated["config"]


def test_rotation_without_keeping_old_keys_drops_them():
    old = plan({}, generated_key=K32)["config"]
    result = plan({"cp1": text(old)}, user_key=K32B, keep_old_keys=False)
    kind, body = first_key(result)
    assert [k["secret"] for k in body["keys"]] == [K32B]


def test_same_user_key_as_on_the_nodes_keeps_its_name():
    existing = {"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration",
                "resources": [{"resources": ["secrets"], "providers": [
                    {"aescbc": {"keys": [{"name": "key1", "secret": K32}]}}, {"identity": {}}]}]}
    result = plan({"cp1": text(existing)}, user_key=K32)
    assert result["config"] == existing and result["key_name"] == "key1" and not result["rotated"]


def test_wrong_user_key_length_is_refused():
    result = plan({}, user_key=K31)
    assert result["config"] is None and "31 bytes" in result["errors"][0]


def test_switch_to_secretbox_keeps_the_aescbc_key_for_reading():
    old = plan({}, generated_key=K16)["config"]
    result = plan({"cp1": text(old)}, provider="secretbox", user_key=K32)
    providers = result["config"]["resources"][0]["providers"]
    assert [list(p)[0] for p in providers] == ["secretbox", "aescbc", "identity"]


def test_kms_v2_keeps_the_local_key_as_secondary():
    old = plan({}, generated_key=K32)["config"]
    result = plan({"cp1": text(old)}, provider="kms",
                  kms={"name": "vault", "endpoint": "unix:///var/run/kmsplugin/socket.sock"})
    providers = result["config"]["resources"][0]["providers"]
    assert providers[0] == {"kms": {"apiVersion": "v2", "name": "vault",
                                    "endpoint": "unix:///var/run/kmsplugin/socket.sock", "timeout": "3s"}}
    assert list(providers[1]) == ["aescbc"] and providers[-1] == {"identity": {}}
    assert plan({}, provider="kms", kms={"name": "x"})["errors"] == ["the kms provider needs endpoint"]


def test_identity_first_config_counts_as_no_key():
    existing = {"kind": "EncryptionConfiguration",
                "resources": [{"resources": ["secrets"], "providers": [{"identity": {}}]}]}
    result = plan({"cp1": text(existing)}, generated_key=K32)
    assert result["source"] == "generated"


def test_unreadable_existing_file_and_bad_inputs_are_refused():
    assert "cannot be read" in plan({"cp1": "kind: Pod\n"}, generated_key=K32)["errors"][0]
    assert "not one of" in plan({}, provider="identity")["errors"][0]
    assert "must include secrets" in plan({}, generated_key=K32, resources=["configmaps"])["errors"][0]


def test_key_name_is_stable_and_distinct():
    assert ec.key_name(K32) == ec.key_name(K32 + "\n")
    assert ec.key_name(K32) != ec.key_name(K32B)
    assert ec.key_name(K32).startswith("key-") and len(ec.key_name(K32)) == 12
