# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merge and validation of the kubelet configuration, on kubeadm's real default KubeletConfiguration as the test
node's generator writes it."""
from __future__ import annotations


import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import kubelet_config as kc
from ansible_collections.secure_cluster.k8s.tests.unit.testbed_loader import node_init as ni


GOOD_SYSCTLS = {"vm.overcommit_memory": "1", "vm.panic_on_oom": "0", "kernel.panic": "10",
                "kernel.panic_on_oops": "1", "kernel.keys.root_maxkeys": "1000000",
                "kernel.keys.root_maxbytes": "25000000"}
# typical values of a host nobody tuned
HOST_SYSCTLS = {"vm.overcommit_memory": "0", "vm.panic_on_oom": "0", "kernel.panic": "0",
                "kernel.panic_on_oops": "0", "kernel.keys.root_maxkeys": "1000000",
                "kernel.keys.root_maxbytes": "25000000"}

HARDENING = {
    "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True}},
    "authorization": {"mode": "Webhook"},
    "readOnlyPort": 0,
    "protectKernelDefaults": True,
    "streamingConnectionIdleTimeout": "5m",
    "eventRecordQPS": 5,
    "rotateCertificates": True,
    "tlsMinVersion": "VersionTLS12",
    "tlsCipherSuites": ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"],
    "seccompDefault": True,
}

VERSIONS = ("1.28", "1.33")


def kubeadm_text(minor):
    return ni.to_yaml(ni.kubelet_config(minor))


def exists_all(_path):
    return True


@pytest.mark.parametrize("minor", VERSIONS)
def test_kubeadm_default_is_valid_and_unchanged_by_empty_settings(minor):
    text = kubeadm_text(minor)
    out = kc.plan(text, {}, minor, sysctls=HOST_SYSCTLS, file_exists=exists_all)
    assert out["problems"] == [] and out["warnings"] == []
    assert out["changed_keys"] == [] and out["after_text"] is None
    assert out["after"] == yaml.safe_load(text)


@pytest.mark.parametrize("minor", VERSIONS)
def test_hardening_deep_merge_keeps_kubeadm_fields(minor):
    text = kubeadm_text(minor)
    out = kc.plan(text, HARDENING, "v%s.5" % minor, sysctls=GOOD_SYSCTLS, file_exists=exists_all)
    assert out["problems"] == []
    after = yaml.safe_load(out["after_text"])
    assert after == out["after"]
    # kubeadm's fields are kept, the nested maps merged key by key
    assert after["clusterDNS"] == ["10.96.0.10"] and after["cgroupDriver"] == "systemd"
    assert after["staticPodPath"] == "/etc/kubernetes/manifests"
    assert after["authentication"]["x509"] == {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}
    assert after["authentication"]["webhook"] == {"cacheTTL": "0s", "enabled": True}
    assert after["authorization"]["webhook"] == {"cacheAuthorizedTTL": "0s", "cacheUnauthorizedTTL": "0s"}
    assert after["readOnlyPort"] == 0 and after["protectKernelDefaults"] is True
    assert after["streamingConnectionIdleTimeout"] == "5m"
    # only the values that differ from kubeadm's count as changed
    assert out["changed_keys"] == ["eventRecordQPS", "protectKernelDefaults", "readOnlyPort", "seccompDefault",
                                   "streamingConnectionIdleTimeout", "tlsCipherSuites", "tlsMinVersion"]
    # rendered the way kubeadm writes it: sorted keys, block style
    keys = [line.split(":")[0] for line in out["after_text"].splitlines() if line and not line[0].isspace()
            and not line.startswith("-")]
    assert keys == sorted(keys)


@pytest.mark.parametrize("minor", VERSIONS)
def test_idempotent_second_run(minor):
    first = kc.plan(kubeadm_text(minor), HARDENING, minor, sysctls=GOOD_SYSCTLS, file_exists=exists_all)
    second = kc.plan(first["after_text"], HARDENING, minor, sysctls=GOOD_SYSCTLS, file_exists=exists_all)
    assert second["problems"] == [] and second["changed_keys"] == [] and second["after_text"] is None


@pytest.mark.parametrize("minor", VERSIONS)
def test_a_duration_written_the_go_way_is_the_same_duration(minor):
    # kubeadm upgrade node writes the ConfigMap's values back as Go formats them: 5m becomes 5m0s
    first = kc.plan(kubeadm_text(minor), HARDENING, minor, sysctls=GOOD_SYSCTLS, file_exists=exists_all)
    go_form = first["after_text"].replace("streamingConnectionIdleTimeout: 5m\n", "streamingConnectionIdleTimeout: 5m0s\n")
    assert go_form != first["after_text"]
    again = kc.plan(go_form, HARDENING, minor, sysctls=GOOD_SYSCTLS, file_exists=exists_all)
    assert again["changed_keys"] == [] and again["after"]["streamingConnectionIdleTimeout"] == "5m0s"
    # a different duration is a change
    longer = kc.plan(go_form, dict(HARDENING, streamingConnectionIdleTimeout="10m"), minor, sysctls=GOOD_SYSCTLS,
                     file_exists=exists_all)
    assert longer["changed_keys"] == ["streamingConnectionIdleTimeout"]


def test_null_removes_a_key_and_nested_key():
    text = kubeadm_text("1.33")
    out = kc.plan(text, {"clusterDomain": None, "authorization": {"webhook": None}, "notThere": None}, "1.33",
                  file_exists=exists_all)
    assert "clusterDomain" not in out["after"]
    assert out["after"]["authorization"] == {"mode": "Webhook"}
    assert out["changed_keys"] == ["authorization.webhook", "clusterDomain"]
    # null for an unknown field is still an unknown field
    assert any("notThere" in p for p in out["problems"])


def test_deep_merge_replaces_lists_and_does_not_touch_input():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    merged = kc.deep_merge(base, {"a": {"c": [3], "e": {"f": 1}}, "d": None})
    assert merged == {"a": {"b": 1, "c": [3], "e": {"f": 1}}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}


def test_deep_merge_keeping_nulls_merges_layers_as_the_file_would_take_them():
    layers = [{"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"c": None}, "d": None, "e": {"f": None}}]
    merged = kc.deep_merge(layers[0], layers[1], keep_none=True)
    assert merged == {"a": {"b": 1, "c": None}, "d": None, "e": {"f": None}}
    # the layers merged first, then into the file: the same as each layer into the file in turn
    config = {"a": {"c": 3, "g": 4}, "d": 5, "e": {"f": 6}}
    assert kc.deep_merge(config, merged) == kc.deep_merge(kc.deep_merge(config, layers[0]), layers[1])


@pytest.mark.parametrize("minor", VERSIONS)
def test_unknown_field_refused_naming_it(minor):
    out = kc.plan(kubeadm_text(minor), {"readOnlyPort": 0, "protectKernelDefault": True}, minor,
                  file_exists=exists_all)
    assert len(out["problems"]) == 1
    assert "'protectKernelDefault'" in out["problems"][0]
    assert "would not take effect" in out["problems"][0]


def test_field_of_a_later_version_refused_with_the_version():
    out = kc.plan(kubeadm_text("1.28"), {"imageMaximumGCAge": "24h"}, "1.28", file_exists=exists_all)
    assert out["problems"] == ["'imageMaximumGCAge' is not a KubeletConfiguration field in kubelet v1.28: it was "
                               "added in v1.29; kubelet v1.28 would ignore it and the setting would not take effect"]
    assert kc.plan(kubeadm_text("1.33"), {"imageMaximumGCAge": "24h"}, "1.33", file_exists=exists_all)["problems"] == []


def test_unknown_nested_auth_field_refused():
    out = kc.plan(kubeadm_text("1.33"), {"authentication": {"anonymus": {"enabled": False}}}, "1.33")
    assert any("'authentication.anonymus'" in p for p in out["problems"])
    out = kc.plan(kubeadm_text("1.33"), {"authentication": {"webhook": {"enable": True}}}, "1.33")
    assert any("'authentication.webhook.enable'" in p for p in out["problems"])


@pytest.mark.parametrize("settings, needle", [
    ({"readOnlyPort": "0"}, "readOnlyPort: must be an integer"),
    ({"readOnlyPort": 70000}, "readOnlyPort: 70000 must be between 0 and 65535"),
    ({"readOnlyPort": -1}, "readOnlyPort: -1 must be between 0 and 65535"),
    ({"protectKernelDefaults": "yes"}, "protectKernelDefaults: must be a boolean"),
    ({"eventRecordQPS": True}, "eventRecordQPS: must be an integer"),
    ({"eventRecordQPS": -5}, "eventRecordQPS: -5 must not be negative"),
    ({"streamingConnectionIdleTimeout": "5 minutes"}, "'5 minutes' is not a Go duration"),
    ({"streamingConnectionIdleTimeout": 300}, "must be a duration string"),
    ({"tlsMinVersion": "TLSv1.2"}, "tlsMinVersion: 'TLSv1.2' is not a TLS version name"),
    ({"tlsCipherSuites": ["ECDHE-RSA-AES128-GCM-SHA256"]}, "'ECDHE-RSA-AES128-GCM-SHA256' is not a Go cipher suite"),
    ({"authorization": {"mode": "RBAC"}}, "authorization.mode: 'RBAC' must be one of AlwaysAllow, Webhook"),
    ({"featureGates": {"Foo": "true"}}, "featureGates.Foo: must be a boolean"),
    ({"authentication": {"anonymous": {"enabled": "false"}}}, "authentication.anonymous.enabled: must be a boolean"),
])
def test_type_and_range_problems(settings, needle):
    out = kc.plan(kubeadm_text("1.33"), settings, "1.33", file_exists=exists_all)
    assert any(needle in p for p in out["problems"]), out["problems"]


def test_durations_accepted():
    for value in ("5m", "4h0m0s", "1h30m", "300ms", "0", "0s", "1.5h"):
        assert kc.plan(kubeadm_text("1.33"), {"streamingConnectionIdleTimeout": value}, "1.33")["problems"] == []


def test_insecure_cipher_warns():
    out = kc.plan(kubeadm_text("1.33"), {"tlsCipherSuites": ["TLS_RSA_WITH_3DES_EDE_CBC_SHA"]}, "1.33")
    assert out["problems"] == []
    assert out["warnings"] == ["tlsCipherSuites: TLS_RSA_WITH_3DES_EDE_CBC_SHA is an insecure cipher suite"]


@pytest.mark.parametrize("minor", VERSIONS)
def test_protect_kernel_defaults_refused_with_wrong_sysctls(minor):
    out = kc.plan(kubeadm_text(minor), HARDENING, minor, sysctls=HOST_SYSCTLS, file_exists=exists_all)
    assert len(out["problems"]) == 1
    problem = out["problems"][0]
    assert "the kubelet would refuse to start" in problem
    assert "vm.overcommit_memory expected 1, actual 0" in problem
    assert "kernel.panic expected 10, actual 0" in problem
    assert "kernel.panic_on_oops expected 1, actual 0" in problem
    assert "vm.panic_on_oom" not in problem and "root_maxkeys" not in problem
    assert "kernel role" in problem


def test_protect_kernel_defaults_unreadable_sysctl():
    sysctls = dict(GOOD_SYSCTLS, **{"kernel.keys.root_maxbytes": None})
    out = kc.plan(kubeadm_text("1.33"), {"protectKernelDefaults": True}, "1.33", sysctls=sysctls)
    assert "kernel.keys.root_maxbytes expected 25000000, actual unreadable" in out["problems"][0]


def test_protect_kernel_defaults_accepted_with_right_sysctls_and_not_checked_when_false():
    assert kc.plan(kubeadm_text("1.33"), {"protectKernelDefaults": True}, "1.33",
                   sysctls=GOOD_SYSCTLS)["problems"] == []
    assert kc.plan(kubeadm_text("1.33"), {"protectKernelDefaults": False}, "1.33",
                   sysctls=HOST_SYSCTLS)["problems"] == []


def test_anonymous_off_needs_an_authenticator():
    settings = {"authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": False},
                                   "x509": {"clientCAFile": None}},
                "authorization": {"mode": "AlwaysAllow"}}
    out = kc.plan(kubeadm_text("1.33"), settings, "1.33", file_exists=exists_all)
    assert len(out["problems"]) == 1 and "needs another authenticator" in out["problems"][0]
    # x509 alone is enough for authentication
    settings["authentication"]["x509"] = {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}
    assert kc.plan(kubeadm_text("1.33"), settings, "1.33", file_exists=exists_all)["problems"] == []


def test_webhook_authorization_needs_webhook_authentication():
    out = kc.plan(kubeadm_text("1.33"), {"authentication": {"webhook": {"enabled": False}}}, "1.33",
                  file_exists=exists_all)
    assert out["problems"] == ["authorization.mode: Webhook requires authentication.webhook.enabled: true"]


def test_named_files_must_exist():
    present = {"/etc/kubernetes/pki/ca.crt"}
    settings = {"tlsCertFile": "/var/lib/kubelet/pki/kubelet.crt", "tlsPrivateKeyFile": "/var/lib/kubelet/pki/k.key"}
    out = kc.plan(kubeadm_text("1.33"), settings, "1.33", file_exists=lambda p: p in present)
    assert out["problems"] == [
        "tlsCertFile: /var/lib/kubelet/pki/kubelet.crt does not exist on the node; the kubelet would refuse to start",
        "tlsPrivateKeyFile: /var/lib/kubelet/pki/k.key does not exist on the node; the kubelet would refuse to start"]
    # unknown existence (None) is not judged
    assert kc.plan(kubeadm_text("1.33"), settings, "1.33", file_exists=lambda p: None)["problems"] == []


def test_not_a_kubelet_configuration():
    out = kc.plan("kind: KubeProxyConfiguration\napiVersion: kubeproxy.config.k8s.io/v1alpha1\n", {}, "1.33")
    assert "is not a kubelet.config.k8s.io/v1beta1 KubeletConfiguration" in out["problems"][0]
    assert "not valid YAML" in kc.plan("a: [", {}, "1.33")["problems"][0]
    assert kc.plan(kubeadm_text("1.33"), {"kind": "Other"}, "1.33")["problems"] == [
        "kind must be 'KubeletConfiguration' (got 'Other')"]


def test_versions():
    assert kc.minor("Kubernetes v1.33.5") == "1.33"
    assert kc.minor("v1.28.0") == "1.28" and kc.minor("1.35") == "1.35"
    with pytest.raises(ValueError):
        kc.minor("1.27.3")
    with pytest.raises(ValueError):
        kc.minor("latest")
    assert "not supported" in kc.plan(kubeadm_text("1.33"), {}, "1.20")["problems"][0]
    assert "mergeDefaultEvictionSettings" not in kc.fields_for("1.33")
    assert "failCgroupV1" in kc.fields_for("1.31") and "failCgroupV1" not in kc.fields_for("1.30")


def test_every_field_the_generator_writes_is_known():
    for minor in kc.SUPPORTED_MINORS:
        config = ni.kubelet_config(minor)
        fields = kc.fields_for(minor)
        assert [k for k in config if k not in fields and k not in ("apiVersion", "kind")] == []


def test_existing_unknown_field_only_warns():
    text = kubeadm_text("1.33") + "someOldField: 1\n"
    out = kc.plan(text, {"readOnlyPort": 0}, "1.33", file_exists=exists_all)
    assert out["problems"] == []
    assert len(out["warnings"]) == 1 and "'someOldField'" in out["warnings"][0]


@pytest.mark.parametrize("minor", kc.SUPPORTED_MINORS)
def test_render_matches_kubeadm_style(minor):
    assert kc.render(ni.kubelet_config(minor)) == kubeadm_text(minor)


def test_feature_gates_checked_for_the_kubelet_version():
    out = kc.plan(kubeadm_text("1.33"), {"featureGates": {"SeccompDefault": True, "RotateKubeletServerCertificate": True}},
                  "1.33")
    assert out["problems"] == ["featureGates.SeccompDefault: unrecognized feature gate: SeccompDefault "
                               "(kubelet v1.33; removed in v1.29)"]
    out = kc.plan(kubeadm_text("1.33"), {"featureGates": {"AnonymousAuthConfigurableEndpoints": False}}, "1.34")
    assert out["problems"] == ["featureGates.AnonymousAuthConfigurableEndpoints: cannot set feature gate "
                               "AnonymousAuthConfigurableEndpoints to false, feature is locked to true"]
    assert kc.plan(kubeadm_text("1.33"), {"featureGates": {"RotateKubeletServerCertificate": True}},
                   "1.33")["problems"] == []
