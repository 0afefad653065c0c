# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/k8s_flags.py against what the real Kubernetes binaries print.

tests/testbed/flag_data.py runs each real binary's --help and records the flags (with their pflag types), the
admission plugins and the alpha/beta feature gates in tests/testbed/flags/<minor>.json. These tests read the
committed JSON, not the binaries, so they run everywhere; `flag_data.py check` (run after the binaries are built)
keeps the JSON in step with the binaries. Both directions are checked for every minor that the JSON and
k8s_flags.SUPPORTED_MINORS both cover: what a binary prints, the table accepts with the same type, and what the
table accepts, the binary prints or hides (flag_data.HIDDEN_FLAGS, recorded under "hidden_flags"). For 1.34-1.37
the flags and admission plugins are the generated k8s_release_flags.py, so these tests check that the product
reads it; its gate table and the 1.33/1.34 seam are checked against the release notes. The tests at the end run
the binaries when they are built here (skipped otherwise) to show that the hidden flags really are accepted.
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
    """k8s_release_flags.py is what flag_data.py renders from the committed JSON, and k8s_flags answers from it."""
    from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_release_flags

    assert _FLAG_DATA.RELEASE_MODULE.read_text(encoding="utf-8") == _FLAG_DATA.render_release_module(DATA), \
        "run tests/testbed/flag_data.py module"
    assert k8s_flags.RELEASE_MINORS == tuple(COMMITTED)
    assert k8s_release_flags.RELEASES == {minor: DATA[minor]["kubernetes_version"] for minor in COMMITTED}


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
        if component in k8s_flags._GATES_NOT_REGISTERED_BY.get(name, ()):
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
