# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Feature gate data and checks in plugins/module_utils/k8s_flags.py."""
from __future__ import annotations

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_flags as kf

ALL = kf.SUPPORTED_MINORS


def test_every_history_token_parses_and_is_ordered():
    data = kf._gates()  # pylint: disable=protected-access
    tables = dict(data["gates"], **data["client_go_gates"])
    tables.update((name, history) for name, (history, dummy) in data["gone_gates"].items())
    for name, history in tables.items():
        since = [kf._key(kf._GATE_SPEC_RE.match(token).group(1)) for token in history.split()]
        assert since == sorted(since), name
    for name, (history, removed) in data["gone_gates"].items():
        assert name not in data["gates"]
        if removed:
            last = kf._GATE_SPEC_RE.match(history.split()[-1]).group(1)
            assert kf._key(removed) > kf._key(last), name


@pytest.mark.parametrize("version", ALL)
def test_feature_gates_shape(version):
    gates = kf.feature_gates(version)
    assert len(gates) > 100
    for name, spec in gates.items():
        assert set(spec) == {"stage", "locked", "default"}
        assert spec["stage"] in ("alpha", "beta", "GA", "deprecated", None)
        assert isinstance(spec["default"], bool) and isinstance(spec["locked"], bool)
        if spec["locked"]:
            assert spec["stage"] in ("GA", "deprecated"), name
    # The gate CIS 1.3.6 / 4.2.11 sets is beta, on and settable on every supported version.
    assert gates["RotateKubeletServerCertificate"] == {"stage": "beta", "default": True, "locked": False}


def test_stages_follow_the_history():
    assert kf.feature_gates("1.30")["KMSv2"] == {
        "stage": "GA", "default": True, "locked": False}
    assert "AnonymousAuthConfigurableEndpoints" not in kf.feature_gates("1.30")
    assert kf.feature_gates("1.31")["AnonymousAuthConfigurableEndpoints"]["stage"] == "alpha"
    assert kf.feature_gates("1.33")["AnonymousAuthConfigurableEndpoints"] == {
        "stage": "beta", "default": True, "locked": False}
    assert kf.feature_gates("1.34")["AnonymousAuthConfigurableEndpoints"] == {
        "stage": "GA", "default": True, "locked": True}
    assert kf.feature_gates("1.29")["KMSv1"] == {"stage": "deprecated", "default": False, "locked": False}
    assert kf.feature_gates("1.32")["AllowServiceLBStatusOnNonLB"]["locked"] is True
    assert kf.feature_gates("1.35")["InformerResourceVersion"]["stage"] == "GA"


@pytest.mark.parametrize("version, name, removed", [
    ("1.32", "KMSv2", "1.32"), ("1.35", "ValidatingAdmissionPolicy", "1.32"), ("1.33", "AppArmor", "1.33"),
    ("1.31", "APIPriorityAndFairness", "1.31"), ("1.28", "PodSecurity", "1.28"), ("1.29", "SeccompDefault", "1.29"),
])
def test_removed_gate_names_the_version(version, name, removed):
    assert kf.check_feature_gate("kube-apiserver", version, name, True) == (
        "unrecognized feature gate: %s (kube-apiserver v%s; removed in v%s)" % (name, version, removed))


def test_removed_gate_is_accepted_before_its_removal():
    assert kf.check_feature_gate("kube-apiserver", "1.31", "KMSv2", "true") is None
    assert kf.check_feature_gate("kubelet", "1.28", "SeccompDefault", True) is None


def test_unknown_and_not_yet_added_gates():
    assert kf.check_feature_gate("kubelet", "1.33", "NoSuchGate", True) == (
        "unrecognized feature gate: NoSuchGate (kubelet v1.33)")
    assert kf.check_feature_gate("kube-apiserver", "1.30", "AnonymousAuthConfigurableEndpoints", True) == (
        "unrecognized feature gate: AnonymousAuthConfigurableEndpoints (kube-apiserver v1.30; added in v1.31)")
    # The gate data now reaches the newest supported minor, so unknown names are refused everywhere.
    assert kf.FEATURE_GATES_DATA_MINOR == ALL[-1]
    assert kf.check_feature_gate("kubelet", "1.37", "NoSuchGate", True) == (
        "unrecognized feature gate: NoSuchGate (kubelet v1.37)")
    assert "removed in v1.32" in kf.check_feature_gate("kubelet", "1.35", "KMSv2", True)


def test_gates_of_the_real_1_34_to_1_37_binaries():
    # GA in 1.34 (locked), gone from the 1.37 list and binaries.
    assert kf.check_feature_gate("kube-apiserver", "1.36", "APIServerTracing", False) == (
        "cannot set feature gate APIServerTracing to false, feature is locked to true")
    assert kf.check_feature_gate("kube-apiserver", "1.37", "APIServerTracing", True) == (
        "unrecognized feature gate: APIServerTracing (kube-apiserver v1.37; removed in v1.37)")
    # The gate is RuntimeClassInImageCriApi; RuntimeClassInImageCriAPI is only its Go constant.
    assert kf.check_feature_gate("kubelet", "1.34", "RuntimeClassInImageCriApi", True) is None
    assert kf.check_feature_gate("kubelet", "1.34", "RuntimeClassInImageCriAPI", True) is not None
    # Listed from 1.35 in the 1.37 list, first registered by 1.36.
    assert "added in v1.36" in kf.check_feature_gate("kubelet", "1.35", "ImageVolumeWithDigest", True)
    # Locked only from 1.36 (the 1.34 and 1.35 binaries let it be turned off).
    assert kf.check_feature_gate("kubelet", "1.35", "TopologyManagerPolicyOptions", False) is None
    assert "locked to true" in kf.check_feature_gate("kubelet", "1.36", "TopologyManagerPolicyOptions", False)
    # Registered by every component but kube-scheduler.
    assert kf.check_feature_gate("kube-controller-manager", "1.36", "ControllerManagerReleaseLeaderElectionLockOnExit",
                                 True) is None
    assert kf.check_feature_gate("kube-scheduler", "1.36", "ControllerManagerReleaseLeaderElectionLockOnExit", True) == (
        "unrecognized feature gate: ControllerManagerReleaseLeaderElectionLockOnExit (kube-scheduler v1.36; "
        "not registered by kube-scheduler)")
    # client-go gates
    assert kf.feature_gates("1.35")["WatchListClient"] == {"stage": "beta", "default": True, "locked": False}
    assert kf.feature_gates("1.36")["InOrderInformers"] == {"stage": "GA", "default": True, "locked": True}


def test_gate_gone_by_the_data_release():
    assert kf.check_feature_gate("kube-scheduler", "1.33", "CPUManager", True) is None
    assert kf.check_feature_gate("kube-scheduler", "1.34", "CPUManager", True) == (
        "unrecognized feature gate: CPUManager (kube-scheduler v1.34; not in the v1.34 gate list, "
        "last recorded in v1.31)")


@pytest.mark.parametrize("value", [False, "false", "0", "F"])
def test_locked_gate_set_against_its_default(value):
    assert kf.check_feature_gate("kube-apiserver", "1.34", "AnonymousAuthConfigurableEndpoints", value) == (
        "cannot set feature gate AnonymousAuthConfigurableEndpoints to false, feature is locked to true")
    assert kf.check_feature_gate("kube-apiserver", "1.33", "AnonymousAuthConfigurableEndpoints", value) is None


def test_locked_gate_set_to_its_default_is_accepted():
    assert kf.check_feature_gate("kube-apiserver", "1.34", "AnonymousAuthConfigurableEndpoints", "True") is None
    assert kf.check_feature_gate("kube-apiserver", "1.33", "WatchFromStorageWithoutResourceVersion", False) is None
    assert kf.check_feature_gate("kube-apiserver", "1.33", "WatchFromStorageWithoutResourceVersion", True) == (
        "cannot set feature gate WatchFromStorageWithoutResourceVersion to true, feature is locked to false")


def test_invalid_value_and_bad_arguments():
    assert kf.check_feature_gate("kubelet", "1.33", "RotateKubeletServerCertificate", "yes") == (
        'invalid value of RotateKubeletServerCertificate=yes, err: strconv.ParseBool: parsing "yes": invalid syntax')
    with pytest.raises(ValueError):
        kf.check_feature_gate("etcd", "1.33", "AllAlpha", True)
    with pytest.raises(ValueError):
        kf.feature_gates("1.27")


def test_parse_gate_value():
    assert [kf.parse_gate_value(v) for v in (True, "TRUE", "t", "1", False, "False", "0", "no")] == [
        True, True, True, True, False, False, False, None]
