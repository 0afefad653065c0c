# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/etcd_flags.py."""
from __future__ import annotations

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import etcd_flags as ef

HARDENING = ("cert-file", "key-file", "client-cert-auth", "trusted-ca-file", "peer-cert-file", "peer-key-file",
             "peer-client-cert-auth", "peer-trusted-ca-file", "auto-tls", "peer-auto-tls", "listen-client-urls",
             "listen-peer-urls", "listen-metrics-urls", "auto-compaction-retention", "quota-backend-bytes")

WEAK = """# fixture
ETCD_NAME=e1
ETCD_DATA_DIR=/var/lib/etcd/default
ETCD_LISTEN_CLIENT_URLS=https://0.0.0.0:2379
ETCD_CERT_FILE=/etc/etcd/pki/server.crt
ETCD_LISTEN_METRICS_URLS=http://0.0.0.0:2381
"""


@pytest.mark.parametrize("version,expected", [("3.4.23", "3.4"), ("v3.5.21-0", "3.5"), ("3.6", "3.6")])
def test_minor(version, expected):
    assert ef.minor(version) == expected


@pytest.mark.parametrize("version", ["3.3.25", "1.33", "latest", ""])
def test_minor_refuses_unknown(version):
    with pytest.raises(ValueError):
        ef.minor(version)


def test_parse_version_output():
    out = "etcd Version: 3.4.23\nGit SHA: Not provided (use ./build instead of go build)\nGo Version: go1.19.8\n"
    assert ef.parse_version_output(out) == "3.4.23"
    assert ef.parse_version_output("nonsense") is None


@pytest.mark.parametrize("minor", ef.SUPPORTED_MINORS)
def test_hardening_flags_exist_everywhere(minor):
    known = ef.flags_for(minor)
    for name in HARDENING:
        assert name in known, (minor, name)
        assert ef.check_flag(minor, name) is None


def test_version_specific_flags_are_refused_with_the_reason():
    assert "added in etcd 3.5" in ef.check_flag("3.4.23", "tls-min-version")
    assert ef.check_flag("3.5.21", "tls-min-version") is None
    assert "added in etcd 3.6" in ef.check_flag("3.5", "--feature-gates")
    assert ef.check_flag("3.6.4", "feature-gates") is None
    assert "removed in etcd 3.5" in ef.check_flag("3.5", "log-package-levels")
    assert ef.check_flag("3.4", "log_package_levels") is None
    assert "removed in etcd 3.6" in ef.check_flag("3.6", "enable-v2")
    assert "not an etcd flag" in ef.check_flag("3.4", "insecure-port")


def test_values_are_checked_by_type():
    assert ef.check_value("3.4", "client-cert-auth", True) is None
    assert "boolean" in ef.check_value("3.4", "client-cert-auth", "yes")
    assert ef.check_value("3.4", "quota-backend-bytes", 8589934592) is None
    assert "integer" in ef.check_value("3.4", "quota-backend-bytes", "8GB")
    assert "non-negative" in ef.check_value("3.4", "snapshot-count", "-1")
    assert ef.check_value("3.4", "experimental-watch-progress-notify-interval", "5s") is None
    assert "duration" in ef.check_value("3.4", "grpc-keepalive-timeout", "5")
    assert ef.check_value("3.4", "listen-client-urls", ["https://127.0.0.1:2379", "https://10.0.0.1:2379"]) is None
    assert "'10.0.0.1:2379'" in ef.check_value("3.4", "listen-client-urls", "https://127.0.0.1:2379,10.0.0.1:2379")
    assert ef.check_value("3.4", "logger", "capnslog") is None
    assert "accepts zap" in ef.check_value("3.5", "logger", "capnslog")
    assert "added in" in ef.check_value("3.4", "tls-min-version", "TLS1.2")


def test_env_names():
    assert ef.env_name("--client-cert-auth") == "ETCD_CLIENT_CERT_AUTH"
    assert ef.flag_of_env("ETCD_PEER_AUTO_TLS") == "peer-auto-tls"
    assert ef.flag_of_env("DAEMON_ARGS") is None


def test_edit_env_sets_in_place_appends_and_removes():
    edit = ef.edit_env(WEAK, {"listen-client-urls": "https://127.0.0.1:2379,https://10.0.0.1:2379",
                              "client-cert-auth": True, "quota-backend-bytes": 8589934592},
                       ["listen-metrics-urls"], "3.4.23")
    assert edit.errors == [] and edit.changed
    lines = edit.text.splitlines()
    assert lines[0] == "# fixture"
    assert lines[3] == "ETCD_LISTEN_CLIENT_URLS=https://127.0.0.1:2379,https://10.0.0.1:2379"
    assert "ETCD_LISTEN_METRICS_URLS=http://0.0.0.0:2381" not in lines
    assert lines[-2:] == ["ETCD_CLIENT_CERT_AUTH=true", "ETCD_QUOTA_BACKEND_BYTES=8589934592"]
    assert edit.flags_changed["added"] == {"client-cert-auth": "true", "quota-backend-bytes": "8589934592"}
    assert edit.flags_changed["removed"] == {"listen-metrics-urls": "http://0.0.0.0:2381"}
    assert edit.flags_changed["changed"]["listen-client-urls"]["before"] == "https://0.0.0.0:2379"
    again = ef.edit_env(edit.text, {"client-cert-auth": "true"}, ["listen-metrics-urls"], "3.4.23")
    assert again.changed is False and again.text == edit.text


def test_edit_env_refuses_unknown_flags_and_command_line_conflicts():
    edit = ef.edit_env(WEAK, {"tls-min-version": "TLS1.2"}, [], "3.4.23")
    assert edit.text is None and "added in etcd 3.5" in edit.errors[0]
    text = WEAK + 'DAEMON_ARGS="--client-cert-auth=false --snapshot-count 10000"\n'
    assert ef.effective_flags(text)["snapshot-count"] == "10000"
    edit = ef.edit_env(text, {"client-cert-auth": True}, [], "3.4.23")
    assert edit.text is None and "DAEMON_ARGS" in edit.errors[0] and "ETCD_CLIENT_CERT_AUTH" in edit.errors[0]
    edit = ef.edit_env("ETCD_NO_SUCH_THING=1\n", {"client-cert-auth": True}, [], "3.4")
    assert "ETCD_NO_SUCH_THING" in edit.errors[0]


def test_edit_env_quotes_values_with_blanks_and_reads_quotes():
    edit = ef.edit_env('ETCD_NAME="e1"\n', {"cipher-suites": "A B"}, [], "3.4")
    assert 'ETCD_CIPHER_SUITES="A B"' in edit.text
    assert ef.parse_env(edit.text) == {"ETCD_NAME": "e1", "ETCD_CIPHER_SUITES": "A B"}


def test_file_paths():
    assert ef.file_paths({"cert-file": "/a", "name": "x", "key-file": ""}) == [("cert-file", "/a")]
