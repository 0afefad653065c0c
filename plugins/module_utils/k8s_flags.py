# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command-line flags accepted by the kubeadm control-plane and node components, per Kubernetes minor.

The lookups over the flag data files (k8s_flag_data.py: data/k8s_release_flags.json, k8s_flag_history.json,
k8s_feature_gates.json), standard library only. Node-side modules import this module (through static_pod) but never
look a flag up there: the data is read on first use, on the controller. The test node image copies this module, its
imports and the data files, where the stand-in binaries use it to reject unknown flags the way pflag does.

Public API (docs/dev/contracts.md)::

    SUPPORTED_MINORS, COMPONENTS, RELEASE_MINORS (the minors answered from data/k8s_release_flags.json)
    minor(version) -> "1.33"                      k8s_version.minor: ValueError when malformed or unsupported
    flags_for(component, version) -> {name: type}
    check_flag(component, version, name) -> None | sentence
    admission_plugins(version) -> frozenset
    check_admission_plugin(version, name) -> None | sentence
    check_tls_min_version(name) -> None | sentence
    check_cipher_suite(name) -> (None | problem, None | warning)
    feature_gates(version) -> {gate: {"stage", "default", "locked"}}
    check_feature_gate(component, version, name, value) -> None | sentence
    FEATURE_GATES_DATA_MINOR (the newest minor of the gate data)

Names carry no leading dashes. Every component normalises "_" to "-" in flag names (component-base's
WordSepNormalizeFunc), so names are stored with dashes and lookups accept either spelling. Types are the words
pflag prints in --help (Value.Type(), float64/int64/stringSlice shortened to float/int/strings; "bool" where none is
printed), as tests/testbed/flag_data.py reads them from the real binaries: e.g. ip, float32, int32Slice,
stringArray, namedCertKey, mapStringString, colonSeparatedMultimapStringString, quantity, portRange, ipport,
"[]v1.Taint", "reserved-memory", "Level" (-v), "pattern=N,..." (--vmodule). "version[=true]" is an optional-value
flag: like a bool it may be written without a value. The kubelet prints "--seccomp-default RuntimeDefault" (a
backquoted word of the usage text in place of the type); it is a bool and stored as one. Shorthands: "-h" is
"help", "-v" is "v" (see SHORTHANDS).

Where the data comes from
-------------------------
* 1.34, 1.35, 1.36 and 1.37 (RELEASE_MINORS): data/k8s_release_flags.json, generated from the real binaries (v1.34.4,
  v1.35.4, v1.36.3, v1.37.2, built from the Go module proxy by tests/testbed/k8s_bins.py). tests/testbed/
  flag_data.py records what each prints in tests/testbed/flags/<minor>.json (flags with their types, admission
  plugins, alpha/beta feature gates, and the flags they accept but hide from --help, each confirmed on the binary)
  and renders the flags and admission plugins of every release into that file; `make real-test` fails when the
  binaries, the JSON and the data file disagree. Nothing for these minors is written by hand here; the "added in" and
  "removed in" of the messages are read off the releases' data. The feature gates (data/k8s_feature_gates.json) are
  still kept by hand, held to the binaries by tests/unit/testbed/test_real_flags.py.
* 1.28-1.33 (data/k8s_flag_history.json: flags, admission_plugins) are not checked against binaries; a flag of the 1.33 table that the 1.34
  binaries lack was removed in 1.34 (kubelet cloud-config, register-schedulable), one they have and the table
  lacks was added in 1.34 (kube-apiserver coordinated-leadership-*). Corrections the 1.34 binaries proved and
  that hold for the older minors too (the registrations predate 1.28): the types above, where the pages printed
  "string", "float", "int" or "strings" (e.g. --bind-address ip, --kube-api-qps float32, --tls-sni-cert-key
  namedCertKey, the kubelet's --eviction-hard and --kube-reserved mapStringString); kube-proxy's boot-id-file and
  machine-id-file (registered through the Go flag set, cmd/kube-proxy/app/server.go) were never removed in 1.30;
  kube-proxy's legacy klog flags (--log-dir, --logtostderr, ...) went in 1.26 with every other component's (the
  pages kept listing them).
  The rest of 1.28-1.33 comes from the sources below.
* Straight from the Kubernetes command-line reference pages (kubernetes/website,
  content/en/docs/reference/command-line-tools-reference/<component>.md, the page as it stood for that release):
  kube-apiserver, kube-controller-manager, kube-scheduler and kube-proxy for 1.28, 1.29, 1.30, 1.31;
  kubelet for 1.28 (hand-maintained page), 1.29, 1.30.
* Derived from the neighbouring pages plus the v1.xx.0 release notes (kubernetes/sig-release release-notes
  drafts, which are the CHANGELOG-1.xx.md ".0" sections): kubelet 1.31-1.33, kube-proxy 1.32-1.33,
  kube-apiserver, kube-controller-manager and kube-scheduler 1.32-1.33. The derivations, where the 1.34/1.35
  binaries agree with their end:
  - kubelet 1.31: + fail-cgroupv1; - keep-terminated-pod-volumes, iptables-masquerade-bit, iptables-drop-bit.
  - kubelet 1.34: - cloud-config, - register-schedulable.   kubelet 1.35: - pod-infra-container-image.
    (--runonce still parses from 1.32 on; the kubelet then refuses to start with it, so it stays listed.)
  - kube-apiserver 1.32: + requestheader-uid-headers, service-account-signing-endpoint; 1.33: + emulation-
    forward-compatible, runtime-config-emulation-forward-compatible, - cloud-provider, cloud-config;
    1.34: + coordinated-leadership-{lease-duration,renew-deadline,retry-period}; 1.35: + min-compatibility-version.
  - kube-controller-manager 1.32: + concurrent-daemonset-syncs, requestheader-uid-headers; 1.35:
    + concurrent-device-taint-eviction-syncs, controller-shutdown-timeout, min-compatibility-version.
  - kube-scheduler 1.32: + requestheader-uid-headers; 1.35: + min-compatibility-version.
* Accepted by the binaries but not printed on the 1.28-1.31 pages (added from the v1.28 source tree and the release
  notes). pflag's MarkDeprecated hides a flag from --help, and the pages are generated from --help:
  - kube-apiserver: admission-control, enable-logs-handler, apiserver-count, kubelet-port, kubelet-read-only-port,
    default-watch-cache-size, audit-webhook-batch-initial-backoff, cloud-provider-gce-lb-src-cidrs (gone with the
    in-tree GCE provider in 1.31), cloud-provider/cloud-config (hidden from 1.29, removed in 1.33).
  - kube-controller-manager: volume-host-cidr-denylist, volume-host-allow-local-loopback,
    horizontal-pod-autoscaler-upscale-delay, horizontal-pod-autoscaler-downscale-delay (all removed in 1.31),
    cloud-provider-gce-lb-src-cidrs (removed in 1.31), allow-untagged-cloud, node-sync-period.
  - kubelet: the cAdvisor flags the kubelet re-registers (housekeeping-interval, boot-id-file, machine-id-file,
    storage-driver-*, ...), iptables-masquerade-bit/iptables-drop-bit (hidden in 1.28, removed in 1.31),
    azure-container-registry-config (hidden in 1.28, removed with the in-tree Azure provider in 1.30).
  - kube-proxy: healthz-port, metrics-port, proxy-port-range (hidden in 1.29-1.30, removed in 1.31).
  - all but the kubelet: log-json-info-buffer-size, log-json-split-stream. The real binaries link the JSON log
    format (the kubelet page lists these flags; the generator of the other pages does not link it).
* Flags removed before 1.28 (k8s_flag_history.json: removed_earlier, and klog_legacy, the legacy klog flags every
  component dropped in 1.26, kubernetes/kubernetes#112120) come from the release notes of the removing release (1.12-1.27)
  and, for a few, from the pull request that removed them. They exist so messages can name the version.
"""

from __future__ import annotations

import re

# by their full names: the test bed's stand-ins load this module by path, with these two registered under them
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_flag_data import load as _load
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_version import SUPPORTED_MINORS
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_version import minor as _minor, minor_key as _key
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")

# Single-letter shorthands every component registers (pflag "-h" and klog "-v").
SHORTHANDS = {"h": "help", "v": "v"}

# Types that may be written without a value ("--flag" alone).
NO_VALUE_TYPES = ("bool", "version[=true]")


def _release():
    """data/k8s_release_flags.json: releases, flags, hidden, admission_plugins, kubeadm_manifests."""
    return _load("k8s_release_flags")


_HISTORY = {}


def _history():
    """data/k8s_flag_history.json, the supported minors before RELEASE_MINORS (1.28-1.33):
        flags           component -> flag -> (type, added, removed): accepted for added <= minor < removed;
                        added None: since before 1.28, removed None: still in 1.33
        type_changes    component -> flag -> [(first minor with the new type, new type)]
        removed_earlier component -> flag -> the minor that removed it (before 1.28), for the messages; with every
                        klog_legacy flag, removed from all components in klog_legacy_removed_in
        admission_plugins / admission_removed_earlier: plugin -> (added, removed) / plugin -> removal minor
    """
    if not _HISTORY:
        data = _load("k8s_flag_history")
        removed = {}
        for component in COMPONENTS:
            removed[component] = dict((name, data["klog_legacy_removed_in"]) for name in data["klog_legacy"])
            removed[component].update(data["removed_earlier"].get(component, {}))
        _HISTORY.update(data, removed_earlier=removed)
    return _HISTORY


def __getattr__(name):
    """RELEASE_MINORS and FEATURE_GATES_DATA_MINOR come from the data files, read on first use (PEP 562)."""
    if name == "RELEASE_MINORS":  # the minors the real binaries answer for; older supported minors are history
        return tuple(sorted(_release()["releases"], key=_key))
    if name == "FEATURE_GATES_DATA_MINOR":
        return _load("k8s_feature_gates")["data_minor"]
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def minor(version):
    """The "1.NN" minor of a Kubernetes version ("v1.33.4", "1.33", "v1.33.0-rc.1"); ValueError when malformed or
    not in SUPPORTED_MINORS."""
    return _minor(version, SUPPORTED_MINORS)


def _component(component):
    if component not in COMPONENTS:
        raise ValueError("unknown component %r (expected one of: %s)" % (component, ", ".join(COMPONENTS)))
    return component


def _in_range(minor_str, added, removed):
    key = _key(minor_str)
    return (added is None or key >= _key(added)) and (removed is None or key < _key(removed))


def _normalize(name):
    """Strip leading dashes and any "=value", and apply pflag's word-separator normalisation ("_" -> "-")."""
    name = str(name).strip().lstrip("-").split("=", 1)[0]
    if len(name) == 1 and name in SHORTHANDS:
        return SHORTHANDS[name]
    return name.replace("_", "-")


def _type_at(component, name, minor_str, base_type):
    result = base_type
    for since, new_type in _history()["type_changes"].get(component, {}).get(name, ()):
        if _key(minor_str) >= _key(since):
            result = new_type
    return result


_FLAGS_AT = {}


def _flags_at(component, minor_str):
    """{flag: type} of `component` at a supported minor, built once per (component, minor)."""
    key = (component, minor_str)
    if key not in _FLAGS_AT:
        if minor_str in _release()["releases"]:
            _FLAGS_AT[key] = {name: ftype for name, (ftype, added, removed) in _release()["flags"][component].items()
                              if _in_range(minor_str, added, removed)}
        else:
            _FLAGS_AT[key] = {name: _type_at(component, name, minor_str, ftype)
                              for name, (ftype, added, removed) in _history()["flags"][component].items()
                              if _in_range(minor_str, added, removed)}
    return _FLAGS_AT[key]


def flags_for(component, version):
    """Return {flag name: pflag type} of every flag `component` accepts in `version`."""
    _component(component)
    return dict(_flags_at(component, minor(version)))


def _history_sentence(minor_str, accepted_in):
    """"added in vX" / "removed in vY" for a name that `minor_str` lacks and the minors `accepted_in` have."""
    earlier = [m for m in accepted_in if _key(m) < _key(minor_str)]
    if not earlier:
        return "it was added in v%s" % accepted_in[0]
    after = [m for m in SUPPORTED_MINORS if _key(m) > _key(earlier[-1]) and m not in accepted_in]
    return "it was removed in v%s" % after[0]


def check_flag(component, version, name):
    """Return None when `component` of `version` accepts the flag, else a sentence saying why not.

    `name` may be given with or without leading dashes (and with an "=value" suffix, which is ignored).
    """
    _component(component)
    minor_str = minor(version)
    flag = _normalize(name)
    if flag in _flags_at(component, minor_str):
        return None
    shown = "--%s" % flag
    head = "%s is not accepted by %s v%s" % (shown, component, minor_str)
    accepted_in = [m for m in SUPPORTED_MINORS if flag in _flags_at(component, m)]
    if accepted_in:
        return "%s: %s" % (head, _history_sentence(minor_str, accepted_in))
    removed_earlier = _history()["removed_earlier"][component].get(flag)
    if removed_earlier is not None:
        return "%s: it was removed in v%s" % (head, removed_earlier)
    return "%s: it is not a %s flag (unknown flag: %s)" % (head, component, shown)


# TLS settings: --tls-min-version / --tls-cipher-suites of the control plane, tlsMinVersion / tlsCipherSuites of the
# kubelet. Names as component-base's cliflag.TLSPossibleVersions and cliflag.TLSCipherSuites accept them; an unknown
# name makes the component exit at start.
TLS_VERSIONS = ("VersionTLS10", "VersionTLS11", "VersionTLS12", "VersionTLS13")
SECURE_CIPHER_SUITES = frozenset((
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384",
))
INSECURE_CIPHER_SUITES = frozenset((
    "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
))


def check_tls_min_version(name):
    """None, or why the components refuse ``name`` as a minimum TLS version."""
    if name in TLS_VERSIONS:
        return None
    return "%r is not a TLS version name (one of %s)" % (name, ", ".join(TLS_VERSIONS))


def check_cipher_suite(name):
    """(problem, warning): a name the components refuse at start, or one they accept but log as insecure."""
    if name in SECURE_CIPHER_SUITES:
        return None, None
    if name in INSECURE_CIPHER_SUITES:
        return None, "%s is an insecure cipher suite" % name
    return ("%r is not a Go cipher suite name (for example TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)" % (name,), None)


def admission_plugins(version):
    """Return the frozenset of admission plugin names kube-apiserver of `version` knows."""
    minor_str = minor(version)
    table = (_release() if minor_str in _release()["releases"] else _history())["admission_plugins"]
    return frozenset(name for name, (added, removed) in table.items() if _in_range(minor_str, added, removed))


def check_admission_plugin(version, name):
    """Return None when kube-apiserver of `version` knows admission plugin `name`, else a sentence saying why not."""
    minor_str = minor(version)
    plugin = str(name).strip()
    if plugin in admission_plugins(minor_str):
        return None
    head = "admission plugin %s is not known to kube-apiserver v%s" % (plugin, minor_str)
    accepted_in = [m for m in SUPPORTED_MINORS if plugin in admission_plugins(m)]
    if accepted_in:
        return "%s: %s" % (head, _history_sentence(minor_str, accepted_in))
    removed_earlier = _history()["admission_removed_earlier"].get(plugin)
    if removed_earlier is not None:
        return "%s: it was removed in v%s" % (head, removed_earlier)
    return "%s: it is not a kube-apiserver admission plugin" % head


# ---------------------------------------------------------------------------------------------------------------


# Feature gates (--feature-gates, KubeletConfiguration.featureGates)
#
# Every component registers the same global gate set (kube features, apiserver, component-base and client-go
# features), so the data is one table for all components; "not_registered_by" lists the exceptions the real
# binaries show. A gate's history is a string of specs
# "<minor><stage><default>[L]", each valid from its minor until the next one: stage a=alpha b=beta g=GA
# d=deprecated u=unknown (the gate existed, its stage is not recorded), default 0/1, L = locked to the default.
#   "1.31a0 1.32b1 1.34g1L": alpha (off) from 1.31, beta (on) from 1.32, GA locked on from 1.34.
# Sources:
# * "gates": kubernetes/kubernetes test/compatibility_lifecycle/reference/versioned_feature_list.yaml of v1.37.2
#   (the source the real 1.37 binaries were built from), which lists every gate of that release with its versioned
#   specs; scripts/feature_gates_from_yaml.py turns that file into those entries. Adjusted from the lists of
#   v1.34.4, v1.35.4 and v1.36.3 and the binaries: a gate first listed by a release after 1.34 starts with that
#   release (ImageVolumeWithDigest is "1.35" in the list but first registered by 1.36; same for
#   AllowServiceExternalIPs, ChangeContainerStatusOnKubeletRestart, KubeProxyIPVS, ServiceCIDRStatusFieldWiping);
#   a spec with minCompatibilityVersion X applies from X+1 (the default --min-compatibility-version is the previous
#   minor); TopologyManagerPolicyOptions is locked from 1.36 only (the 1.34/1.35 binaries let it be set false; the
#   1.37 list marks the 1.32 spec locked). The list names RuntimeClassInImageCriApi and CustomCPUCFSQuotaPeriod by
#   their Go constants RuntimeClassInImageCriAPI and CPUCFSQuotaPeriod. "client_go_gates": client-go v0.37.2
#   features/known_features.go (registered into every component's gates, absent from the list).
# * "gone_gates": gates no longer in the 1.37 list. Those that left after 1.34: the specs of the last release list
#   that has them, removed in the release after it. Those in the 1.34-cycle list but not in the v1.34.4 one:
#   removed in 1.34. The older ones: gates of 1.28-1.31 that are not in the 1.34 list: stages from the
#   kubernetes/website feature gate pages (content/en/docs/reference/command-line-tools-reference/feature-gates/
#   <Gate>.md front matter; "removed: true" with the last toVersion gives the removal) and the locking from
#   test/featuregates_linter/test_data/unversioned_feature_list.yaml of the 1.31 cycle. A removal of null: the
#   pages do not record it; the gate is accepted up to 1.33 and unknown from 1.34 on (not in the 1.34 list).
# Checked against the real 1.34-1.37 binaries (tests/testbed/flag_data.py, tests/unit/testbed/test_real_flags.py):
# the alpha and beta gates each component prints in its --feature-gates help, and kube-scheduler accepting every
# gate of the table at its default, refusing every other name and refusing each locked gate set against its default.
# Gaps: a gate removed between 1.28 and 1.33 that is missing from "gone_gates" is reported unrecognized on the
# versions that still had it; the defaults of GA and deprecated gates, which no binary prints, come from the lists
# alone. Unknown names are not refused on minors newer than "data_minor" (FEATURE_GATES_DATA_MINOR; none is supported
# now). "gone_gates_last_seen": the unversioned_feature_list.yaml the locking of "gone_gates" comes from;
# "gone_gates_gone_by": the first gate list the "gone_gates" without a removal minor are missing from.
# ---------------------------------------------------------------------------------------------------------------
_GATE_STAGES = {"a": "alpha", "b": "beta", "g": "GA", "d": "deprecated", "u": None}
_GATE_SPEC_RE = re.compile(r"^(\d+\.\d+)([abgdu])([01])(L?)$")
_GATE_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
               "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


def _gates():
    return _load("k8s_feature_gates")


def _gate_history(name):
    """(specs, removed_in, gone_by) of a gate; specs [(minor, stage, default, locked)]; None when unknown."""
    data = _gates()
    if name in data["gates"] or name in data["client_go_gates"]:
        history, removed, gone_by = data["gates"].get(name) or data["client_go_gates"][name], None, None
    elif name in data["gone_gates"]:
        history, removed = data["gone_gates"][name]
        gone_by = None if removed else data["gone_gates_gone_by"]
    else:
        return None
    specs = []
    for token in history.split():
        since, stage, default, locked = _GATE_SPEC_RE.match(token).groups()
        specs.append((since, _GATE_STAGES[stage], default == "1", locked == "L"))
    return specs, removed, gone_by


def _gate_at(name, minor_str):
    """The spec of gate `name` at `minor_str` as a dict, or (None, reason) when that version does not have it."""
    entry = _gate_history(name)
    if entry is None:
        return None, None
    specs, removed, gone_by = entry
    key = _key(minor_str)
    if removed and key >= _key(removed):
        return None, "removed in v%s" % removed
    if gone_by and key >= _key(gone_by):
        return None, "not in the v%s gate list, last recorded in v%s" % (gone_by, _gates()["gone_gates_last_seen"])
    current = None
    for since, stage, default, locked in specs:
        if _key(since) <= key:
            current = {"stage": stage, "default": default, "locked": locked}
    if current is None:
        return None, "added in v%s" % specs[0][0]
    return current, None


def feature_gates(version):
    """Return {gate: {"stage", "locked", "default"}} of every gate known to be accepted in `version`.

    stage is "alpha", "beta", "GA", "deprecated" or None (the gate existed; its stage is not recorded).
    """
    minor_str = minor(version)
    result = {}
    data = _gates()
    for name in sorted(set(data["gates"]) | set(data["client_go_gates"]) | set(data["gone_gates"])):
        spec, dummy = _gate_at(name, minor_str)
        if spec is not None:
            result[name] = spec
    return result


def parse_gate_value(value):
    """True/False for a gate value as Go's strconv.ParseBool reads it ("true", "1", "F", ...); else None."""
    if isinstance(value, bool):
        return value
    return _GATE_BOOLS.get(str(value).strip())


def check_feature_gate(component, version, name, value):
    """Return None when `component` of `version` accepts --feature-gates `name`=`value`, else the reason.

    The sentences start like the component's own error: "unrecognized feature gate: X" (followed by the
    version it was removed in, when known) and "cannot set feature gate X to false, feature is locked to true".
    Unknown names are not refused on minors newer than FEATURE_GATES_DATA_MINOR (the data cannot tell).
    """
    _component(component)
    minor_str = minor(version)
    gate = str(name).strip()
    spec, reason = _gate_at(gate, minor_str)
    if spec is not None and component in _gates()["not_registered_by"].get(gate, ()):
        spec, reason = None, "not registered by %s" % component
    if spec is None:
        if reason is None and _key(minor_str) > _key(_gates()["data_minor"]):
            return None
        where = "%s v%s" % (component, minor_str)
        return "unrecognized feature gate: %s (%s%s)" % (gate, where, "; " + reason if reason else "")
    wanted = parse_gate_value(value)
    if wanted is None:
        return 'invalid value of %s=%s, err: strconv.ParseBool: parsing "%s": invalid syntax' % (gate, value, value)
    if spec["locked"] and wanted != spec["default"]:
        return "cannot set feature gate %s to %s, feature is locked to %s" % (
            gate, "true" if wanted else "false", "true" if spec["default"] else "false")
    return None
