# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import ast
import importlib.util
import pathlib
import sys

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_flag_data, k8s_flags, k8s_version

ALL = k8s_flags.SUPPORTED_MINORS
COMPONENTS = k8s_flags.COMPONENTS


def accepted(component, version, name):
    return k8s_flags.check_flag(component, version, name) is None


# --- minor() -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("given,expected", [
    ("v1.33.4", "1.33"),
    ("1.33.4", "1.33"),
    ("1.33", "1.33"),
    ("v1.28.0", "1.28"),
    ("1.35.0-rc.1", "1.35"),
    (" v1.30.2 ", "1.30"),
])
def test_minor_parses(given, expected):
    assert k8s_flags.minor(given) == expected


@pytest.mark.parametrize("given", ["1.27.9", "v1.38.0", "1.9", "2.0", "", "latest", "1", "v1.x", "1.33.4.5", None, 1.33])
def test_minor_rejects(given):
    with pytest.raises(ValueError):
        k8s_flags.minor(given)


def test_api_constants():
    assert k8s_flags.SUPPORTED_MINORS == ("1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37")
    assert k8s_flags.COMPONENTS == ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")


def test_unknown_component_and_version_raise():
    with pytest.raises(ValueError):
        k8s_flags.flags_for("etcd", "1.33")
    with pytest.raises(ValueError):
        k8s_flags.check_flag("kube-apiserver", "1.27", "anonymous-auth")
    with pytest.raises(ValueError):
        k8s_flags.admission_plugins("1.38")


# --- flags_for() -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("component", COMPONENTS)
@pytest.mark.parametrize("version", ALL)
def test_every_component_has_the_global_flags(component, version):
    flags = k8s_flags.flags_for(component, version)
    for name in ("help", "v", "vmodule", "version", "log-flush-frequency", "feature-gates"):
        assert name in flags, (component, version, name)
    assert flags["help"] == "bool"
    assert flags["version"] == "version[=true]"
    assert all(not name.startswith("-") and "_" not in name for name in flags)


@pytest.mark.parametrize("version", ALL)
def test_types_of_well_known_flags(version):
    api = k8s_flags.flags_for("kube-apiserver", version)
    assert api["anonymous-auth"] == "bool"
    assert api["audit-log-path"] == "string"
    assert api["audit-log-maxage"] == "int"
    assert api["enable-admission-plugins"] == "strings"
    assert api["request-timeout"] == "duration"
    assert api["service-node-port-range"] == "portRange"
    assert api["runtime-config"] == "mapStringString"
    kubelet = k8s_flags.flags_for("kubelet", version)
    assert kubelet["anonymous-auth"] == "bool"
    assert kubelet["rotate-certificates"] == "bool"
    assert kubelet["read-only-port"] == "int32"
    assert kubelet["config"] == "string"
    assert kubelet["node-labels"] == "mapStringString"
    kcm = k8s_flags.flags_for("kube-controller-manager", version)
    assert kcm["use-service-account-credentials"] == "bool"
    assert kcm["terminated-pod-gc-threshold"] == "int32"
    assert k8s_flags.flags_for("kube-scheduler", version)["profiling"] == "bool"
    assert k8s_flags.flags_for("kube-proxy", version)["metrics-bind-address"] == "ipport"


def test_feature_gates_type_changes_with_emulated_versions():
    assert k8s_flags.flags_for("kube-apiserver", "1.30")["feature-gates"] == "mapStringBool"
    assert k8s_flags.flags_for("kube-apiserver", "1.31")["feature-gates"] == "colonSeparatedMultimapStringString"
    assert k8s_flags.flags_for("kube-scheduler", "1.35")["feature-gates"] == "colonSeparatedMultimapStringString"
    assert k8s_flags.flags_for("kubelet", "1.35")["feature-gates"] == "mapStringBool"


def test_flag_counts_are_plausible_and_returned_dict_is_a_copy():
    for version in ALL:
        assert 160 <= len(k8s_flags.flags_for("kube-apiserver", version)) <= 190
        assert 125 <= len(k8s_flags.flags_for("kubelet", version)) <= 160  # 1.37 dropped the cAdvisor flags
        assert 50 <= len(k8s_flags.flags_for("kube-scheduler", version)) <= 70
    flags = k8s_flags.flags_for("kube-apiserver", "1.33")
    flags["made-up"] = "bool"
    assert "made-up" not in k8s_flags.flags_for("kube-apiserver", "1.33")


# --- check_flag(): removals before 1.28 --------------------------------------------------------------------

@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("component,name,removed", [
    ("kube-apiserver", "insecure-port", "1.24"),
    ("kube-apiserver", "insecure-bind-address", "1.24"),
    ("kube-apiserver", "port", "1.24"),
    ("kube-apiserver", "address", "1.24"),
    ("kube-apiserver", "basic-auth-file", "1.19"),
    ("kube-apiserver", "kubelet-https", "1.22"),
    ("kube-apiserver", "repair-malformed-updates", "1.14"),
    ("kube-apiserver", "enable-swagger-ui", "1.24"),
    ("kube-apiserver", "log-dir", "1.26"),
    ("kube-controller-manager", "port", "1.24"),
    ("kube-controller-manager", "address", "1.24"),
    ("kube-controller-manager", "pod-eviction-timeout", "1.27"),
    ("kube-scheduler", "port", "1.24"),
    ("kube-scheduler", "address", "1.24"),
    ("kube-scheduler", "policy-config-file", "1.23"),
    ("kube-scheduler", "lock-object-namespace", "1.28"),
    ("kubelet", "cadvisor-port", "1.12"),
    ("kubelet", "allow-privileged", "1.15"),
    ("kubelet", "network-plugin", "1.24"),
    ("kubelet", "container-runtime", "1.27"),
    ("kubelet", "logtostderr", "1.26"),
    ("kube-proxy", "udp-timeout", "1.26"),
])
def test_flags_removed_before_the_range(version, component, name, removed):
    message = k8s_flags.check_flag(component, version, name)
    assert message == "--%s is not accepted by %s v%s: it was removed in v%s" % (name, component, version, removed)


def test_contract_example_message():
    assert k8s_flags.check_flag("kube-apiserver", "v1.33.4", "insecure-port") == (
        "--insecure-port is not accepted by kube-apiserver v1.33: it was removed in v1.24")


# --- check_flag(): changes inside 1.28-1.37 ---------------------------------------------------------------

@pytest.mark.parametrize("component,name,removed", [
    ("kube-apiserver", "cloud-provider", "1.33"),
    ("kube-apiserver", "cloud-config", "1.33"),
    ("kube-apiserver", "azure-container-registry-config", "1.30"),
    ("kube-apiserver", "cloud-provider-gce-l7lb-src-cidrs", "1.31"),
    ("kube-controller-manager", "volume-host-cidr-denylist", "1.31"),
    ("kube-controller-manager", "horizontal-pod-autoscaler-upscale-delay", "1.31"),
    ("kube-scheduler", "azure-container-registry-config", "1.30"),
    ("kubelet", "keep-terminated-pod-volumes", "1.31"),
    ("kubelet", "iptables-masquerade-bit", "1.31"),
    ("kubelet", "azure-container-registry-config", "1.30"),
    ("kubelet", "register-schedulable", "1.34"),
    ("kubelet", "cloud-config", "1.34"),
    ("kubelet", "pod-infra-container-image", "1.35"),
    ("kube-proxy", "proxy-port-range", "1.31"),
    ("kube-proxy", "boot-id-file", "1.37"),
    ("kube-proxy", "machine-id-file", "1.37"),
    ("kubelet", "boot-id-file", "1.37"),
    ("kubelet", "storage-driver-db", "1.37"),
    ("kube-controller-manager", "concurrent-service-syncs", "1.37"),
])
def test_flags_removed_inside_the_range(component, name, removed):
    for version in ALL:
        message = k8s_flags.check_flag(component, version, name)
        if version < removed:
            assert message is None, (version, message)
            assert name in k8s_flags.flags_for(component, version)
        else:
            assert message == "--%s is not accepted by %s v%s: it was removed in v%s" % (name, component, version, removed)
            assert name not in k8s_flags.flags_for(component, version)


@pytest.mark.parametrize("component,name,added", [
    ("kube-apiserver", "authentication-config", "1.29"),
    ("kube-apiserver", "authorization-config", "1.29"),
    ("kube-apiserver", "emulated-version", "1.31"),
    ("kube-apiserver", "service-account-signing-endpoint", "1.32"),
    ("kube-apiserver", "requestheader-uid-headers", "1.32"),
    ("kube-apiserver", "emulation-forward-compatible", "1.33"),
    ("kube-apiserver", "coordinated-leadership-lease-duration", "1.34"),
    ("kube-apiserver", "min-compatibility-version", "1.35"),
    ("kube-controller-manager", "concurrent-daemonset-syncs", "1.32"),
    ("kube-controller-manager", "controller-shutdown-timeout", "1.35"),
    ("kube-scheduler", "min-compatibility-version", "1.35"),
    ("kubelet", "fail-cgroupv1", "1.31"),
    ("kube-proxy", "init-only", "1.29"),
    ("kube-apiserver", "tls-curve-preferences", "1.36"),
    ("kube-scheduler", "tls-curve-preferences", "1.36"),
    ("kube-controller-manager", "concurrent-resourceclaim-syncs", "1.36"),
    ("kube-controller-manager", "concurrent-disruption-syncs", "1.37"),
])
def test_flags_added_inside_the_range(component, name, added):
    for version in ALL:
        message = k8s_flags.check_flag(component, version, name)
        if version >= added:
            assert message is None, (version, message)
        else:
            assert message == "--%s is not accepted by %s v%s: it was added in v%s" % (name, component, version, added)


def test_deprecated_but_accepted_flags():
    for version in ALL:
        assert accepted("kube-apiserver", version, "admission-control")
        assert accepted("kube-apiserver", version, "enable-logs-handler")
        assert accepted("kube-scheduler", version, "pod-max-in-unschedulable-pods-duration")
        assert accepted("kube-proxy", version, "healthz-port")
        assert accepted("kubelet", version, "housekeeping-interval")
        assert accepted("kube-apiserver", version, "log-json-split-stream")
    assert accepted("kubelet", "1.33", "pod-infra-container-image")
    assert accepted("kube-apiserver", "1.30", "cloud-provider")


def test_klog_legacy_flags_removed_everywhere_in_1_26():
    # kube-proxy too: its reference pages kept listing them, its 1.34-1.37 binaries refuse them.
    for version in ALL:
        for component in COMPONENTS:
            assert k8s_flags.check_flag(component, version, "log_dir") == (
                "--log-dir is not accepted by %s v%s: it was removed in v1.26" % (component, version))
            assert "log-backtrace-at" not in k8s_flags.flags_for(component, version)
        assert accepted("kube-proxy", version, "healthz-port")
    assert accepted("kube-proxy", "1.36", "boot_id_file")


def test_check_flag_normalises_its_input():
    assert accepted("kube-apiserver", "1.33", "--anonymous-auth")
    assert accepted("kube-apiserver", "1.33", "--anonymous-auth=false")
    assert accepted("kube-apiserver", "1.33", "-v")
    assert accepted("kube-apiserver", "1.33", "-h")
    assert accepted("kube-apiserver", "1.33", "audit_log_path")
    assert k8s_flags.check_flag("kube-apiserver", "1.33", "--insecure-port=0").endswith("removed in v1.24")


def test_unknown_flag_message():
    assert k8s_flags.check_flag("kubelet", "1.33", "made-up-flag") == (
        "--made-up-flag is not accepted by kubelet v1.33: it is not a kubelet flag (unknown flag: --made-up-flag)")
    # a flag of another component is not a flag of this one
    assert not accepted("kube-scheduler", "1.33", "etcd-servers")
    assert not accepted("kube-apiserver", "1.33", "rotate-certificates")


# --- admission plugins -------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ALL)
def test_admission_plugins_everywhere(version):
    plugins = k8s_flags.admission_plugins(version)
    assert isinstance(plugins, frozenset)
    for name in ("PodSecurity", "NodeRestriction", "AlwaysPullImages", "EventRateLimit", "NamespaceLifecycle",
                 "ServiceAccount", "ValidatingAdmissionPolicy", "ResourceQuota", "LimitRanger"):
        assert name in plugins
        assert k8s_flags.check_admission_plugin(version, name) is None
    assert "PodSecurityPolicy" not in plugins
    assert k8s_flags.check_admission_plugin(version, "PodSecurityPolicy") == (
        "admission plugin PodSecurityPolicy is not known to kube-apiserver v%s: it was removed in v1.25" % version)


def test_admission_plugins_changing_inside_the_range():
    assert "SecurityContextDeny" in k8s_flags.admission_plugins("1.29")
    assert k8s_flags.check_admission_plugin("1.30", "SecurityContextDeny").endswith("it was removed in v1.30")
    assert "PersistentVolumeLabel" in k8s_flags.admission_plugins("1.30")
    assert "PersistentVolumeLabel" not in k8s_flags.admission_plugins("1.31")
    assert k8s_flags.check_admission_plugin("1.31", "MutatingAdmissionPolicy").endswith("it was added in v1.32")
    assert "MutatingAdmissionPolicy" in k8s_flags.admission_plugins("1.32")
    assert "PodTopologyLabels" in k8s_flags.admission_plugins("1.33")
    assert "NodeDeclaredFeatureValidator" in k8s_flags.admission_plugins("1.35")
    assert "NodeDeclaredFeatureValidator" not in k8s_flags.admission_plugins("1.34")
    assert len(k8s_flags.admission_plugins("1.28")) == 36
    assert len(k8s_flags.admission_plugins("1.35")) == 37
    assert len(k8s_flags.admission_plugins("1.36")) == 41
    assert len(k8s_flags.admission_plugins("1.37")) == 39
    assert "PodResizeValidator" in k8s_flags.admission_plugins("1.37")
    assert k8s_flags.check_admission_plugin("1.37", "JobValidation").endswith("it was removed in v1.37")
    assert k8s_flags.check_admission_plugin("1.35", "PodGroupProtection").endswith("it was added in v1.36")
    assert k8s_flags.check_admission_plugin("1.33", "NoSuchPlugin") == (
        "admission plugin NoSuchPlugin is not known to kube-apiserver v1.33: it is not a kube-apiserver admission plugin")


# --- the module itself -------------------------------------------------------------------------------------

COLLECTION_MODULE_UTILS = "ansible_collections.secure_cluster.k8s.plugins.module_utils"


@pytest.mark.parametrize("module, collection_imports", [
    (k8s_flags, {"k8s_flag_data", "k8s_version"}),
    (k8s_flag_data, {"k8s_version"}),
    (k8s_version, set()),
])
def test_module_is_stdlib_only_and_py38_compatible(module, collection_imports):
    """Node-side modules import these (static_pod, etcd_flags); the test node loads them by path, so the collection
    imports name the module in full (a by-path loader registers exactly those names)."""
    source = pathlib.Path(module.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 8))
    assert ast.get_docstring(tree)
    imported, from_collection = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").startswith(COLLECTION_MODULE_UTILS + "."):
                from_collection.add(node.module[len(COLLECTION_MODULE_UTILS) + 1:])
            else:
                imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "re", "json", "os"}
    assert from_collection == collection_imports
    assert max(len(line) for line in source.splitlines()) <= 160


def test_module_loads_by_path_with_its_data(tmp_path, monkeypatch):
    """The test node copies k8s_flags.py, k8s_flag_data.py, k8s_version.py and data/ into one directory and loads
    them by path (tests/testbed/node/usr/local/lib/testbed/standin.py), the data found beside k8s_flag_data.py."""
    source = pathlib.Path(k8s_flags.__file__).parent
    for name in ("k8s_flags.py", "k8s_flag_data.py", "k8s_version.py"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    (tmp_path / "data").mkdir()
    for path in (source / "data").glob("*.json"):
        (tmp_path / "data" / path.name).write_bytes(path.read_bytes())

    def load(name, full):
        spec = importlib.util.spec_from_file_location(full, str(tmp_path / ("%s.py" % name)))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    for name in ("k8s_version", "k8s_flag_data"):
        monkeypatch.setitem(sys.modules, "%s.%s" % (COLLECTION_MODULE_UTILS, name),
                            load(name, "%s.%s" % (COLLECTION_MODULE_UTILS, name)))
    loaded = load("k8s_flags", "k8s_flags_by_path")
    assert sys.modules[COLLECTION_MODULE_UTILS + ".k8s_flag_data"].DATA_DIR == str(tmp_path / "data")
    assert loaded.RELEASE_MINORS == k8s_flags.RELEASE_MINORS
    assert loaded.flags_for("kubelet", "1.37") == k8s_flags.flags_for("kubelet", "1.37")
    assert loaded.check_feature_gate("kubelet", "1.33", "NoSuchGate", "true").startswith("unrecognized feature gate")


def test_importing_reads_no_data(tmp_path, monkeypatch):
    """On a node (AnsiballZ ships Python files only) importing k8s_flags works; a lookup says what is missing."""
    monkeypatch.setattr(k8s_flag_data, "DATA_DIR", str(tmp_path))
    monkeypatch.setattr(k8s_flag_data, "_LOADED", {})
    monkeypatch.setattr(k8s_flags, "_FLAGS_AT", {})
    monkeypatch.setattr(k8s_flags, "_HISTORY", {})
    assert k8s_flags.minor("v1.33.4") == "1.33" and "kube-apiserver" in k8s_flags.COMPONENTS
    with pytest.raises(k8s_flag_data.DataFileError, match="cannot read the flag data file .*k8s_release_flags.json"):
        k8s_flags.flags_for("kubelet", "1.33")


def test_table_is_consistent():
    history = k8s_flags._history()  # pylint: disable=protected-access
    for component, table in history["flags"].items():
        for name, (ftype, added, removed) in table.items():
            assert ftype and not name.startswith("-") and "_" not in name
            assert added is None or added in ALL[1:]
            assert removed is None or removed in ALL[1:]
            if added and removed:
                assert added < removed
        for name in history["removed_earlier"][component]:
            assert name not in table, (component, name)
