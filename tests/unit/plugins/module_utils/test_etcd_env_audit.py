# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An external etcd (Debian's etcd.service) configured through ETCD_* variables is collected and judged like
etcd does it: flags plus environment, command line first."""
from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import etcd_flags
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_eval import evaluate
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import systemd_exec_argv
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node

HERE = os.path.dirname(__file__)
CATALOG_PATH = os.path.join(HERE, "..", "..", "..", "..", "catalog", "cis_kubernetes_v1.12.yml")
ETCD_PID = 4001
SECTION_2 = ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7"]
SECRETS = ("hunter2-etcdctl", "hunter2-s3", "cluster-token-secret", "hunter2-discovery")


def fixture(name):
    with open(os.path.join(HERE, "fixtures", name)) as handle:
        return handle.read()


def environ_of(env_text, daemon_args=""):
    """The environment systemd gives etcd: the unit's Environment=, the env file, plus what any process has."""
    env = {"PATH": "/usr/bin:/bin", "INVOCATION_ID": "0123abcd", "ETCD_NAME": "e1",
           "ETCD_DATA_DIR": "/var/lib/etcd/default", "DAEMON_ARGS": daemon_args}
    env.update(etcd_flags.parse_env(env_text))
    return env


def external_member(root, env_text=None, environ=None, daemon_args=""):
    """A worker-shaped node that is also an external etcd member run by systemd."""
    kubeadm_node.build_node(root, role="worker")
    kubeadm_node.write(root, "/etc/hostname", "e1\n", 0o644)
    env_text = fixture("etcd-external.env") if env_text is None else env_text
    if daemon_args:
        env_text = env_text.replace("DAEMON_ARGS=\n", 'DAEMON_ARGS="%s"\n' % daemon_args)
    kubeadm_node.write(root, "/lib/systemd/system/etcd.service", fixture("debian-etcd.service"), 0o644)
    kubeadm_node.write(root, "/etc/systemd/system/multi-user.target.wants/etcd.service",
                       fixture("debian-etcd.service"), 0o644)
    kubeadm_node.write(root, "/etc/default/etcd", env_text, 0o644)
    kubeadm_node.mkdir(root, "/var/lib/etcd/default", 0o700)
    environ = environ_of(env_text, daemon_args) if environ is None else environ
    kubeadm_node.add_process(root, ETCD_PID, ["/usr/bin/etcd"] + daemon_args.split())
    kubeadm_node.write(root, "/proc/%d/environ" % ETCD_PID,
                       "".join("%s=%s\0" % item for item in environ.items()), 0o400)
    return root


@pytest.fixture(scope="module")
def catalog():
    with open(CATALOG_PATH) as handle:
        return yaml.safe_load(handle)


def audit(facts, catalog, ids=None):
    result = evaluate(facts, catalog, host="e1", ids=ids or SECTION_2, parse_yaml=yaml.safe_load)
    return dict((c["id"], c) for c in result["controls"]), result


# -- collection ---------------------------------------------------------------------------------------------------
def test_specifiers_of_debian_unit_are_expanded():
    rebuilt = systemd_exec_argv([fixture("debian-etcd.service")], {"/etc/default/etcd": "DAEMON_ARGS=--x=1\n"},
                                {"p": "etcd", "H": "e1"})
    assert rebuilt["environment_files"] == ["/etc/default/etcd"]
    assert rebuilt["environment"]["ETCD_NAME"] == "e1"
    assert rebuilt["argv"] == ["/usr/bin/etcd", "--x=1"]
    assert systemd_exec_argv(["[Service]\nEnvironment=A=100%%\nExecStart=/bin/x $A\n"], {}, {})["argv"] == \
        ["/bin/x", "100%%"]


def test_collects_running_environ_and_unit_of_external_member(tmp_path):
    facts = collect(root=str(external_member(tmp_path)))
    proc = facts["processes"]["etcd"][0]
    assert proc["environ"]["ETCD_CERT_FILE"] == "/etc/etcd/pki/server.crt"
    service = facts["etcd"]["service"]
    assert service["unit"] == "/lib/systemd/system/etcd.service" and service["enabled"] is True
    assert service["exec_argv"] == ["/usr/bin/etcd"]
    assert service["environment_files"] == ["/etc/default/etcd"]
    assert service["missing_environment_files"] == []
    assert service["environment"]["ETCD_NAME"] == "e1"  # the env file wins over the unit's Environment=%H
    assert service["environment"]["ETCD_CLIENT_CERT_AUTH"] == "true"
    assert facts["etcd"]["data_dir"] == "/var/lib/etcd/default"
    assert facts["etcd"]["data_dir_source"] == "environ"
    assert facts["file_sets"]["etcd_data_dir"] == ["/var/lib/etcd/default"]


def test_non_etcd_variables_and_secrets_never_leave_the_node(tmp_path):
    environ = environ_of(fixture("etcd-external.env"))
    environ.update({"ETCD_DISCOVERY": "https://discovery.etcd.io/hunter2-discovery", "ETCD_UNKNOWN": "x",
                    "ETCD_LISTEN_METRICS_URLS": "http://user:hunter2-s3@127.0.0.1:2381"})
    facts = collect(root=str(external_member(tmp_path, environ=environ)))
    text = repr(facts)
    for secret in SECRETS:
        assert secret not in text, secret
    for env in (facts["processes"]["etcd"][0]["environ"], facts["etcd"]["service"]["environment"]):
        assert env and all(name.startswith("ETCD_") for name in env)
        assert "PATH" not in env and "ETCDCTL_PASSWORD" not in env and "DAEMON_ARGS" not in env
        assert env["ETCD_INITIAL_CLUSTER_TOKEN"] == etcd_flags.REDACTED
    running = facts["processes"]["etcd"][0]["environ"]
    assert running["ETCD_DISCOVERY"] == running["ETCD_UNKNOWN"] == etcd_flags.REDACTED
    assert running["ETCD_LISTEN_METRICS_URLS"] == etcd_flags.REDACTED
    assert "ETCD_TRUSTED_CA_FILE" in running and "etc/etcd/pki/ca.crt" in running["ETCD_TRUSTED_CA_FILE"]


def test_disabled_unused_etcd_package_is_not_an_etcd_node(tmp_path, catalog):
    kubeadm_node.build_node(tmp_path, role="worker")
    kubeadm_node.write(tmp_path, "/lib/systemd/system/etcd.service", fixture("debian-etcd.service"), 0o644)
    facts = collect(root=str(tmp_path))
    assert facts["etcd"]["service"]["enabled"] is False
    assert facts["etcd"]["data_dir_source"] == "default"
    result = evaluate(facts, catalog, host="w1", parse_yaml=yaml.safe_load)
    assert "etcd" not in result["node"]["detected_targets"]


# -- evaluation ---------------------------------------------------------------------------------------------------
def test_env_only_config_passes_and_says_where(tmp_path, catalog):
    facts = collect(root=str(external_member(tmp_path)))
    controls, result = audit(facts, catalog)
    assert "etcd" in result["node"]["detected_targets"]
    for cid in SECTION_2:
        assert controls[cid]["status"] == "PASS", (cid, controls[cid])
        assert controls[cid]["drift"] is False
    assert controls["2.1"]["actual"]["running"] == \
        "ETCD_CERT_FILE=/etc/etcd/pki/server.crt; ETCD_KEY_FILE=/etc/etcd/pki/server.key"
    assert controls["2.1"]["actual"]["configured"] == controls["2.1"]["actual"]["running"]
    assert controls["2.2"]["actual"]["configured"] == "ETCD_CLIENT_CERT_AUTH=true"
    assert controls["2.1"]["sources"]["configured"].startswith("systemd unit /lib/systemd/system/etcd.service")


def test_weak_env_fails(tmp_path, catalog):
    weak = fixture("etcd-external.env").replace("ETCD_CLIENT_CERT_AUTH=true", "ETCD_CLIENT_CERT_AUTH=false")
    weak = weak.replace("ETCD_PEER_AUTO_TLS=false", "ETCD_PEER_AUTO_TLS=true")
    controls, _result = audit(collect(root=str(external_member(tmp_path, env_text=weak))), catalog)
    assert controls["2.2"]["status"] == "FAIL"
    assert controls["2.2"]["actual"]["running"] == "ETCD_CLIENT_CERT_AUTH=false"
    assert controls["2.6"]["status"] == "FAIL"
    assert controls["2.1"]["status"] == "PASS"


def test_flag_overrides_env(tmp_path, catalog):
    # DAEMON_ARGS puts --client-cert-auth on the command line; the env file no longer sets it (etcd would refuse
    # to start with both), the command line is what counts and is labelled as a flag
    env_text = fixture("etcd-external.env").replace("ETCD_CLIENT_CERT_AUTH=true\n", "")
    facts = collect(root=str(external_member(tmp_path, env_text=env_text, daemon_args="--client-cert-auth=true")))
    assert facts["etcd"]["service"]["exec_argv"] == ["/usr/bin/etcd", "--client-cert-auth=true"]
    controls, _result = audit(facts, catalog)
    assert controls["2.2"]["status"] == "PASS"
    assert controls["2.2"]["actual"] == {"running": "--client-cert-auth=true", "configured": "--client-cert-auth=true"}


def test_flag_and_env_both_set_is_reported(tmp_path, catalog):
    env_text = fixture("etcd-external.env").replace("ETCD_CLIENT_CERT_AUTH=true", "ETCD_CLIENT_CERT_AUTH=false")
    member = external_member(tmp_path, env_text=env_text, daemon_args="--client-cert-auth=true")
    facts = collect(root=str(member))
    assert etcd_flags.apply_env(["client-cert-auth"], {"ETCD_CLIENT_CERT_AUTH": "false"}) == (
        {}, ["ETCD_CLIENT_CERT_AUTH"])
    controls, _result = audit(facts, catalog)
    ctl = controls["2.2"]
    assert ctl["actual"]["configured"] == "--client-cert-auth=true"
    assert "ETCD_CLIENT_CERT_AUTH also given on the command line; etcd refuses to start" in ctl["reason"]


def test_drift_between_env_file_and_running_environ(tmp_path, catalog):
    # the role rewrote /etc/default/etcd but etcd still runs with the old (weak) environment
    old = fixture("etcd-external.env").replace("ETCD_PEER_CLIENT_CERT_AUTH=true\n", "")
    facts = collect(root=str(external_member(tmp_path, environ=environ_of(old))))
    controls, result = audit(facts, catalog)
    ctl = controls["2.5"]
    assert ctl["status"] == "FAIL" and ctl["drift"] is True
    assert ctl["actual"] == {"running": "--peer-client-cert-auth not set",
                             "configured": "ETCD_PEER_CLIENT_CERT_AUTH=true"}
    assert "restart pending" in ctl["reason"] and "passes" in ctl["reason"]
    assert result["drift"] == ["2.5"]
    assert controls["2.1"]["drift"] is False


def test_environ_unreadable_is_judged_from_configuration(tmp_path, catalog):
    # root in a container lacks CAP_SYS_PTRACE and cannot read the environ of etcd (user etcd)
    member = external_member(tmp_path)
    os.remove(os.path.join(str(member), "proc/%d/environ" % ETCD_PID))
    facts = collect(root=str(member))
    assert facts["processes"]["etcd"][0]["environ"] is None
    controls, result = audit(facts, catalog)
    ctl = controls["2.1"]
    assert ctl["status"] == "PASS" and ctl["drift"] is False
    assert "environment of etcd (process %d) is not readable" % ETCD_PID in ctl["reason"]
    assert "judged from its configuration (systemd unit" in ctl["reason"]
    assert ctl["actual"]["running"] == "--cert-file not set; --key-file not set (ETCD_* environment not readable)"
    assert result["drift"] == []
    weak = fixture("etcd-external.env").replace("ETCD_PEER_AUTO_TLS=false", "ETCD_PEER_AUTO_TLS=true")
    member = external_member(tmp_path / "weak", env_text=weak)
    os.remove(os.path.join(str(member), "proc/%d/environ" % ETCD_PID))
    assert audit(collect(root=str(member)), catalog)[0]["2.6"]["status"] == "FAIL"


def stacked_node(root):
    """kubeadm's control-plane node; its etcd container's environment has no ETCD_* variable."""
    kubeadm_node.build_node(root)
    kubeadm_node.write(root, "/proc/2104/environ", "PATH=/usr/local/bin:/usr/bin\0HOSTNAME=cp1\0", 0o400)
    return collect(root=str(root))


def test_static_pod_etcd_unaffected(tmp_path, catalog):
    facts = stacked_node(tmp_path)
    assert facts["processes"]["etcd"][0]["environ"] == {}
    assert facts["etcd"]["service"]["unit"] is None
    controls, result = audit(facts, catalog)
    assert result["drift"] == []
    assert controls["2.1"]["status"] == "PASS" and controls["2.1"]["reason"].startswith("running: --cert-file=")
    assert controls["2.1"]["actual"]["running"].startswith("--cert-file=/etc/kubernetes/pki/etcd/server.crt")
    assert controls["2.1"]["sources"] == {"running": "process 2104", "configured": "/etc/kubernetes/manifests/etcd.yaml"}


def test_static_pod_container_env_counts_as_configured(tmp_path, catalog):
    facts = stacked_node(tmp_path)
    info = facts["manifests"]["files"]["etcd.yaml"]
    info["text"] = info["text"].replace("    - --client-cert-auth=true\n", "").replace(
        "    name: etcd\n", "    name: etcd\n    env:\n    - name: ETCD_CLIENT_CERT_AUTH\n      value: \"false\"\n", 1)
    assert "ETCD_CLIENT_CERT_AUTH" in info["text"]
    controls, _result = audit(facts, catalog)
    ctl = controls["2.2"]
    assert ctl["status"] == "PASS" and ctl["drift"] is True
    assert ctl["actual"]["configured"] == "ETCD_CLIENT_CERT_AUTH=false"
