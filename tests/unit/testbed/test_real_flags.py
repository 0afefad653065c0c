# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/k8s_flags.py against what the real Kubernetes binaries print.

tests/testbed/flag_data.py runs each real binary's --help and records the flags (with their pflag types), the
admission plugins and the alpha/beta feature gates in tests/testbed/flags/<minor>.json. These tests read the
committed JSON, not the binaries, so they run everywhere; `flag_data.py check` (run after the binaries are built)
keeps the JSON in step with the binaries. Both directions are checked for every minor that the JSON and
k8s_flags.SUPPORTED_MINORS both cover: what a binary prints, the table accepts with the same type, and what the
table accepts, the binary prints or hides (flag_data.HIDDEN_FLAGS, recorded under "hidden_flags"). For 1.34-1.37
the flags and admission plugins are the generated plugins/module_utils/data/k8s_release_flags.json, so these tests
check that the product reads it; its gate table and the 1.33/1.34 seam are checked against the release notes. What each release's kubeadm
writes into the control plane's static pods ("kubeadm", rendered as kubeadm_manifests of that file) is checked
for the kubeadm defaults the product relies on (that kubeadm still writes what the JSON says is `flag_data.py check`,
the first step of `make real-test`). The tests at the end run the binaries when they are built here (skipped
otherwise: `make test` runs the unit tests while it builds them) to show that the hidden flags really are accepted.
"""
from __future__ import annotations

import importlib.util
import json
import pathlib
import re

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import etcd_flags, k8s_flags, kubelet_config

TESTBED = pathlib.Path(__file__).resolve().parents[2] / "testbed"
FLAGS_DIR = TESTBED / "flags"


def _load_flag_data_module():
    spec = importlib.util.spec_from_file_location("sck8s_flag_data", str(TESTBED / "flag_data.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _minor_key(minor):
    return tuple(int(part) for part in minor.split("."))


COMMITTED = sorted((path.stem for path in FLAGS_DIR.glob("*.json")), key=_minor_key)
MINORS = [minor for minor in COMMITTED if minor in k8s_flags.SUPPORTED_MINORS]
DATA = {minor: json.loads((FLAGS_DIR / ("%s.json" % minor)).read_text(encoding="utf-8")) for minor in COMMITTED}
CASES = [(minor, component) for minor in MINORS for component in k8s_flags.COMPONENTS]

_FLAG_DATA = _load_flag_data_module()

# What the v1.34.0 release notes say changed from 1.33 to 1.34, the seam between k8s_flags.py's own table
# (1.28-1.33) and the data of the real binaries (1.34 on): component -> (flags removed in 1.34, flags added in 1.34).
SEAM_1_34 = {
    "kubelet": ({"cloud-config", "register-schedulable"}, set()),  # both deprecated flags removed
    "kube-apiserver": (set(), {"coordinated-leadership-lease-duration", "coordinated-leadership-renew-deadline",
                               "coordinated-leadership-retry-period"}),  # CoordinatedLeaderElection's timings
}

# Gate defaults a component changes for itself, so its help prints another default than the shared table.
# (component, minor, gate) -> reason.
GATE_DEFAULT_OVERRIDES = {
    ("kube-controller-manager", "1.34", "WatchListClient"):
        "cmd/kube-controller-manager/app/options/options.go turns the client-go gate on (OverrideDefaultAtVersion); "
        "from 1.35 client-go defaults it to true everywhere",
}

_STAGES = {"ALPHA": "alpha", "BETA": "beta"}


# --- the committed data ------------------------------------------------------------------------------------

def test_committed_data_covers_the_real_minors():
    assert {"1.34", "1.37"} <= set(MINORS)
    assert set(COMMITTED) <= set(k8s_flags.SUPPORTED_MINORS), "flag data for a minor k8s_flags does not support"


@pytest.mark.parametrize("minor", COMMITTED)
def test_committed_data_is_well_formed(minor):
    data = DATA[minor]
    assert data["minor"] == minor
    assert re.fullmatch(re.escape(minor) + r"\.\d+", data["kubernetes_version"])
    assert sorted(data["components"]) == sorted(k8s_flags.COMPONENTS)
    for component, info in data["components"].items():
        assert info["version"] == "v" + data["kubernetes_version"], component
        assert info["shorthands"] == {"h": "help", "v": "v"}, component
        assert len(info["flags"]) > 40 and "feature-gates" in info["flags"], component
        assert all(set(gate) == {"stage", "default"} for gate in info["feature_gates"].values()), component
    text = (FLAGS_DIR / ("%s.json" % minor)).read_text(encoding="utf-8")
    assert text == json.dumps(data, indent=1, sort_keys=True) + "\n", "not written by flag_data.py (sorted keys)"


# --- the kubelet's configuration file -------------------------------------------------------------------------

KUBELET_CONFIG_MINORS = [minor for minor in COMMITTED if minor in kubelet_config.SUPPORTED_MINORS]


@pytest.mark.parametrize("minor", KUBELET_CONFIG_MINORS)
def test_kubelet_config_fields_match_the_kubelet_source(minor):
    real = {name: field["type"] for name, field in DATA[minor]["kubelet_config"]["fields"].items()}
    ours = kubelet_config.fields_for(minor)
    assert sorted(set(real) - set(ours)) == [], "fields kubelet %s decodes that the table lacks" % minor
    assert sorted(set(ours) - set(real)) == [], "fields the table gives kubelet %s that it does not have" % minor
    assert {name: typ for name, typ in ours.items() if real[name] != typ} == {}, "types differ"


def test_kubelet_config_go_types_are_read_as_the_kubelet_decodes_them():
    module = _load_flag_data_module()
    source = "type Mode string\ntype KubeletConfiguration struct {\n" + "".join(
        "\tF%d %s `json:\"f%d,omitempty\"`\n" % (index, go, index) for index, go in enumerate(
            ["*bool", "Mode", "metav1.Duration", "*int32", "int64", "*float64", "[]v1.Taint", "map[string]string",
             "logsapi.LoggingConfiguration"] * 12)) + "}\n"
    fields = module.parse_kubelet_config_types(source)
    assert [fields["f%d" % index]["type"] for index in range(9)] == [
        "bool", "string", "duration", "int32", "int64", "float", "list", "map", "map"]


# --- etcd ----------------------------------------------------------------------------------------------------

# etcd flag -> (type in etcd_flags, why it differs from the type the binary shows).
ETCD_TYPE_EXCEPTIONS = {
    "cors": ("string", "etcd parses it as URLs but also accepts the exception \"*\"; etcd_flags checks it as text"),
}


@pytest.mark.parametrize("minor", COMMITTED)
def test_etcd_flags_match_the_etcd_binary(minor):
    etcd = DATA[minor]["etcd"]
    real = etcd["flags"]
    ours = etcd_flags.flags_for(etcd["version"])
    assert sorted(set(real) - set(ours)) == [], "flags etcd %s has that etcd_flags lacks" % etcd["version"]
    assert sorted(set(ours) - set(real)) == [], "flags etcd_flags gives etcd %s that it does not have" % etcd["version"]
    differ = {name: (typ, real[name]) for name, typ in ours.items() if real[name] != typ}
    assert differ == {name: (ETCD_TYPE_EXCEPTIONS[name][0], real[name]) for name in differ
                      if name in ETCD_TYPE_EXCEPTIONS}, "types differ"


def test_etcd_is_the_one_kubeadm_runs():
    assert DATA["1.34"]["etcd"]["version"].startswith("3.6.")
    for minor in COMMITTED:
        assert etcd_flags.minor(DATA[minor]["etcd"]["version"]) in etcd_flags.SUPPORTED_MINORS


# --- flags -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("minor,component", CASES)
def test_every_printed_flag_is_in_the_table_with_its_type(minor, component):
    real = DATA[minor]["components"][component]["flags"]
    table = k8s_flags.flags_for(component, minor)
    missing = sorted(name for name in real if name not in table)
    assert not missing, "%s v%s prints flags the table lacks: %s" % (component, minor, missing)
    wrong = sorted((name, table[name], real[name]) for name in real if table[name] != real[name])
    assert not wrong, "(flag, table type, binary type): %s" % wrong
    for name in real:
        assert k8s_flags.check_flag(component, minor, name) is None, name


@pytest.mark.parametrize("minor,component", CASES)
def test_every_table_flag_is_printed_or_hidden(minor, component):
    info = DATA[minor]["components"][component]
    table = k8s_flags.flags_for(component, minor)
    extra = sorted(name for name in table if name not in info["flags"] and name not in info["hidden_flags"])
    assert not extra, "the table accepts flags %s v%s neither prints nor hides: %s" % (component, minor, extra)
    for name, kind in info["hidden_flags"].items():
        assert table.get(name) == kind, "hidden flag %s of %s v%s" % (name, component, minor)
        assert name not in info["flags"], "%s v%s prints --%s: drop it from HIDDEN_FLAGS" % (component, minor, name)


@pytest.mark.parametrize("minor,component", CASES)
def test_hidden_flags_recorded_are_the_listed_ones(minor, component):
    listed = {name: kind for name, (dummy, kind) in _FLAG_DATA.hidden_flags(component, minor).items()}
    assert DATA[minor]["components"][component]["hidden_flags"] == listed


def test_hidden_flags_have_reasons():
    for component, flags in _FLAG_DATA.HIDDEN_FLAGS.items():
        assert component in k8s_flags.COMPONENTS
        for name, (first, last, value, kind, reason) in flags.items():
            assert first in k8s_flags.SUPPORTED_MINORS and (last is None or last in k8s_flags.SUPPORTED_MINORS)
            assert value and kind and len(reason) > 20, name


def test_the_product_reads_the_data_of_the_binaries():
    """data/k8s_release_flags.json is what flag_data.py renders from the committed JSON, and k8s_flags answers from
    it."""
    from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_flag_data, kubeadm_config

    assert _FLAG_DATA.RELEASE_DATA.read_text(encoding="utf-8") == _FLAG_DATA.render_release_data(DATA), \
        "run tests/testbed/flag_data.py render"
    release = k8s_flag_data.load("k8s_release_flags")
    assert k8s_flags.RELEASE_MINORS == tuple(COMMITTED)
    assert release["releases"] == {minor: DATA[minor]["kubernetes_version"] for minor in COMMITTED}
    # the data file holds the JSON's content: JSON's {"host_path", "mount_path", "read_only"} as a tuple
    assert kubeadm_config.kubeadm_manifests() == {
        minor: {component: {"args": info["args"],
                            "volumes": {name: (volume["host_path"], volume["mount_path"], volume["read_only"])
                                        for name, volume in info["volumes"].items()}}
                for component, info in DATA[minor]["kubeadm"].items()}
        for minor in COMMITTED}


def test_the_seam_between_the_table_and_the_binaries_is_the_release_notes():
    first = k8s_flags.RELEASE_MINORS[0]
    assert first == "1.34"
    for component in k8s_flags.COMPONENTS:
        before, after = k8s_flags.flags_for(component, "1.33"), k8s_flags.flags_for(component, first)
        removed, added = SEAM_1_34.get(component, (set(), set()))
        assert (set(before) - set(after), set(after) - set(before)) == (removed, added), component
        assert {name: (before[name], after[name]) for name in set(before) & set(after)
                if before[name] != after[name]} == {}, component
        for name in removed:
            assert k8s_flags.check_flag(component, first, name).endswith("it was removed in v1.34")
        for name in added:
            assert k8s_flags.check_flag(component, "1.33", name).endswith("it was added in v1.34")
    assert k8s_flags.admission_plugins("1.33") == k8s_flags.admission_plugins(first)


def test_messages_name_the_release_of_a_change_between_the_binaries():
    assert k8s_flags.check_flag("kubelet", "1.37", "--containerd").endswith("it was removed in v1.37")
    assert k8s_flags.check_flag("kube-controller-manager", "1.36", "concurrent-disruption-syncs").endswith(
        "it was added in v1.37")
    assert k8s_flags.check_admission_plugin("1.37", "JobValidation").endswith("it was removed in v1.37")
    assert k8s_flags.check_admission_plugin("1.35", "JobValidation").endswith("it was added in v1.36")


@pytest.mark.parametrize("minor,component", CASES)
def test_placeholder_types(minor, component):
    """pflag prints a backquoted usage word instead of the type; flag_data.py stores the real type (checked there)."""
    info = DATA[minor]["components"][component]
    for name, printed in info["placeholders"].items():
        assert info["flags"][name] == "bool" and printed != "bool", name


# --- admission plugins -------------------------------------------------------------------------------------

@pytest.mark.parametrize("minor", MINORS)
def test_admission_plugins_match(minor):
    info = DATA[minor]["components"]["kube-apiserver"]
    assert k8s_flags.admission_plugins(minor) == frozenset(info["admission_plugins"])
    assert set(info["admission_plugins_default_enabled"]) <= set(info["admission_plugins"])
    for name in info["admission_plugins"]:
        assert k8s_flags.check_admission_plugin(minor, name) is None


# --- feature gates -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("minor,component", CASES)
def test_every_printed_gate_is_in_the_table(minor, component):
    real = DATA[minor]["components"][component]["feature_gates"]
    table = k8s_flags.feature_gates(minor)
    problems = []
    for name, gate in sorted(real.items()):
        spec = table.get(name)
        if spec is None:
            problems.append((name, "not in the table"))
            continue
        if spec["stage"] != _STAGES[gate["stage"]]:
            problems.append((name, "stage", spec["stage"], gate["stage"]))
        if spec["default"] != gate["default"] and (component, minor, name) not in GATE_DEFAULT_OVERRIDES:
            problems.append((name, "default", spec["default"], gate["default"]))
        if k8s_flags.check_feature_gate(component, minor, name, not gate["default"]) is not None:
            problems.append((name, "refused"))
    assert not problems, "%s v%s: %s" % (component, minor, problems)


@pytest.mark.parametrize("minor,component", CASES)
def test_every_alpha_and_beta_gate_of_the_table_is_printed(minor, component):
    """component-base prints only alpha and beta gates (FeatureSpec.HelpString skips GA and deprecated ones)."""
    real = DATA[minor]["components"][component]["feature_gates"]
    for name, spec in k8s_flags.feature_gates(minor).items():
        if spec["stage"] not in ("alpha", "beta"):
            continue
        if component in k8s_flags._gates()["not_registered_by"].get(name, ()):  # pylint: disable=protected-access
            assert name not in real
            assert k8s_flags.check_feature_gate(component, minor, name, spec["default"]).startswith(
                "unrecognized feature gate: %s" % name)
            continue
        assert name in real, "%s v%s does not print gate %s (%s)" % (component, minor, name, spec["stage"])


def test_gate_default_overrides_are_real():
    for (component, minor, name), reason in GATE_DEFAULT_OVERRIDES.items():
        if minor in MINORS:
            printed = DATA[minor]["components"][component]["feature_gates"][name]["default"]
            assert printed != k8s_flags.feature_gates(minor)[name]["default"], reason


# --- what kubeadm writes into the static pods -----------------------------------------------------------------

KUBEADM_COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")

# kubeadm's defaults that hold in every supported minor and that the product relies on: component -> flag -> value
# (None: kubeadm derives it from the node's or the cluster's configuration).
KUBEADM_ARGS = {
    "kube-apiserver": {"authorization-mode": "Node,RBAC", "enable-admission-plugins": "NodeRestriction",
                       "allow-privileged": "true", "enable-bootstrap-token-auth": "true",
                       "advertise-address": None, "secure-port": None, "service-cluster-ip-range": None,
                       "service-account-issuer": None,  # https://kubernetes.default.svc.<dnsDomain>
                       "etcd-servers": None},  # https://127.0.0.1:2379, https://[::1]:2379 on an IPv6 node
    "kube-controller-manager": {"bind-address": "127.0.0.1", "use-service-account-credentials": "true",
                                "leader-elect": "true", "controllers": "*,bootstrapsigner,tokencleaner",
                                "kubeconfig": "/etc/kubernetes/controller-manager.conf", "cluster-name": None,
                                # given only with a podSubnet
                                "allocate-node-cidrs": None, "cluster-cidr": None, "service-cluster-ip-range": None},
    "kube-scheduler": {"bind-address": "127.0.0.1", "leader-elect": "true",
                       "kubeconfig": "/etc/kubernetes/scheduler.conf"},
    "etcd": {"client-cert-auth": "true", "peer-client-cert-auth": "true", "data-dir": None, "name": None,
             "advertise-client-urls": None, "listen-client-urls": None},
}

# The certificate and key flags, which follow certificatesDir.
KUBEADM_CERTIFICATE_FLAGS = {
    "kube-apiserver": {"client-ca-file", "etcd-cafile", "etcd-certfile", "etcd-keyfile", "kubelet-client-certificate",
                       "kubelet-client-key", "proxy-client-cert-file", "proxy-client-key-file",
                       "requestheader-client-ca-file", "service-account-key-file", "service-account-signing-key-file",
                       "tls-cert-file", "tls-private-key-file"},
    "kube-controller-manager": {"client-ca-file", "cluster-signing-cert-file", "cluster-signing-key-file",
                                "requestheader-client-ca-file", "root-ca-file", "service-account-private-key-file"},
    "kube-scheduler": set(),
    "etcd": {"cert-file", "key-file", "peer-cert-file", "peer-key-file", "peer-trusted-ca-file", "trusted-ca-file"},
}
_CERTIFICATE_FLAG_RE = re.compile(r".*(-file|cafile|certfile|keyfile|-certificate|-key)$")

# The directories /etc/ssl/certs may link into, which kubeadm mounts read-only into kube-apiserver and
# kube-controller-manager when the node has them (the audit cannot predict them: (None, None, True)).
KUBEADM_CA_CERTS_VOLUMES = {"etc-ca-certificates", "etc-pki-ca-trust", "etc-pki-tls-certs",
                            "usr-local-share-ca-certificates", "usr-share-ca-certificates"}

# component -> volume -> (hostPath, mountPath, readOnly) in every supported minor.
KUBEADM_VOLUMES = {
    "kube-apiserver": {"k8s-certs": (None, None, True), "ca-certs": ("/etc/ssl/certs", "/etc/ssl/certs", True)},
    "kube-controller-manager": {
        "k8s-certs": (None, None, True), "ca-certs": ("/etc/ssl/certs", "/etc/ssl/certs", True),
        "kubeconfig": ("/etc/kubernetes/controller-manager.conf", "/etc/kubernetes/controller-manager.conf", True)},
    "kube-scheduler": {"kubeconfig": ("/etc/kubernetes/scheduler.conf", "/etc/kubernetes/scheduler.conf", True)},
    "etcd": {"etcd-data": (None, None, False), "etcd-certs": (None, None, False)},  # dataDir, certificatesDir/etcd
}
_FLEXVOLUME_DIR = "/usr/libexec/kubernetes/kubelet-plugins/volume/exec"


def _kubeadm_volumes(minor, component):
    return {name: (volume["host_path"], volume["mount_path"], volume["read_only"])
            for name, volume in DATA[minor]["kubeadm"][component]["volumes"].items()}


@pytest.mark.parametrize("minor", COMMITTED)
def test_kubeadm_data_is_well_formed(minor):
    kubeadm = DATA[minor]["kubeadm"]
    assert sorted(kubeadm) == sorted(KUBEADM_COMPONENTS)
    for component, info in kubeadm.items():
        assert sorted(info) == ["args", "volumes"], component
        assert len(info["args"]) >= 5 and len(info["volumes"]) >= 1, component
        for name, value in info["args"].items():
            assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", name), (component, name)
            assert value is None or (isinstance(value, str) and value), (component, name, value)
        for name, volume in info["volumes"].items():
            assert sorted(volume) == ["host_path", "mount_path", "read_only"], (component, name)
            assert isinstance(volume["read_only"], bool)
            for path in (volume["host_path"], volume["mount_path"]):
                assert path is None or path.startswith("/"), (component, name, path)
    # nothing of the two runs' own configuration is left in a literal
    text = json.dumps(kubeadm)
    for word in ("sck8s", "10.1.2.3", "fd00:", "/tmp/", "certs-b", "7443", "registry.k8s.io"):
        assert word not in text, word


@pytest.mark.parametrize("minor", COMMITTED)
@pytest.mark.parametrize("component", sorted(KUBEADM_ARGS))
def test_kubeadm_args_the_product_relies_on(minor, component):
    args = DATA[minor]["kubeadm"][component]["args"]
    assert {name: args.get(name, "(not given)") for name in KUBEADM_ARGS[component]} == KUBEADM_ARGS[component]


@pytest.mark.parametrize("minor", COMMITTED)
@pytest.mark.parametrize("component", KUBEADM_COMPONENTS)
def test_kubeadm_certificate_flags_follow_the_certificates_dir(minor, component):
    args = DATA[minor]["kubeadm"][component]["args"]
    paths = {name for name in args if _CERTIFICATE_FLAG_RE.fullmatch(name)}
    assert paths == KUBEADM_CERTIFICATE_FLAGS[component]
    assert {name: args[name] for name in paths if args[name] is not None} == {}


@pytest.mark.parametrize("minor", COMMITTED)
@pytest.mark.parametrize("component", KUBEADM_COMPONENTS)
def test_kubeadm_volumes(minor, component):
    volumes = _kubeadm_volumes(minor, component)
    assert {name: volumes.get(name) for name in KUBEADM_VOLUMES[component]} == KUBEADM_VOLUMES[component]
    ca_certs = {name for name in volumes if name in KUBEADM_CA_CERTS_VOLUMES}
    if component in ("kube-apiserver", "kube-controller-manager"):
        assert ca_certs == KUBEADM_CA_CERTS_VOLUMES
        assert {volumes[name] for name in ca_certs} == {(None, None, True)}
    else:
        assert not ca_certs
    # kubeadm v1.36 stopped mounting the FlexVolume plugin directory (writable) into kube-controller-manager
    flexvolume = (_FLEXVOLUME_DIR, _FLEXVOLUME_DIR, False)
    has_flexvolume = component == "kube-controller-manager" and _minor_key(minor) < (1, 36)
    assert volumes.get("flexvolume-dir") == (flexvolume if has_flexvolume else None)
    extra = set(volumes) - set(KUBEADM_VOLUMES[component]) - KUBEADM_CA_CERTS_VOLUMES - {"flexvolume-dir"}
    assert not extra, "volumes kubeadm %s writes that these tests do not know: %s" % (minor, sorted(extra))


def _pod(component, command, volumes=(), mounts=()):
    return {"apiVersion": "v1", "kind": "Pod", "spec": {
        "containers": [{"name": component, "command": [component] + list(command), "volumeMounts": list(mounts)}],
        "volumes": [{"name": name, "hostPath": {"path": path, "type": "DirectoryOrCreate"}} for name, path in volumes]}}


def test_kubeadm_manifest_is_read_flag_by_flag():
    pod = _pod("kube-scheduler", ["--bind-address=127.0.0.1", "--feature-gates=A=true,B=false", "--empty="],
               [("kubeconfig", "/etc/kubernetes/scheduler.conf"), ("rw", "/srv")],
               [{"name": "kubeconfig", "mountPath": "/etc/kubernetes/scheduler.conf", "readOnly": True},
                {"name": "rw", "mountPath": "/mnt"}])
    args, volumes = _FLAG_DATA.pod_command_and_volumes(pod, "kube-scheduler")
    assert args == {"bind-address": "127.0.0.1", "feature-gates": "A=true,B=false", "empty": ""}
    assert volumes == {"kubeconfig": ("/etc/kubernetes/scheduler.conf", "/etc/kubernetes/scheduler.conf", True),
                       "rw": ("/srv", "/mnt", False)}


@pytest.mark.parametrize("command, volumes, mounts, error", [
    (["--v=2", "--v=4"], (), (), "--v is given twice"),
    (["--leader-elect"], (), (), "is not --name=value"),
    (["-v=2"], (), (), "is not --name=value"),
    ([], (), [{"name": "gone", "mountPath": "/x"}], "mount gone has no volume"),
    ([], [("unmounted", "/x")], (), "volumes not mounted: ['unmounted']"),
    ([], [("sub", "/x")], [{"name": "sub", "mountPath": "/y", "subPath": "z"}], "mount sub is more than a path"),
])
def test_kubeadm_manifest_surprises_fail(command, volumes, mounts, error):
    with pytest.raises(_FLAG_DATA.FlagDataError, match=re.escape(error)):
        _FLAG_DATA.pod_command_and_volumes(_pod("etcd", command, volumes, mounts), "etcd")


def test_kubeadm_runs_differ_in_every_value_a_node_or_cluster_configures():
    first, second = _FLAG_DATA.KUBEADM_RUNS
    assert sorted(first) == sorted(second)
    assert {key for key in first if first[key] == second[key]} == set()
    assert [run["podSubnet"] is None for run in (first, second)].count(True) == 1
    assert [run["controlPlaneEndpoint"] is None for run in (first, second)].count(True) == 1
    assert ":" in second["advertiseAddress"] and ":" not in first["advertiseAddress"]  # IPv6 and IPv4


def test_kubeadm_runs_are_merged_into_literals_and_derived_values():
    first = ({"bind-address": "127.0.0.1", "name": "a"}, {"k8s-certs": ("/a/pki", "/a/pki", True),
                                                          "kubeconfig": ("/etc/k.conf", "/etc/k.conf", True)})
    second = ({"bind-address": "127.0.0.1", "name": "b", "cluster-cidr": "10.244.0.0/16"},
              {"k8s-certs": ("/b/pki", "/b/pki", True), "kubeconfig": ("/etc/k.conf", "/etc/k.conf", True)})
    merged = _FLAG_DATA.merge_runs("kube-scheduler", first, second)
    assert merged["args"] == {"bind-address": "127.0.0.1", "cluster-cidr": None, "name": None}
    assert merged["volumes"] == {
        "k8s-certs": {"host_path": None, "mount_path": None, "read_only": True},
        "kubeconfig": {"host_path": "/etc/k.conf", "mount_path": "/etc/k.conf", "read_only": True}}
    with pytest.raises(_FLAG_DATA.FlagDataError, match="other volumes"):
        _FLAG_DATA.merge_runs("kube-scheduler", first, (second[0], {"k8s-certs": ("/b/pki", "/b/pki", True)}))
    with pytest.raises(_FLAG_DATA.FlagDataError, match="read-only in one run only"):
        writable = dict(second[1], kubeconfig=("/etc/k.conf", "/etc/k.conf", False))
        _FLAG_DATA.merge_runs("kube-scheduler", first, (second[0], writable))


def test_kubeadm_ca_certs_volumes_are_those_of_the_host():
    here = {"/etc/ca-certificates", "/usr/share/ca-certificates"}
    volumes = {"ca-certs": ("/etc/ssl/certs", "/etc/ssl/certs", True),
               "etc-ca-certificates": ("/etc/ca-certificates", "/etc/ca-certificates", True),
               "usr-share-ca-certificates": ("/usr/share/ca-certificates", "/usr/share/ca-certificates", True)}
    kept = _FLAG_DATA.take_ca_certs_volumes("kube-apiserver", volumes, exists=here.__contains__)
    assert kept == {"ca-certs": ("/etc/ssl/certs", "/etc/ssl/certs", True)}
    for component, exists in (("kube-apiserver", (here | {"/etc/pki/ca-trust"}).__contains__),  # one missing
                              ("kube-apiserver", {"/etc/ca-certificates"}.__contains__),  # one too many
                              ("kube-scheduler", here.__contains__)):  # not kubeadm's for the scheduler
        with pytest.raises(_FLAG_DATA.FlagDataError, match="CA certificate volumes"):
            _FLAG_DATA.take_ca_certs_volumes(component, volumes, exists=exists)


# --- against the binaries, where they are built ------------------------------------------------------------

_BUILT = [minor for minor in MINORS if _FLAG_DATA.release(minor)]


@pytest.mark.skipif(not _BUILT, reason="no real Kubernetes binaries built here (tests/testbed/k8s_bins.py)")
@pytest.mark.parametrize("component", sorted(_FLAG_DATA.HIDDEN_FLAGS))
def test_hidden_flags_are_accepted_by_the_binaries(component):
    for minor in _BUILT:
        flags = _FLAG_DATA.hidden_flags(component, minor)
        args = ["--%s=%s" % (name, value) for name, (value, dummy) in flags.items()]
        results = _FLAG_DATA.probe(minor, component, args)
        refused = [(arg, note) for arg, accepted, note in results if not accepted]
        assert not refused, (minor, refused)
        for arg, dummy, note in results:
            assert "has been deprecated" in note, (minor, arg, note)
