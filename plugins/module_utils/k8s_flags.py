# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command-line flags accepted by the kubeadm control-plane and node components, per Kubernetes minor.

Pure data plus a few lookup helpers, standard library only: the module runs on target nodes and is copied
into the test node image, where the stand-in binaries use it to reject unknown flags the way pflag does.

Public API (docs/dev/contracts.md)::

    SUPPORTED_MINORS, COMPONENTS, RELEASE_MINORS (the minors answered from k8s_release_flags.py)
    minor(version) -> "1.33"                      ValueError when malformed or outside SUPPORTED_MINORS
    flags_for(component, version) -> {name: type}
    check_flag(component, version, name) -> None | sentence
    admission_plugins(version) -> frozenset
    check_admission_plugin(version, name) -> None | sentence
    check_tls_min_version(name) -> None | sentence
    check_cipher_suite(name) -> (None | problem, None | warning)

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
* 1.34, 1.35, 1.36 and 1.37 (RELEASE_MINORS): k8s_release_flags.py, generated from the real binaries (v1.34.4,
  v1.35.4, v1.36.3, v1.37.2, built from the Go module proxy by tests/testbed/k8s_bins.py). tests/testbed/
  flag_data.py records what each prints in tests/testbed/flags/<minor>.json (flags with their types, admission
  plugins, alpha/beta feature gates, and the flags they accept but hide from --help, each confirmed on the binary)
  and renders the flags and admission plugins of every release into that module; `make real-test` fails when the
  binaries, the JSON and the module disagree. Nothing for these minors is written by hand here; the "added in" and
  "removed in" of the messages are read off the releases' data. The feature gates below are still a table, held
  to the binaries by tests/unit/testbed/test_real_flags.py.
* 1.28-1.33 (_FLAGS, _ADMISSION_PLUGINS) are not checked against binaries; a flag of the 1.33 table that the 1.34
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
* Flags removed before 1.28 (_REMOVED_EARLIER) come from the release notes of the removing release (1.12-1.27)
  and, for a few, from the pull request that removed them. They exist so messages can name the version.
"""

from __future__ import annotations

import re

try:
    from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_release_flags as _release
except ImportError:  # loaded by file path (the test bed's stand-ins, scripts/): the generated data sits beside it
    import importlib.util as _importlib_util
    import os as _os

    _spec = _importlib_util.spec_from_file_location(
        "k8s_release_flags", _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "k8s_release_flags.py"))
    _release = _importlib_util.module_from_spec(_spec)
    _spec.loader.exec_module(_release)

SUPPORTED_MINORS = ("1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37")
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")

# Single-letter shorthands every component registers (pflag "-h" and klog "-v").
SHORTHANDS = {"h": "help", "v": "v"}

# Types that may be written without a value ("--flag" alone).
NO_VALUE_TYPES = ("bool", "version[=true]")

# The minors the real binaries answer for (k8s_release_flags.py, generated from them); the tables below hold the
# older supported minors.
RELEASE_MINORS = tuple(sorted(_release.RELEASES, key=lambda m: tuple(int(p) for p in m.split("."))))

# component -> flag -> (type, added_minor, removed_minor), for the supported minors before RELEASE_MINORS (1.28-1.33)
#   added_minor None: accepted since before 1.28; removed_minor None: still accepted in 1.33.
#   The flag is accepted for added_minor <= minor < removed_minor.
_FLAGS = {
    "kube-apiserver": {
        "admission-control": ("strings", None, None),
        "admission-control-config-file": ("string", None, None),
        "advertise-address": ("ip", None, None),
        "aggregator-reject-forwarding-redirect": ("bool", None, None),
        "allow-metric-labels": ("stringToString", None, None),
        "allow-metric-labels-manifest": ("string", "1.29", None),
        "allow-privileged": ("bool", None, None),
        "anonymous-auth": ("bool", None, None),
        "api-audiences": ("strings", None, None),
        "apiserver-count": ("int", None, None),
        "audit-log-batch-buffer-size": ("int", None, None),
        "audit-log-batch-max-size": ("int", None, None),
        "audit-log-batch-max-wait": ("duration", None, None),
        "audit-log-batch-throttle-burst": ("int", None, None),
        "audit-log-batch-throttle-enable": ("bool", None, None),
        "audit-log-batch-throttle-qps": ("float32", None, None),
        "audit-log-compress": ("bool", None, None),
        "audit-log-format": ("string", None, None),
        "audit-log-maxage": ("int", None, None),
        "audit-log-maxbackup": ("int", None, None),
        "audit-log-maxsize": ("int", None, None),
        "audit-log-mode": ("string", None, None),
        "audit-log-path": ("string", None, None),
        "audit-log-truncate-enabled": ("bool", None, None),
        "audit-log-truncate-max-batch-size": ("int", None, None),
        "audit-log-truncate-max-event-size": ("int", None, None),
        "audit-log-version": ("string", None, None),
        "audit-policy-file": ("string", None, None),
        "audit-webhook-batch-buffer-size": ("int", None, None),
        "audit-webhook-batch-initial-backoff": ("duration", None, None),
        "audit-webhook-batch-max-size": ("int", None, None),
        "audit-webhook-batch-max-wait": ("duration", None, None),
        "audit-webhook-batch-throttle-burst": ("int", None, None),
        "audit-webhook-batch-throttle-enable": ("bool", None, None),
        "audit-webhook-batch-throttle-qps": ("float32", None, None),
        "audit-webhook-config-file": ("string", None, None),
        "audit-webhook-initial-backoff": ("duration", None, None),
        "audit-webhook-mode": ("string", None, None),
        "audit-webhook-truncate-enabled": ("bool", None, None),
        "audit-webhook-truncate-max-batch-size": ("int", None, None),
        "audit-webhook-truncate-max-event-size": ("int", None, None),
        "audit-webhook-version": ("string", None, None),
        "authentication-config": ("string", "1.29", None),
        "authentication-token-webhook-cache-ttl": ("duration", None, None),
        "authentication-token-webhook-config-file": ("string", None, None),
        "authentication-token-webhook-version": ("string", None, None),
        "authorization-config": ("string", "1.29", None),
        "authorization-mode": ("strings", None, None),
        "authorization-policy-file": ("string", None, None),
        "authorization-webhook-cache-authorized-ttl": ("duration", None, None),
        "authorization-webhook-cache-unauthorized-ttl": ("duration", None, None),
        "authorization-webhook-config-file": ("string", None, None),
        "authorization-webhook-version": ("string", None, None),
        "azure-container-registry-config": ("string", None, "1.30"),
        "bind-address": ("ip", None, None),
        "cert-dir": ("string", None, None),
        "client-ca-file": ("string", None, None),
        "cloud-config": ("string", None, "1.33"),
        "cloud-provider": ("string", None, "1.33"),
        "cloud-provider-gce-l7lb-src-cidrs": ("cidrs", None, "1.31"),
        "cloud-provider-gce-lb-src-cidrs": ("cidrs", None, "1.31"),
        "contention-profiling": ("bool", None, None),
        "cors-allowed-origins": ("strings", None, None),
        "debug-socket-path": ("string", None, None),
        "default-not-ready-toleration-seconds": ("int", None, None),
        "default-unreachable-toleration-seconds": ("int", None, None),
        "default-watch-cache-size": ("int", None, None),
        "delete-collection-workers": ("int", None, None),
        "disable-admission-plugins": ("strings", None, None),
        "disable-http2-serving": ("bool", "1.31", None),
        "disabled-metrics": ("strings", None, None),
        "egress-selector-config-file": ("string", None, None),
        "emulated-version": ("strings", "1.31", None),
        "emulation-forward-compatible": ("bool", "1.33", None),
        "enable-admission-plugins": ("strings", None, None),
        "enable-aggregator-routing": ("bool", None, None),
        "enable-bootstrap-token-auth": ("bool", None, None),
        "enable-garbage-collector": ("bool", None, None),
        "enable-logs-handler": ("bool", None, None),
        "enable-priority-and-fairness": ("bool", None, None),
        "encryption-provider-config": ("string", None, None),
        "encryption-provider-config-automatic-reload": ("bool", None, None),
        "endpoint-reconciler-type": ("string", None, None),
        "etcd-cafile": ("string", None, None),
        "etcd-certfile": ("string", None, None),
        "etcd-compaction-interval": ("duration", None, None),
        "etcd-count-metric-poll-period": ("duration", None, None),
        "etcd-db-metric-poll-interval": ("duration", None, None),
        "etcd-healthcheck-timeout": ("duration", None, None),
        "etcd-keyfile": ("string", None, None),
        "etcd-prefix": ("string", None, None),
        "etcd-readycheck-timeout": ("duration", None, None),
        "etcd-servers": ("strings", None, None),
        "etcd-servers-overrides": ("strings", None, None),
        "event-ttl": ("duration", None, None),
        "external-hostname": ("string", None, None),
        "feature-gates": ("mapStringBool", None, None),
        "goaway-chance": ("float", None, None),
        "help": ("bool", None, None),
        "http2-max-streams-per-connection": ("int", None, None),
        "kubelet-certificate-authority": ("string", None, None),
        "kubelet-client-certificate": ("string", None, None),
        "kubelet-client-key": ("string", None, None),
        "kubelet-port": ("uint", None, None),
        "kubelet-preferred-address-types": ("strings", None, None),
        "kubelet-read-only-port": ("uint", None, None),
        "kubelet-timeout": ("duration", None, None),
        "kubernetes-service-node-port": ("int", None, None),
        "lease-reuse-duration-seconds": ("int", None, None),
        "livez-grace-period": ("duration", None, None),
        "log-flush-frequency": ("duration", None, None),
        "log-json-info-buffer-size": ("quantity", None, None),
        "log-json-split-stream": ("bool", None, None),
        "log-text-info-buffer-size": ("quantity", "1.30", None),
        "log-text-split-stream": ("bool", "1.30", None),
        "logging-format": ("string", None, None),
        "max-connection-bytes-per-sec": ("int", None, None),
        "max-mutating-requests-inflight": ("int", None, None),
        "max-requests-inflight": ("int", None, None),
        "min-request-timeout": ("int", None, None),
        "oidc-ca-file": ("string", None, None),
        "oidc-client-id": ("string", None, None),
        "oidc-groups-claim": ("string", None, None),
        "oidc-groups-prefix": ("string", None, None),
        "oidc-issuer-url": ("string", None, None),
        "oidc-required-claim": ("mapStringString", None, None),
        "oidc-signing-algs": ("strings", None, None),
        "oidc-username-claim": ("string", None, None),
        "oidc-username-prefix": ("string", None, None),
        "peer-advertise-ip": ("string", None, None),
        "peer-advertise-port": ("string", None, None),
        "peer-ca-file": ("string", None, None),
        "permit-address-sharing": ("bool", None, None),
        "permit-port-sharing": ("bool", None, None),
        "profiling": ("bool", None, None),
        "proxy-client-cert-file": ("string", None, None),
        "proxy-client-key-file": ("string", None, None),
        "request-timeout": ("duration", None, None),
        "requestheader-allowed-names": ("strings", None, None),
        "requestheader-client-ca-file": ("string", None, None),
        "requestheader-extra-headers-prefix": ("strings", None, None),
        "requestheader-group-headers": ("strings", None, None),
        "requestheader-uid-headers": ("strings", "1.32", None),
        "requestheader-username-headers": ("strings", None, None),
        "runtime-config": ("mapStringString", None, None),
        "runtime-config-emulation-forward-compatible": ("bool", "1.33", None),
        "secure-port": ("int", None, None),
        "service-account-extend-token-expiration": ("bool", None, None),
        "service-account-issuer": ("stringArray", None, None),
        "service-account-jwks-uri": ("string", None, None),
        "service-account-key-file": ("stringArray", None, None),
        "service-account-lookup": ("bool", None, None),
        "service-account-max-token-expiration": ("duration", None, None),
        "service-account-signing-endpoint": ("string", "1.32", None),
        "service-account-signing-key-file": ("string", None, None),
        "service-cluster-ip-range": ("string", None, None),
        "service-node-port-range": ("portRange", None, None),
        "show-hidden-metrics-for-version": ("string", None, None),
        "shutdown-delay-duration": ("duration", None, None),
        "shutdown-send-retry-after": ("bool", None, None),
        "shutdown-watch-termination-grace-period": ("duration", None, None),
        "storage-backend": ("string", None, None),
        "storage-initialization-timeout": ("duration", "1.31", None),
        "storage-media-type": ("string", None, None),
        "strict-transport-security-directives": ("strings", None, None),
        "tls-cert-file": ("string", None, None),
        "tls-cipher-suites": ("strings", None, None),
        "tls-min-version": ("string", None, None),
        "tls-private-key-file": ("string", None, None),
        "tls-sni-cert-key": ("namedCertKey", None, None),
        "token-auth-file": ("string", None, None),
        "tracing-config-file": ("string", None, None),
        "v": ("Level", None, None),
        "version": ("version[=true]", None, None),
        "vmodule": ("pattern=N,...", None, None),
        "watch-cache": ("bool", None, None),
        "watch-cache-sizes": ("strings", None, None),
    },
    "kube-controller-manager": {
        "allocate-node-cidrs": ("bool", None, None),
        "allow-metric-labels": ("stringToString", None, None),
        "allow-metric-labels-manifest": ("string", "1.29", None),
        "allow-untagged-cloud": ("bool", None, None),
        "attach-detach-reconcile-sync-period": ("duration", None, None),
        "authentication-kubeconfig": ("string", None, None),
        "authentication-skip-lookup": ("bool", None, None),
        "authentication-token-webhook-cache-ttl": ("duration", None, None),
        "authentication-tolerate-lookup-failure": ("bool", None, None),
        "authorization-always-allow-paths": ("strings", None, None),
        "authorization-kubeconfig": ("string", None, None),
        "authorization-webhook-cache-authorized-ttl": ("duration", None, None),
        "authorization-webhook-cache-unauthorized-ttl": ("duration", None, None),
        "azure-container-registry-config": ("string", None, "1.30"),
        "bind-address": ("ip", None, None),
        "cert-dir": ("string", None, None),
        "cidr-allocator-type": ("string", None, None),
        "client-ca-file": ("string", None, None),
        "cloud-config": ("string", None, None),
        "cloud-provider": ("string", None, None),
        "cloud-provider-gce-lb-src-cidrs": ("cidrs", None, "1.31"),
        "cluster-cidr": ("string", None, None),
        "cluster-name": ("string", None, None),
        "cluster-signing-cert-file": ("string", None, None),
        "cluster-signing-duration": ("duration", None, None),
        "cluster-signing-key-file": ("string", None, None),
        "cluster-signing-kube-apiserver-client-cert-file": ("string", None, None),
        "cluster-signing-kube-apiserver-client-key-file": ("string", None, None),
        "cluster-signing-kubelet-client-cert-file": ("string", None, None),
        "cluster-signing-kubelet-client-key-file": ("string", None, None),
        "cluster-signing-kubelet-serving-cert-file": ("string", None, None),
        "cluster-signing-kubelet-serving-key-file": ("string", None, None),
        "cluster-signing-legacy-unknown-cert-file": ("string", None, None),
        "cluster-signing-legacy-unknown-key-file": ("string", None, None),
        "concurrent-cron-job-syncs": ("int32", None, None),
        "concurrent-daemonset-syncs": ("int32", "1.32", None),
        "concurrent-deployment-syncs": ("int32", None, None),
        "concurrent-endpoint-syncs": ("int32", None, None),
        "concurrent-ephemeralvolume-syncs": ("int32", None, None),
        "concurrent-gc-syncs": ("int32", None, None),
        "concurrent-horizontal-pod-autoscaler-syncs": ("int32", None, None),
        "concurrent-job-syncs": ("int32", None, None),
        "concurrent-namespace-syncs": ("int32", None, None),
        "concurrent-rc-syncs": ("int32", None, None),
        "concurrent-replicaset-syncs": ("int32", None, None),
        "concurrent-resource-quota-syncs": ("int32", None, None),
        "concurrent-service-endpoint-syncs": ("int32", None, None),
        "concurrent-service-syncs": ("int32", None, None),
        "concurrent-serviceaccount-token-syncs": ("int32", None, None),
        "concurrent-statefulset-syncs": ("int32", None, None),
        "concurrent-ttl-after-finished-syncs": ("int32", None, None),
        "concurrent-validating-admission-policy-status-syncs": ("int32", None, None),
        "configure-cloud-routes": ("bool", None, None),
        "contention-profiling": ("bool", None, None),
        "controller-start-interval": ("duration", None, None),
        "controllers": ("strings", None, None),
        "disable-attach-detach-reconcile-sync": ("bool", None, None),
        "disable-force-detach-on-timeout": ("bool", "1.30", None),
        "disable-http2-serving": ("bool", "1.31", None),
        "disabled-metrics": ("strings", None, None),
        "emulated-version": ("strings", "1.31", None),
        "enable-dynamic-provisioning": ("bool", None, None),
        "enable-garbage-collector": ("bool", None, None),
        "enable-hostpath-provisioner": ("bool", None, None),
        "enable-leader-migration": ("bool", None, None),
        "endpoint-updates-batch-period": ("duration", None, None),
        "endpointslice-updates-batch-period": ("duration", None, None),
        "external-cloud-volume-plugin": ("string", None, None),
        "feature-gates": ("mapStringBool", None, None),
        "flex-volume-plugin-dir": ("string", None, None),
        "help": ("bool", None, None),
        "horizontal-pod-autoscaler-cpu-initialization-period": ("duration", None, None),
        "horizontal-pod-autoscaler-downscale-delay": ("duration", None, "1.31"),
        "horizontal-pod-autoscaler-downscale-stabilization": ("duration", None, None),
        "horizontal-pod-autoscaler-initial-readiness-delay": ("duration", None, None),
        "horizontal-pod-autoscaler-sync-period": ("duration", None, None),
        "horizontal-pod-autoscaler-tolerance": ("float", None, None),
        "horizontal-pod-autoscaler-upscale-delay": ("duration", None, "1.31"),
        "http2-max-streams-per-connection": ("int", None, None),
        "kube-api-burst": ("int32", None, None),
        "kube-api-content-type": ("string", None, None),
        "kube-api-qps": ("float32", None, None),
        "kubeconfig": ("string", None, None),
        "large-cluster-size-threshold": ("int32", None, None),
        "leader-elect": ("bool", None, None),
        "leader-elect-lease-duration": ("duration", None, None),
        "leader-elect-renew-deadline": ("duration", None, None),
        "leader-elect-resource-lock": ("string", None, None),
        "leader-elect-resource-name": ("string", None, None),
        "leader-elect-resource-namespace": ("string", None, None),
        "leader-elect-retry-period": ("duration", None, None),
        "leader-migration-config": ("string", None, None),
        "legacy-service-account-token-clean-up-period": ("duration", None, None),
        "log-flush-frequency": ("duration", None, None),
        "log-json-info-buffer-size": ("quantity", None, None),
        "log-json-split-stream": ("bool", None, None),
        "log-text-info-buffer-size": ("quantity", "1.30", None),
        "log-text-split-stream": ("bool", "1.30", None),
        "logging-format": ("string", None, None),
        "master": ("string", None, None),
        "max-endpoints-per-slice": ("int32", None, None),
        "min-resync-period": ("duration", None, None),
        "mirroring-concurrent-service-endpoint-syncs": ("int32", None, None),
        "mirroring-endpointslice-updates-batch-period": ("duration", None, None),
        "mirroring-max-endpoints-per-subset": ("int32", None, None),
        "namespace-sync-period": ("duration", None, None),
        "node-cidr-mask-size": ("int32", None, None),
        "node-cidr-mask-size-ipv4": ("int32", None, None),
        "node-cidr-mask-size-ipv6": ("int32", None, None),
        "node-eviction-rate": ("float32", None, None),
        "node-monitor-grace-period": ("duration", None, None),
        "node-monitor-period": ("duration", None, None),
        "node-startup-grace-period": ("duration", None, None),
        "node-sync-period": ("duration", None, None),
        "permit-address-sharing": ("bool", None, None),
        "permit-port-sharing": ("bool", None, None),
        "profiling": ("bool", None, None),
        "pv-recycler-increment-timeout-nfs": ("int32", None, None),
        "pv-recycler-minimum-timeout-hostpath": ("int32", None, None),
        "pv-recycler-minimum-timeout-nfs": ("int32", None, None),
        "pv-recycler-pod-template-filepath-hostpath": ("string", None, None),
        "pv-recycler-pod-template-filepath-nfs": ("string", None, None),
        "pv-recycler-timeout-increment-hostpath": ("int32", None, None),
        "pvclaimbinder-sync-period": ("duration", None, None),
        "requestheader-allowed-names": ("strings", None, None),
        "requestheader-client-ca-file": ("string", None, None),
        "requestheader-extra-headers-prefix": ("strings", None, None),
        "requestheader-group-headers": ("strings", None, None),
        "requestheader-uid-headers": ("strings", "1.32", None),
        "requestheader-username-headers": ("strings", None, None),
        "resource-quota-sync-period": ("duration", None, None),
        "root-ca-file": ("string", None, None),
        "route-reconciliation-period": ("duration", None, None),
        "secondary-node-eviction-rate": ("float32", None, None),
        "secure-port": ("int", None, None),
        "service-account-private-key-file": ("string", None, None),
        "service-cluster-ip-range": ("string", None, None),
        "show-hidden-metrics-for-version": ("string", None, None),
        "terminated-pod-gc-threshold": ("int32", None, None),
        "tls-cert-file": ("string", None, None),
        "tls-cipher-suites": ("strings", None, None),
        "tls-min-version": ("string", None, None),
        "tls-private-key-file": ("string", None, None),
        "tls-sni-cert-key": ("namedCertKey", None, None),
        "unhealthy-zone-threshold": ("float32", None, None),
        "use-service-account-credentials": ("bool", None, None),
        "v": ("Level", None, None),
        "version": ("version[=true]", None, None),
        "vmodule": ("pattern=N,...", None, None),
        "volume-host-allow-local-loopback": ("bool", None, "1.31"),
        "volume-host-cidr-denylist": ("strings", None, "1.31"),
    },
    "kube-scheduler": {
        "allow-metric-labels": ("stringToString", None, None),
        "allow-metric-labels-manifest": ("string", "1.29", None),
        "authentication-kubeconfig": ("string", None, None),
        "authentication-skip-lookup": ("bool", None, None),
        "authentication-token-webhook-cache-ttl": ("duration", None, None),
        "authentication-tolerate-lookup-failure": ("bool", None, None),
        "authorization-always-allow-paths": ("strings", None, None),
        "authorization-kubeconfig": ("string", None, None),
        "authorization-webhook-cache-authorized-ttl": ("duration", None, None),
        "authorization-webhook-cache-unauthorized-ttl": ("duration", None, None),
        "azure-container-registry-config": ("string", None, "1.30"),
        "bind-address": ("ip", None, None),
        "cert-dir": ("string", None, None),
        "client-ca-file": ("string", None, None),
        "config": ("string", None, None),
        "contention-profiling": ("bool", None, None),
        "disable-http2-serving": ("bool", "1.31", None),
        "disabled-metrics": ("strings", None, None),
        "emulated-version": ("strings", "1.31", None),
        "feature-gates": ("mapStringBool", None, None),
        "help": ("bool", None, None),
        "http2-max-streams-per-connection": ("int", None, None),
        "kube-api-burst": ("int32", None, None),
        "kube-api-content-type": ("string", None, None),
        "kube-api-qps": ("float32", None, None),
        "kubeconfig": ("string", None, None),
        "leader-elect": ("bool", None, None),
        "leader-elect-lease-duration": ("duration", None, None),
        "leader-elect-renew-deadline": ("duration", None, None),
        "leader-elect-resource-lock": ("string", None, None),
        "leader-elect-resource-name": ("string", None, None),
        "leader-elect-resource-namespace": ("string", None, None),
        "leader-elect-retry-period": ("duration", None, None),
        "log-flush-frequency": ("duration", None, None),
        "log-json-info-buffer-size": ("quantity", None, None),
        "log-json-split-stream": ("bool", None, None),
        "log-text-info-buffer-size": ("quantity", "1.30", None),
        "log-text-split-stream": ("bool", "1.30", None),
        "logging-format": ("string", None, None),
        "master": ("string", None, None),
        "permit-address-sharing": ("bool", None, None),
        "permit-port-sharing": ("bool", None, None),
        "pod-max-in-unschedulable-pods-duration": ("duration", None, None),
        "profiling": ("bool", None, None),
        "requestheader-allowed-names": ("strings", None, None),
        "requestheader-client-ca-file": ("string", None, None),
        "requestheader-extra-headers-prefix": ("strings", None, None),
        "requestheader-group-headers": ("strings", None, None),
        "requestheader-uid-headers": ("strings", "1.32", None),
        "requestheader-username-headers": ("strings", None, None),
        "secure-port": ("int", None, None),
        "show-hidden-metrics-for-version": ("string", None, None),
        "tls-cert-file": ("string", None, None),
        "tls-cipher-suites": ("strings", None, None),
        "tls-min-version": ("string", None, None),
        "tls-private-key-file": ("string", None, None),
        "tls-sni-cert-key": ("namedCertKey", None, None),
        "v": ("Level", None, None),
        "version": ("version[=true]", None, None),
        "vmodule": ("pattern=N,...", None, None),
        "write-config-to": ("string", None, None),
    },
    "kubelet": {
        "address": ("ip", None, None),
        "allowed-unsafe-sysctls": ("strings", None, None),
        "anonymous-auth": ("bool", None, None),
        "application-metrics-count-limit": ("int", None, None),
        "authentication-token-webhook": ("bool", None, None),
        "authentication-token-webhook-cache-ttl": ("duration", None, None),
        "authorization-mode": ("string", None, None),
        "authorization-webhook-cache-authorized-ttl": ("duration", None, None),
        "authorization-webhook-cache-unauthorized-ttl": ("duration", None, None),
        "azure-container-registry-config": ("string", None, "1.30"),
        "boot-id-file": ("string", None, None),
        "bootstrap-kubeconfig": ("string", None, None),
        "cert-dir": ("string", None, None),
        "cgroup-driver": ("string", None, None),
        "cgroup-root": ("string", None, None),
        "cgroups-per-qos": ("bool", None, None),
        "client-ca-file": ("string", None, None),
        "cloud-config": ("string", None, None),
        "cloud-provider": ("string", None, None),
        "cluster-dns": ("strings", None, None),
        "cluster-domain": ("string", None, None),
        "config": ("string", None, None),
        "config-dir": ("string", None, None),
        "container-hints": ("string", None, None),
        "container-log-max-files": ("int32", None, None),
        "container-log-max-size": ("string", None, None),
        "container-runtime-endpoint": ("string", None, None),
        "containerd": ("string", None, None),
        "containerd-namespace": ("string", None, None),
        "contention-profiling": ("bool", None, None),
        "cpu-cfs-quota": ("bool", None, None),
        "cpu-cfs-quota-period": ("duration", None, None),
        "cpu-manager-policy": ("string", None, None),
        "cpu-manager-policy-options": ("mapStringString", None, None),
        "cpu-manager-reconcile-period": ("duration", None, None),
        "enable-controller-attach-detach": ("bool", None, None),
        "enable-debugging-handlers": ("bool", None, None),
        "enable-load-reader": ("bool", None, None),
        "enable-server": ("bool", None, None),
        "enforce-node-allocatable": ("strings", None, None),
        "event-burst": ("int32", None, None),
        "event-qps": ("int32", None, None),
        "event-storage-age-limit": ("string", None, None),
        "event-storage-event-limit": ("string", None, None),
        "eviction-hard": ("mapStringString", None, None),
        "eviction-max-pod-grace-period": ("int32", None, None),
        "eviction-minimum-reclaim": ("mapStringString", None, None),
        "eviction-pressure-transition-period": ("duration", None, None),
        "eviction-soft": ("mapStringString", None, None),
        "eviction-soft-grace-period": ("mapStringString", None, None),
        "exit-on-lock-contention": ("bool", None, None),
        "experimental-allocatable-ignore-eviction": ("bool", None, None),
        "experimental-mounter-path": ("string", None, None),
        "fail-cgroupv1": ("bool", "1.31", None),
        "fail-swap-on": ("bool", None, None),
        "feature-gates": ("mapStringBool", None, None),
        "file-check-frequency": ("duration", None, None),
        "global-housekeeping-interval": ("duration", None, None),
        "hairpin-mode": ("string", None, None),
        "healthz-bind-address": ("ip", None, None),
        "healthz-port": ("int32", None, None),
        "help": ("bool", None, None),
        "hostname-override": ("string", None, None),
        "housekeeping-interval": ("duration", None, None),
        "http-check-frequency": ("duration", None, None),
        "image-credential-provider-bin-dir": ("string", None, None),
        "image-credential-provider-config": ("string", None, None),
        "image-gc-high-threshold": ("int32", None, None),
        "image-gc-low-threshold": ("int32", None, None),
        "image-service-endpoint": ("string", None, None),
        "iptables-drop-bit": ("int32", None, "1.31"),
        "iptables-masquerade-bit": ("int32", None, "1.31"),
        "keep-terminated-pod-volumes": ("bool", None, "1.31"),
        "kernel-memcg-notification": ("bool", None, None),
        "kube-api-burst": ("int32", None, None),
        "kube-api-content-type": ("string", None, None),
        "kube-api-qps": ("int32", None, None),
        "kube-reserved": ("mapStringString", None, None),
        "kube-reserved-cgroup": ("string", None, None),
        "kubeconfig": ("string", None, None),
        "kubelet-cgroups": ("string", None, None),
        "local-storage-capacity-isolation": ("bool", None, None),
        "lock-file": ("string", None, None),
        "log-cadvisor-usage": ("bool", None, None),
        "log-flush-frequency": ("duration", None, None),
        "log-json-info-buffer-size": ("quantity", None, None),
        "log-json-split-stream": ("bool", None, None),
        "log-text-info-buffer-size": ("quantity", "1.30", None),
        "log-text-split-stream": ("bool", "1.30", None),
        "logging-format": ("string", None, None),
        "machine-id-file": ("string", None, None),
        "make-iptables-util-chains": ("bool", None, None),
        "manifest-url": ("string", None, None),
        "manifest-url-header": ("colonSeparatedMultimapStringString", None, None),
        "max-open-files": ("int", None, None),
        "max-pods": ("int32", None, None),
        "maximum-dead-containers": ("int32", None, None),
        "maximum-dead-containers-per-container": ("int32", None, None),
        "memory-manager-policy": ("string", None, None),
        "minimum-container-ttl-duration": ("duration", None, None),
        "minimum-image-ttl-duration": ("duration", None, None),
        "node-ip": ("string", None, None),
        "node-labels": ("mapStringString", None, None),
        "node-status-max-images": ("int32", None, None),
        "node-status-update-frequency": ("duration", None, None),
        "oom-score-adj": ("int32", None, None),
        "pod-cidr": ("string", None, None),
        "pod-infra-container-image": ("string", None, None),
        "pod-manifest-path": ("string", None, None),
        "pod-max-pids": ("int", None, None),
        "pods-per-core": ("int32", None, None),
        "port": ("int32", None, None),
        "protect-kernel-defaults": ("bool", None, None),
        "provider-id": ("string", None, None),
        "qos-reserved": ("mapStringString", None, None),
        "read-only-port": ("int32", None, None),
        "register-node": ("bool", None, None),
        "register-schedulable": ("bool", None, None),
        "register-with-taints": ("[]v1.Taint", None, None),
        "registry-burst": ("int32", None, None),
        "registry-qps": ("int32", None, None),
        "reserved-cpus": ("string", None, None),
        "reserved-memory": ("reserved-memory", None, None),
        "resolv-conf": ("string", None, None),
        "root-dir": ("string", None, None),
        "rotate-certificates": ("bool", None, None),
        "rotate-server-certificates": ("bool", None, None),
        "runonce": ("bool", None, None),
        "runtime-cgroups": ("string", None, None),
        "runtime-request-timeout": ("duration", None, None),
        "seccomp-default": ("bool", None, None),
        "serialize-image-pulls": ("bool", None, None),
        "storage-driver-buffer-duration": ("duration", None, None),
        "storage-driver-db": ("string", None, None),
        "storage-driver-host": ("string", None, None),
        "storage-driver-password": ("string", None, None),
        "storage-driver-secure": ("bool", None, None),
        "storage-driver-table": ("string", None, None),
        "storage-driver-user": ("string", None, None),
        "streaming-connection-idle-timeout": ("duration", None, None),
        "sync-frequency": ("duration", None, None),
        "system-cgroups": ("string", None, None),
        "system-reserved": ("mapStringString", None, None),
        "system-reserved-cgroup": ("string", None, None),
        "tls-cert-file": ("string", None, None),
        "tls-cipher-suites": ("strings", None, None),
        "tls-min-version": ("string", None, None),
        "tls-private-key-file": ("string", None, None),
        "topology-manager-policy": ("string", None, None),
        "topology-manager-policy-options": ("mapStringString", None, None),
        "topology-manager-scope": ("string", None, None),
        "v": ("Level", None, None),
        "version": ("version[=true]", None, None),
        "vmodule": ("pattern=N,...", None, None),
        "volume-plugin-dir": ("string", None, None),
        "volume-stats-agg-period": ("duration", None, None),
    },
    "kube-proxy": {
        "bind-address": ("ip", None, None),
        "bind-address-hard-fail": ("bool", None, None),
        "boot-id-file": ("string", None, None),
        "cleanup": ("bool", None, None),
        "cluster-cidr": ("string", None, None),
        "config": ("string", None, None),
        "config-sync-period": ("duration", None, None),
        "conntrack-max-per-core": ("int32", None, None),
        "conntrack-min": ("int32", None, None),
        "conntrack-tcp-be-liberal": ("bool", "1.29", None),
        "conntrack-tcp-timeout-close-wait": ("duration", None, None),
        "conntrack-tcp-timeout-established": ("duration", None, None),
        "conntrack-udp-timeout": ("duration", "1.29", None),
        "conntrack-udp-timeout-stream": ("duration", "1.29", None),
        "detect-local-mode": ("LocalMode", None, None),
        "feature-gates": ("mapStringBool", None, None),
        "healthz-bind-address": ("ipport", None, None),
        "healthz-port": ("int32", None, None),
        "help": ("bool", None, None),
        "hostname-override": ("string", None, None),
        "init-only": ("bool", "1.29", None),
        "iptables-localhost-nodeports": ("bool", None, None),
        "iptables-masquerade-bit": ("int32", None, None),
        "iptables-min-sync-period": ("duration", None, None),
        "iptables-sync-period": ("duration", None, None),
        "ipvs-exclude-cidrs": ("strings", None, None),
        "ipvs-min-sync-period": ("duration", None, None),
        "ipvs-scheduler": ("string", None, None),
        "ipvs-strict-arp": ("bool", None, None),
        "ipvs-sync-period": ("duration", None, None),
        "ipvs-tcp-timeout": ("duration", None, None),
        "ipvs-tcpfin-timeout": ("duration", None, None),
        "ipvs-udp-timeout": ("duration", None, None),
        "kube-api-burst": ("int32", None, None),
        "kube-api-content-type": ("string", None, None),
        "kube-api-qps": ("float32", None, None),
        "kubeconfig": ("string", None, None),
        "log-flush-frequency": ("duration", None, None),
        "log-json-info-buffer-size": ("quantity", None, None),
        "log-json-split-stream": ("bool", None, None),
        "log-text-info-buffer-size": ("quantity", "1.30", None),
        "log-text-split-stream": ("bool", "1.30", None),
        "logging-format": ("string", None, None),
        "machine-id-file": ("string", None, None),
        "masquerade-all": ("bool", None, None),
        "master": ("string", None, None),
        "metrics-bind-address": ("ipport", None, None),
        "metrics-port": ("int32", None, None),
        "nodeport-addresses": ("strings", None, None),
        "oom-score-adj": ("int32", None, None),
        "pod-bridge-interface": ("string", None, None),
        "pod-interface-name-prefix": ("string", None, None),
        "profiling": ("bool", None, None),
        "proxy-mode": ("ProxyMode", None, None),
        "proxy-port-range": ("port-range", None, "1.31"),
        "show-hidden-metrics-for-version": ("string", None, None),
        "v": ("Level", None, None),
        "version": ("version[=true]", None, None),
        "vmodule": ("pattern=N,...", None, None),
        "write-config-to": ("string", None, None),
    },
}

# Type changes inside the supported range: flag -> ((first minor with the new type, new type), ...).
_TYPE_CHANGES = {
    "kube-apiserver": {
        "feature-gates": (("1.31", "colonSeparatedMultimapStringString"),),
    },
    "kube-controller-manager": {
        "feature-gates": (("1.31", "colonSeparatedMultimapStringString"),),
    },
    "kube-scheduler": {
        "feature-gates": (("1.31", "colonSeparatedMultimapStringString"),),
    },
}

# Flags that users still try but that were removed before 1.28: component -> flag -> removal minor.
_REMOVED_EARLIER = {
    "kube-apiserver": {
        "address": "1.24",
        "audit-dynamic-configuration": "1.19",
        "basic-auth-file": "1.19",
        "deserialization-cache-size": "1.24",
        "enable-swagger-ui": "1.24",
        "etcd-quorum-read": "1.13",
        "experimental-encryption-provider-config": "1.24",
        "experimental-logging-sanitization": "1.24",
        "insecure-bind-address": "1.24",
        "insecure-port": "1.24",
        "kubelet-https": "1.22",
        "master-service-namespace": "1.27",
        "port": "1.24",
        "repair-malformed-updates": "1.14",
        "service-account-api-audiences": "1.25",
        "ssh-keyfile": "1.22",
        "ssh-user": "1.22",
        "storage-versions": "1.14",
        "target-ram-mb": "1.24",
    },
    "kube-controller-manager": {
        "address": "1.24",
        "deployment-controller-sync-period": "1.24",
        "enable-taint-manager": "1.27",
        "experimental-cluster-signing-duration": "1.25",
        "experimental-logging-sanitization": "1.24",
        "horizontal-pod-autoscaler-use-rest-clients": "1.22",
        "insecure-experimental-approve-all-kubelet-csrs-for-group": "1.13",
        "pod-eviction-timeout": "1.27",
        "port": "1.24",
    },
    "kube-scheduler": {
        "address": "1.24",
        "algorithm-provider": "1.22",
        "experimental-logging-sanitization": "1.24",
        "hard-pod-affinity-symmetric-weight": "1.22",
        "lock-object-name": "1.28",
        "lock-object-namespace": "1.28",
        "policy-config-file": "1.23",
        "policy-configmap": "1.23",
        "policy-configmap-namespace": "1.23",
        "port": "1.24",
        "scheduler-name": "1.22",
        "use-legacy-policy-config": "1.23",
    },
    "kubelet": {
        "allow-privileged": "1.15",
        "bootstrap-checkpoint-path": "1.19",
        "cadvisor-port": "1.12",
        "chaos-chance": "1.22",
        "cni-bin-dir": "1.24",
        "cni-cache-dir": "1.24",
        "cni-conf-dir": "1.24",
        "container-runtime": "1.27",
        "containerized": "1.16",
        "docker-endpoint": "1.24",
        "experimental-bootstrap-kubeconfig": "1.23",
        "experimental-check-node-capabilities-before-mount": "1.24",
        "experimental-dockershim-root-directory": "1.24",
        "experimental-kernel-memcg-notification": "1.25",
        "google-json-key": "1.13",
        "image-pull-progress-deadline": "1.24",
        "master-service-namespace": "1.27",
        "network-plugin": "1.24",
        "network-plugin-mtu": "1.24",
        "non-masquerade-cidr": "1.24",
        "really-crash-for-testing": "1.24",
        "seccomp-profile-root": "1.23",
    },
    "kube-proxy": {
        "cleanup-iptables": "1.15",
        "cleanup-ipvs": "1.21",
        "resource-container": "1.16",
        "udp-timeout": "1.26",
    },
}

# The legacy klog flags were removed from every component in 1.26 (kubernetes/kubernetes#112120; only -v and --vmodule
# stayed). The kube-proxy reference pages kept listing them (kubernetes/website#44750); its 1.34-1.37 binaries refuse them.
_KLOG_LEGACY = ("add-dir-header", "alsologtostderr", "log-backtrace-at", "log-dir", "log-file", "log-file-max-size",
                "logtostderr", "one-output", "skip-headers", "skip-log-headers", "stderrthreshold")
for _component in COMPONENTS:
    for _name in _KLOG_LEGACY:
        _REMOVED_EARLIER[_component].setdefault(_name, "1.26")
del _component, _name

# Admission plugins kube-apiserver knows: plugin -> (added_minor, removed_minor), same convention as _FLAGS (1.28-1.33;
# RELEASE_MINORS come from k8s_release_flags.ADMISSION_PLUGINS). 1.28-1.31 from the --enable-admission-plugins text
# on the reference pages; 1.32-1.33 derived from the release notes (MutatingAdmissionPolicy 1.32, PodTopologyLabels
# 1.33). Each plugin the 1.34 binaries list but this table does not have at 1.33 was added in 1.34.
_ADMISSION_PLUGINS = {
    "AlwaysAdmit": (None, None),
    "AlwaysDeny": (None, None),
    "AlwaysPullImages": (None, None),
    "CertificateApproval": (None, None),
    "CertificateSigning": (None, None),
    "CertificateSubjectRestriction": (None, None),
    "ClusterTrustBundleAttest": (None, None),
    "DefaultIngressClass": (None, None),
    "DefaultStorageClass": (None, None),
    "DefaultTolerationSeconds": (None, None),
    "DenyServiceExternalIPs": (None, None),
    "EventRateLimit": (None, None),
    "ExtendedResourceToleration": (None, None),
    "ImagePolicyWebhook": (None, None),
    "LimitPodHardAntiAffinityTopology": (None, None),
    "LimitRanger": (None, None),
    "MutatingAdmissionPolicy": ("1.32", None),
    "MutatingAdmissionWebhook": (None, None),
    "NamespaceAutoProvision": (None, None),
    "NamespaceExists": (None, None),
    "NamespaceLifecycle": (None, None),
    "NodeRestriction": (None, None),
    "OwnerReferencesPermissionEnforcement": (None, None),
    "PersistentVolumeClaimResize": (None, None),
    "PersistentVolumeLabel": (None, "1.31"),
    "PodNodeSelector": (None, None),
    "PodSecurity": (None, None),
    "PodTolerationRestriction": (None, None),
    "PodTopologyLabels": ("1.33", None),
    "Priority": (None, None),
    "ResourceQuota": (None, None),
    "RuntimeClass": (None, None),
    "SecurityContextDeny": (None, "1.30"),
    "ServiceAccount": (None, None),
    "StorageObjectInUseProtection": (None, None),
    "TaintNodesByCondition": (None, None),
    "ValidatingAdmissionPolicy": (None, None),
    "ValidatingAdmissionWebhook": (None, None),
}

# Admission plugins removed before 1.28 (from the plugin lists of the 1.13-1.27 reference pages).
_ADMISSION_REMOVED_EARLIER = {
    "DenyEscalatingExec": "1.21",
    "DenyExecOnPrivileged": "1.21",
    "Initializers": "1.14",
    "PodPreset": "1.20",
    "PodSecurityPolicy": "1.25",
}

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+][0-9A-Za-z.+-]*)?$")


def _key(minor_str):
    major, dummy, min_ = minor_str.partition(".")
    return (int(major), int(min_))


def minor(version):
    """Return the "1.NN" minor of a Kubernetes version ("v1.33.4", "1.33.4", "1.33", "v1.33.0-rc.1").

    Raises ValueError when the version is malformed or its minor is not in SUPPORTED_MINORS.
    """
    if not isinstance(version, str):
        raise ValueError("Kubernetes version must be a string such as '1.33' or 'v1.33.4', got %r" % (version,))
    match = _VERSION_RE.match(version.strip())
    if not match:
        raise ValueError("not a Kubernetes version: %r (expected e.g. '1.33', '1.33.4' or 'v1.33.4')" % (version,))
    result = "%d.%d" % (int(match.group(1)), int(match.group(2)))
    if result not in SUPPORTED_MINORS:
        raise ValueError("Kubernetes %s is not supported (supported minors: %s)" % (result, ", ".join(SUPPORTED_MINORS)))
    return result


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
    for since, new_type in _TYPE_CHANGES.get(component, {}).get(name, ()):
        if _key(minor_str) >= _key(since):
            result = new_type
    return result


_FLAGS_AT = {}


def _flags_at(component, minor_str):
    """{flag: type} of `component` at a supported minor, built once per (component, minor)."""
    key = (component, minor_str)
    if key not in _FLAGS_AT:
        if minor_str in _release.RELEASES:
            _FLAGS_AT[key] = {name: ftype for name, (ftype, added, removed) in _release.FLAGS[component].items()
                              if _in_range(minor_str, added, removed)}
        else:
            _FLAGS_AT[key] = {name: _type_at(component, name, minor_str, ftype)
                              for name, (ftype, added, removed) in _FLAGS[component].items()
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
    removed_earlier = _REMOVED_EARLIER[component].get(flag)
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
    table = _release.ADMISSION_PLUGINS if minor_str in _release.RELEASES else _ADMISSION_PLUGINS
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
    if plugin in _ADMISSION_REMOVED_EARLIER:
        return "%s: it was removed in v%s" % (head, _ADMISSION_REMOVED_EARLIER[plugin])
    return "%s: it is not a kube-apiserver admission plugin" % head


# ---------------------------------------------------------------------------------------------------------------
# Feature gates (--feature-gates, KubeletConfiguration.featureGates)
#
# Every component registers the same global gate set (kube features, apiserver, component-base and client-go
# features), so the data is one table for all components; _GATES_NOT_REGISTERED_BY lists the exceptions the real
# binaries show. A gate's history is a string of specs
# "<minor><stage><default>[L]", each valid from its minor until the next one: stage a=alpha b=beta g=GA
# d=deprecated u=unknown (the gate existed, its stage is not recorded), default 0/1, L = locked to the default.
#   "1.31a0 1.32b1 1.34g1L": alpha (off) from 1.31, beta (on) from 1.32, GA locked on from 1.34.
# Sources:
# * _GATES: kubernetes/kubernetes test/compatibility_lifecycle/reference/versioned_feature_list.yaml of v1.37.2
#   (the source the real 1.37 binaries were built from), which lists every gate of that release with its versioned
#   specs; scripts/feature_gates_from_yaml.py turns that file into these lines. Adjusted from the lists of
#   v1.34.4, v1.35.4 and v1.36.3 and the binaries: a gate first listed by a release after 1.34 starts with that
#   release (ImageVolumeWithDigest is "1.35" in the list but first registered by 1.36; same for
#   AllowServiceExternalIPs, ChangeContainerStatusOnKubeletRestart, KubeProxyIPVS, ServiceCIDRStatusFieldWiping);
#   a spec with minCompatibilityVersion X applies from X+1 (the default --min-compatibility-version is the previous
#   minor); TopologyManagerPolicyOptions is locked from 1.36 only (the 1.34/1.35 binaries let it be set false; the
#   1.37 list marks the 1.32 spec locked). The list names RuntimeClassInImageCriApi by its Go constant
#   RuntimeClassInImageCriAPI. _CLIENT_GO_GATES: client-go v0.37.2 features/known_features.go (registered into
#   every component's gates, absent from the list).
# * _GONE_GATES: gates no longer in the 1.37 list. Those that left after 1.34: the specs of the last release list
#   that has them, removed in the release after it. Those in the 1.34-cycle list but not in the v1.34.4 one:
#   removed in 1.34. The older ones: gates of 1.28-1.31 that are not in the 1.34 list: stages from the
#   kubernetes/website feature gate pages (content/en/docs/reference/command-line-tools-reference/feature-gates/
#   <Gate>.md front matter; "removed: true" with the last toVersion gives the removal) and the locking from
#   test/featuregates_linter/test_data/unversioned_feature_list.yaml of the 1.31 cycle. A removal of None: the
#   pages do not record it; the gate is accepted up to 1.33 and unknown from 1.34 on (not in the 1.34 list).
# Checked against the real 1.34-1.37 binaries (tests/testbed/flag_data.py, tests/unit/testbed/test_real_flags.py):
# the alpha and beta gates each component prints in its --feature-gates help, and kube-scheduler accepting every
# gate of the table at its default, refusing every other name and refusing each locked gate set against its default.
# Gaps: a gate removed between 1.28 and 1.33 that is missing from _GONE_GATES is reported unrecognized on the
# versions that still had it; the defaults of GA and deprecated gates, which no binary prints, come from the lists
# alone. Unknown names are not refused on minors newer than FEATURE_GATES_DATA_MINOR (none is supported now).
# ---------------------------------------------------------------------------------------------------------------
FEATURE_GATES_DATA_MINOR = "1.37"
_GONE_GATES_LAST_SEEN = "1.31"  # the unversioned_feature_list.yaml the locking of _GONE_GATES comes from
_GONE_GATES_GONE_BY = "1.34"  # the first gate list the _GONE_GATES without a removal minor are missing from

# Gates the named components do not register although the others do (their --feature-gates help lacks them and
# kube-scheduler refuses them as unrecognized).
_GATES_NOT_REGISTERED_BY = {
    "ControllerManagerReleaseLeaderElectionLockOnExit": ("kube-scheduler",),
}

_GATES = {
    "AggregatedDiscoveryRemoveBetaType": "1.0g0 1.33d1 1.35d1L",
    "AllAlpha": "1.0a0",
    "AllBeta": "1.0b0",
    "AllowDNSOnlyNodeCSR": "1.0g1 1.31d0",
    "AllowInsecureKubeletCertificateSigningRequests": "1.0g1 1.31d0",
    "AllowOverwriteTerminationGracePeriodSeconds": "1.0g1 1.32d0 1.35d0L",
    "AllowParsingUserUIDFromCertAuth": "1.33b1",
    "AllowServiceExternalIPs": "1.36g1",
    "AllowUnsafeMalformedObjectDeletion": "1.32a0 1.37b1",
    "APIResponseCompression": "1.8a0 1.16b1",
    "APIServerIdentity": "1.20a0 1.26b1",
    "APIServerWebhookAuthenticationToken": "1.37a0",
    "APIServingWithRoutine": "1.30a0",
    "AtomicWriteVolumeUserFields": "1.37a0",
    "AuthorizePodWebsocketUpgradeCreatePermission": "1.35b1",
    "CBORServingAndStorage": "1.32a0",
    "ChangeContainerStatusOnKubeletRestart": "1.35d0",
    "ClearingNominatedNodeNameAfterBinding": "1.34a0 1.35b1",
    "CloudControllerManagerWatchBasedRoutesReconciliation": "1.35a0",
    "CloudControllerManagerWebhook": "1.27a0",
    "ClusterTrustBundle": "1.27a0 1.33b0 1.37g1",
    "ClusterTrustBundleProjection": "1.29a0 1.33b0 1.37g1",
    "ComponentFlagz": "1.32a0 1.36b1",
    "ComponentStatusz": "1.32a0 1.36b1",
    "CompositePodGroup": "1.37a0",
    "ConcurrentWatchObjectDecode": "1.31b0 1.37b1",
    "ConsistentListFromCacheSkipTimeoutFallback": "1.37a0",
    "ConstrainedImpersonation": "1.35a0 1.36b1",
    "ContainerCheckpoint": "1.25a0 1.30b1",
    "ContainerRestartRules": "1.34a0 1.35b1",
    "ContainerStopSignals": "1.33a0",
    "ContextualLogging": "1.24a0 1.30b1",
    "ControllerManagerReleaseLeaderElectionLockOnExit": "1.36a0",
    "CoordinatedLeaderElection": "1.31a0 1.33b0",
    "CPUManagerPolicyAlphaOptions": "1.23a0",
    "CPUManagerPolicyBetaOptions": "1.23b1",
    "CPUManagerPolicyOptions": "1.22a0 1.23b1 1.33g1L",
    "CRDObservedGenerationTracking": "1.35b0 1.36b1",
    "CRDValidationRatcheting": "1.28a0 1.30b1 1.33g1L",
    "CRIListStreaming": "1.36a0",
    "CrossNamespaceVolumeDataSource": "1.26a0",
    "CSIServiceAccountTokenSecrets": "1.35b1 1.36g1L",
    "CSIVolumeHealth": "1.21a0",
    # Listed as CPUCFSQuotaPeriod (the Go constant); the gate's name is CustomCPUCFSQuotaPeriod.
    "CustomCPUCFSQuotaPeriod": "1.12a0 1.36g1",
    "CustomResourceFieldSelectors": "1.30a0 1.31b1 1.32g1L",
    "DeclarativeValidation": "1.33b1 1.36g1L",
    "DeclarativeValidationBeta": "1.36b1",
    "DeclarativeValidationTakeover": "1.33b0 1.36d0 1.37d0L",
    "DefaultPodSysctls": "1.37a0",
    "DeploymentReplicaSetTerminatingReplicas": "1.33a0 1.35b1",
    "DetectCacheInconsistency": "1.34b1",
    "DisableAllocatorDualWrite": "1.31a0 1.33b0 1.34g1 1.35g1L",
    "DisableCPUQuotaWithExclusiveCPUs": "1.33b1 1.36d1 1.37d1L",
    "DisableNodeKubeProxyVersion": "1.29a0 1.31d0 1.33d1 1.36d1L",
    "DRAAdminAccess": "1.32a0 1.34b1 1.36g1L",
    "DRAConsumableCapacity": "1.34a0 1.36b1",
    "DRADerivedAttributes": "1.37a0",
    "DRADeviceBindingConditions": "1.34a0 1.36b1",
    "DRADeviceCompatibilityGroups": "1.37a0",
    "DRADeviceTaintRules": "1.35a0 1.36b0 1.37g1",
    "DRADeviceTaints": "1.33a0 1.36b1 1.37g1",
    "DRAExtendedResource": "1.34a0 1.36b1 1.37g1L",
    "DRAFractionalCapacityRange": "1.37b0 1.38b1",
    "DRAListTypeAttributes": "1.36a0",
    "DRANodeAllocatableResources": "1.36a0",
    "DRAOptionalNodeOperations": "1.37a0",
    "DRAPartitionableDevices": "1.33a0 1.36b1",
    "DRAPartitionableDevicesType": "1.37a0",
    "DRAPrioritizedList": "1.33a0 1.34b1 1.36g1 1.37g1L",
    "DRAResourceClaimDeviceStatus": "1.32a0 1.33b1 1.37g1L",
    "DRAResourceClaimGranularStatusAuthorization": "1.36b1",
    "DRAResourcePoolStatus": "1.36a0",
    "DRASchedulerFilterTimeout": "1.34b1",
    "DRAWorkloadResourceClaims": "1.36a0 1.37b0",
    "DynamicResourceAllocation": "1.26a0 1.32b0 1.34g1 1.35g1L",
    "EmptyDirVolumeMode": "1.37a0",
    "EnvFiles": "1.34a0 1.35b1",
    "EtcdRangeStream": "1.37b1",
    "EventedPLEG": "1.26a0",
    "EvictionRequestAPI": "1.37a0",
    "ExcludeAdmissionWebhookVirtualResources": "1.37b1",
    "ExecProbeTimeout": "1.20g1 1.35g1L",
    "ExtendWebSocketsToKubelet": "1.36b1",
    "ExternalServiceAccountTokenSigner": "1.32a0 1.34b1 1.36g1L",
    "GenericWorkload": "1.35a0 1.37b0",
    "GitRepoVolumeDriver": "1.0g1 1.33d0 1.36d0L",
    "GracefulNodeShutdown": "1.20a0 1.21b1",
    "GracefulNodeShutdownBasedOnPodPriority": "1.23a0 1.24b1",
    "GRPCContainerProbeTLS": "1.37a0",
    "H2CContainerProbe": "1.37a0",
    "HostnameOverride": "1.34a0 1.35b1 1.37g1L",
    "HPAConfigurableTolerance": "1.33a0 1.35b1 1.37g1L",
    "HPAGeneration": "1.37b1",
    "HPAOptimizedSelectorStore": "1.37b1",
    "HPAScaleToZero": "1.16a0 1.37b1",
    "HugepageAwareEviction": "1.37b1",
    "ImageMaximumGCAge": "1.29a0 1.30b1 1.35g1L",
    "ImageVolume": "1.31a0 1.33b0 1.35b1 1.36g1L",
    "ImageVolumeWithDigest": "1.36a0",
    "InPlacePodLevelResourcesVerticalScaling": "1.35a0 1.36b1",
    "InPlacePodVerticalScaling": "1.27a0 1.33b1 1.35g1L",
    "InPlacePodVerticalScalingExclusiveCPUs": "1.32a0",
    "InPlacePodVerticalScalingExclusiveMemory": "1.34a0",
    "InPlacePodVerticalScalingInitContainers": "1.36b1 1.37g1L",
    "InPlacePodVerticalScalingMemoryBackedVolumes": "1.37a0",
    "InPlacePodVerticalScalingSchedulerPreemption": "1.37a0",
    "InterPodAffinityHostnameFastPath": "1.37a0",
    "JobManagedBy": "1.30a0 1.32b1 1.35g1L",
    "KMSv1": "1.0g1 1.28d1 1.29d0",
    "KubeletAllocatedPodsEndpoint": "1.37a0",
    "KubeletCgroupDriverFromCRI": "1.28a0 1.31b1 1.34g1L",
    "KubeletCrashLoopBackOffMax": "1.32a0 1.35b1",
    "KubeletEnsureSecretPulledImages": "1.33a0 1.35b1",
    "KubeletFineGrainedAuthz": "1.32a0 1.33b1 1.36g1L",
    "KubeletInUserNamespace": "1.22a0 1.37b1",
    "KubeletPodResourcesDynamicResources": "1.27a0 1.34b1 1.36g1L",
    "KubeletPodResourcesGet": "1.27a0 1.34b1 1.36g1L",
    "KubeletPodResourcesListUseActivePods": "1.0g0 1.34d1",
    "KubeletPSI": "1.33a0 1.34b1 1.36g1L",
    "KubeletRegistrationGetOnExistsOnly": "1.0g1 1.32d0",
    "KubeletSeparateDiskGC": "1.29a0 1.31b1",
    "KubeletServiceAccountTokenForCredentialProviders": "1.33a0 1.34b1",
    "KubeletTracing": "1.25a0 1.27b1 1.34g1L",
    "KubeProxyIPVS": "1.37d1",
    "KubeProxyNFTablesLocalhostNodePorts": "1.37a0",
    "ListFromCacheSnapshot": "1.33a0 1.34b1",
    "LocalStorageCapacityIsolationFSQuotaMonitoring": "1.15a0 1.31b0",
    "LoggingAlphaOptions": "1.24a0",
    "LoggingBetaOptions": "1.24b1",
    "ManifestBasedAdmissionControlConfig": "1.36a0 1.37b1",
    "MatchLabelKeysInPodAffinity": "1.29a0 1.31b1 1.33g1L",
    "MatchLabelKeysInPodTopologySpread": "1.25a0 1.27b1",
    "MatchLabelKeysInPodTopologySpreadSelectorMerge": "1.34b1",
    "MaxUnavailableStatefulSet": "1.24a0 1.35b0 1.37b1",
    "MemoryQoS": "1.22a0 1.37b1",
    "MultiCIDRServiceAllocator": "1.27a0 1.31b0 1.33g1 1.34g1L",
    "MutableCSINodeAllocatableCount": "1.33a0 1.34b0 1.35b1 1.36g1L",
    "MutablePodResourcesForSuspendedJobs": "1.35a0 1.36b1",
    "MutablePVNodeAffinity": "1.35a0",
    "MutableSchedulingDirectivesForSuspendedJobs": "1.35a0 1.36b1",
    "MutatingAdmissionPolicy": "1.32a0 1.34b0 1.36g1",
    "NativeHistograms": "1.36a0 1.37b1",
    "NFTablesNetlink": "1.37b1",
    "NFTablesProxyMode": "1.29a0 1.31b1 1.33g1L",
    "NodeControllerLeaseCircuitBreaker": "1.37b1",
    "NodeDeclaredFeatures": "1.35a0 1.36b1 1.37g1L",
    "NodeInclusionPolicyInPodTopologySpread": "1.25a0 1.26b1 1.33g1L",
    "NodeLifecycleConditions": "1.37a0",
    "NodeLogQuery": "1.27a0 1.30b0 1.36g1L",
    "NodeSwap": "1.22a0 1.28b0 1.30b1 1.34g1L",
    "NominatedNodeNameForExpectation": "1.34a0 1.35b1",
    "OpenAPIEnums": "1.23a0 1.24b1",
    "OpportunisticBatching": "1.35b1",
    "PersistentVolumeClaimUnusedSinceTime": "1.36a0 1.37b1",
    "PLEGOnDemandRelist": "1.36b1 1.37g1L",
    "PodAndContainerStatsFromCRI": "1.23a0 1.37b0",
    "PodCertificateRequest": "1.34a0 1.35b0 1.37g1",
    "PodDeletionCost": "1.21a0 1.22b1",
    "PodGroupPreemptionPolicy": "1.37a0",
    "PodLevelResourceManagers": "1.36a0 1.37b0",
    "PodLevelResources": "1.32a0 1.34b1",
    "PodLevelResourcesFixDefaulting": "1.37b1",
    "PodLevelResourcesFixKubeletQOSClass": "1.37b1",
    "PodLogsQuerySplitStreams": "1.32a0",
    "PodObservedGenerationTracking": "1.33a0 1.34b1 1.35g1L",
    "PodReadyToStartContainersCondition": "1.28a0 1.29b1 1.37g1L",
    "PodsAPI": "1.36a0 1.37b1",
    "PodSchedulingReadiness": "1.26a0 1.27b1 1.30g1L",
    "PodTopologyLabelsAdmission": "1.33a0 1.35b1",
    "PortForwardWebsockets": "1.30a0 1.31b1",
    "PreferSameTrafficDistribution": "1.33a0 1.34b1 1.35g1L",
    "ProcMountType": "1.12a0 1.31b0 1.33b1 1.36g1L",
    "QOSReserved": "1.11a0",
    "RecoverVolumeExpansionFailure": "1.23a0 1.32b1 1.34g1L",
    "RecursiveReadOnlyMounts": "1.30a0 1.31b1 1.33g1L",
    "ReduceDefaultCrashLoopBackOffDecay": "1.33a0",
    "RelaxedEnvironmentVariableValidation": "1.30a0 1.32b1 1.34g1L",
    "RelaxedServiceNameValidation": "1.34a0 1.36b1 1.37g1L",
    "ReloadKubeletClientCAFile": "1.36b1",
    "ReloadKubeletServerCertificateFile": "1.31b1",
    "RemoteRequestHeaderUID": "1.32a0 1.33b1",
    "ResourceHealthStatus": "1.31a0 1.36b1",
    "ResourceHealthStatusMessage": "1.36b1",
    "RestartAllContainersOnContainerExits": "1.35a0 1.36b1",
    "RotateKubeletServerCertificate": "1.7a0 1.12b1",
    "RuntimeClassInImageCriApi": "1.29a0",
    "SchedulerAsyncAPICalls": "1.34b0",
    "SchedulerAsyncPreemption": "1.32a0 1.33b1",
    "SchedulerPopFromBackoffQ": "1.33b1",
    "SchedulerPreQueueingHints": "1.37a0",
    "SELinuxChangePolicy": "1.32a0 1.33b1 1.36g1L",
    "SELinuxMount": "1.30a0 1.33b0 1.37g1",
    "SELinuxMountReadWriteOncePod": "1.25a0 1.27b0 1.28b1 1.36g1L",
    "SeparateCacheWatchRPC": "1.28b1 1.33d0 1.36d0L",
    "SeparateTaintEvictionController": "1.29b1 1.34g1L",
    "ServiceAccountNodeAudienceRestriction": "1.32b0 1.33b1",
    "ServiceAccountTokenJTI": "1.29a0 1.30b1 1.32g1L",
    "ServiceAccountTokenNodeBinding": "1.29a0 1.31b1 1.33g1L",
    "ServiceAccountTokenNodeBindingValidation": "1.29a0 1.30b1 1.32g1L",
    "ServiceAccountTokenPodNodeInfo": "1.29a0 1.30b1 1.32g1L",
    "ServiceCIDRStatusFieldWiping": "1.36d1",
    "ShardedListAndWatch": "1.36a0",
    "SizeBasedListCostEstimate": "1.34b1",
    "StaleControllerConsistencyDaemonSet": "1.36b1",
    "StaleControllerConsistencyHPA": "1.37b1",
    "StaleControllerConsistencyJob": "1.36b1",
    "StaleControllerConsistencyReplicaSet": "1.36b1",
    "StaleControllerConsistencyStatefulSet": "1.36b1",
    "StatefulSetRecreateStrategy": "1.37a0",
    "StatefulSetSemanticRevisionComparison": "1.0b1",
    "StorageCapacityScoring": "1.33a0 1.37b1",
    "StorageNamespaceIndex": "1.30b1 1.33d1",
    "StorageVersionAPI": "1.20a0",
    "StorageVersionHash": "1.14a0 1.15b1",
    "StorageVersionMigrator": "1.30a0 1.35b0 1.37g1",
    "StrictIPCIDRValidation": "1.33a0 1.36b1",
    "StructuredAuthenticationConfigurationEgressSelector": "1.34b1",
    "StructuredAuthenticationConfigurationJWKSMetrics": "1.35b1",
    "SupplementalGroupsPolicy": "1.31a0 1.33b1 1.35g1L",
    "SystemdWatchdog": "1.32b1 1.35g1L",
    "TaintTolerationComparisonOperators": "1.35a0",
    "TokenRequestServiceAccountUIDValidation": "1.34b1",
    "TopologyAwareWorkloadScheduling": "1.36a0",
    "TopologyManagerPolicyAlphaOptions": "1.26a0",
    "TopologyManagerPolicyBetaOptions": "1.26b0 1.28b1",
    "TopologyManagerPolicyOptions": "1.26a0 1.28b1 1.32g1 1.36g1L",  # the list says 1.32g1L, see above
    "TranslateStreamCloseWebsocketRequests": "1.29a0 1.30b1",
    "UnauthenticatedHTTP2DOSMitigation": "1.25b0 1.29b1",
    "UnknownVersionInteroperabilityProxy": "1.28a0 1.36b1",
    "UserNamespacesHostNetworkSupport": "1.35a0",
    "UserNamespacesSupport": "1.25a0 1.30b0 1.33b1 1.36g1L",
    "VolumeAttributesClass": "1.29a0 1.31b0 1.34g1 1.36g1L",
    "VolumeBindMountOptions": "1.37a0",
    "VolumeLimitScaling": "1.35a0 1.37b1",
    "WatchCacheInitializationPostStartHook": "1.31b0 1.36b1 1.37g1L",
    "WatchList": "1.27a0 1.32b1 1.33b0 1.34b1",
    "WatchListCompression": "1.37b1",
    "WebhookRoundTripLoadBalancing": "1.37b1",
    "WindowsCPUAndMemoryAffinity": "1.32a0",
    "WindowsGracefulNodeShutdown": "1.32a0 1.34b1",
    "WindowsHostNetwork": "1.26a0 1.33d0",
    "WinDSR": "1.14a0 1.33b1 1.34g1L",
    "WinOverlay": "1.14a0 1.20b1 1.34g1L",
    "WorkloadWithJob": "1.36a0",
}

_CLIENT_GO_GATES = {
    "AtomicFIFO": "1.36b1",
    "ClientsAllowCARotation": "1.36b1",
    "ClientsAllowCBOR": "1.32a0",
    "ClientsAllowTLSCacheGC": "1.36b1",
    "ClientsPreferCBOR": "1.32a0",
    "InformerResourceVersion": "1.30a0 1.35g1",
    "InOrderInformers": "1.33b1 1.36g1L",
    "InOrderInformersBatchProcess": "1.35b1",
    "UnlockWhileProcessingFIFO": "1.36b1",
    "WatchListClient": "1.30b0 1.35b1",
}

# name -> (history, removed in); history ends before the removal.
_GONE_GATES = {
    "AdmissionWebhookMatchConditions": ("1.27a0 1.28b1 1.30g1L", "1.33"),
    "AggregatedDiscoveryEndpoint": ("1.26a0 1.27b1 1.30g1L", None),
    "AllowServiceLBStatusOnNonLB": ("1.0g1 1.29d0 1.32d0L", "1.35"),
    "AnonymousAuthConfigurableEndpoints": ("1.31a0 1.32b1 1.34g1L", "1.37"),
    "AnyVolumeDataSource": ("1.18a0 1.24b1 1.33g1L", "1.37"),
    "APIListChunking": ("1.8a0 1.9b1 1.29g1L", "1.33"),
    "APIPriorityAndFairness": ("1.18a0 1.20b1 1.29g1", "1.31"),
    "APISelfSubjectReview": ("1.26a0 1.27b1 1.28g1", "1.30"),
    "APIServerTracing": ("1.22a0 1.27b1 1.34g1L", "1.37"),
    "AppArmor": ("1.4b1 1.31g1L", "1.33"),
    "AppArmorFields": ("1.30b1 1.31g1L", None),
    "AuthorizeNodeWithSelectors": ("1.31a0 1.32b1 1.34g1L", "1.37"),
    "AuthorizeWithSelectors": ("1.31a0 1.32b1 1.34g1L", "1.37"),
    "BtreeWatchCache": ("1.32b1 1.33g1L", "1.37"),
    "CloudDualStackNodeIPs": ("1.27a0 1.29b1 1.30g1L", "1.32"),
    "ComponentSLIs": ("1.26a0 1.27b1 1.32g1L", "1.35"),
    "ConsistentListFromCache": ("1.28a0 1.31b1 1.34g1L", "1.37"),
    "CPUManager": ("1.8a0 1.10b1 1.26g1L", None),
    "CronJobsScheduledAnnotation": ("1.28b1 1.32g1L", "1.35"),
    "CSIMigrationPortworx": ("1.23a0 1.25b0 1.31b1 1.33g1L", "1.36"),
    "DevicePluginCDIDevices": ("1.28a0 1.29b1 1.31g1L", "1.34"),
    "DisableCloudProviders": ("1.22a0 1.29b1 1.31g1L", "1.33"),
    "DisableKubeletCloudCredentialProviders": ("1.23a0 1.29b1 1.31g1L", None),
    "DRAControlPlaneController": ("1.0u0", None),
    "EfficientWatchResumption": ("1.0u1 1.31g1L", None),
    "ElasticIndexedJob": ("1.27b1 1.31g1L", None),
    "ExpandedDNSConfig": ("1.22a0 1.26b1 1.28g1", "1.30"),
    "GangScheduling": ("1.35a0", "1.37"),
    "HonorPVReclaimPolicy": ("1.23a0 1.31b1 1.33g1L", "1.36"),
    "HPAContainerMetrics": ("1.20a0 1.27b1 1.30g1L", "1.32"),
    "InPlacePodVerticalScalingAllocatedStatus": ("1.32a0 1.33d0", "1.36"),
    "InTreePluginPortworxUnregister": ("1.23a0", "1.36"),
    "JobBackoffLimitPerIndex": ("1.28a0 1.29b1 1.33g1L", "1.37"),
    "JobPodFailurePolicy": ("1.25a0 1.26b1 1.31g1L", None),
    "JobPodReplacementPolicy": ("1.28a0 1.29b1 1.34g1L", "1.37"),
    "JobReadyPods": ("1.23a0 1.24b1 1.29g1", "1.31"),
    "JobSuccessPolicy": ("1.30a0 1.31b1 1.33g1L", "1.37"),
    "KMSv2": ("1.25a0 1.27b1 1.29g1", "1.32"),
    "KMSv2KDF": ("1.28b0 1.29g1", "1.32"),
    "KubeletPodResourcesGetAllocatable": ("1.21a0 1.23b1 1.28g1", "1.30"),
    "KubeProxyDrainingTerminatingNodes": ("1.0u1 1.31g1L", None),
    "LegacyServiceAccountTokenCleanUp": ("1.28a0 1.29b1 1.30g1L", "1.32"),
    "LegacyServiceAccountTokenTracking": ("1.26a0 1.27b1 1.28g1", "1.30"),
    "LegacySidecarContainers": ("1.0g1 1.33d0", "1.34"),
    "LoadBalancerIPMode": ("1.29a0 1.30b1 1.32g1L", "1.35"),
    "LogarithmicScaleDown": ("1.21a0 1.22b1 1.31g1L", "1.37"),
    "MemoryManager": ("1.21a0 1.22b1 1.32g1L", "1.36"),
    "MinDomainsInPodTopologySpread": ("1.24a0 1.25b0 1.27b1 1.30g1L", "1.32"),
    "NewVolumeManagerReconstruction": ("1.25a0 1.27b1 1.30g1L", "1.32"),
    "NodeOutOfServiceVolumeDetach": ("1.0u1 1.31g1L", None),
    "OrderedNamespaceDeletion": ("1.30b0 1.33b1 1.34g1L", "1.37"),
    "PDBUnhealthyPodEvictionPolicy": ("1.26a0 1.27b1 1.31g1L", "1.33"),
    "PersistentVolumeLastPhaseTransitionTime": ("1.0u1 1.31g1L", None),
    "PodDisruptionConditions": ("1.0u1 1.31g1L", None),
    "PodHostIPs": ("1.28a0 1.29b1 1.30g1L", "1.32"),
    "PodIndexLabel": ("1.28b1 1.32g1L", "1.35"),
    "PodLifecycleSleepAction": ("1.29a0 1.30b1 1.34g1L", "1.37"),
    "PodLifecycleSleepActionAllowZero": ("1.32a0 1.33b1 1.34g1L", "1.37"),
    "PodSecurity": ("1.22a0 1.23b1 1.25g1", "1.28"),
    "PreventStaticPodAPIReferences": ("1.34b1", "1.37"),
    "ProbeHostPodSecurityStandards": ("1.34g1L", "1.35"),
    "ProbeTerminationGracePeriod": ("1.21a0 1.22b0 1.25b1 1.28g1", "1.29"),
    "ProxyTerminatingEndpoints": ("1.22a0 1.26b1 1.28g1", "1.30"),
    "ReadWriteOncePod": ("1.22a0 1.27b1 1.29g1", "1.31"),
    "RelaxedDNSSearchValidation": ("1.32a0 1.33b1 1.34g1L", "1.37"),
    "RemainingItemCount": ("1.0u1 1.31g1L", None),
    "ResilientWatchCacheInitialization": ("1.31b1 1.34g1L", "1.37"),
    "RetryGenerateName": ("1.30a0 1.31b1 1.32g1L", "1.37"),
    "SchedulerQueueingHints": ("1.28b0 1.32b1 1.34g1L", "1.37"),
    "SeccompDefault": ("1.22a0 1.25b1 1.27g1", "1.29"),
    "ServerSideApply": ("1.14a0 1.16b1 1.22g1L", "1.32"),
    "ServerSideFieldValidation": ("1.0u1 1.31g1L", None),
    "ServiceNodePortStaticSubrange": ("1.27a0 1.28b1 1.29g1", "1.31"),
    "ServiceTrafficDistribution": ("1.30a0 1.31b1 1.33g1L", "1.36"),
    "SidecarContainers": ("1.28a0 1.29b1 1.33g1L", "1.37"),
    "SizeMemoryBackedVolumes": ("1.20a0 1.22b1 1.32g1L", "1.35"),
    "StableLoadBalancerNodeSet": ("1.27b1 1.30g1L", "1.32"),
    "StatefulSetAutoDeletePVC": ("1.23a0 1.27b1 1.32g1L", "1.35"),
    "StatefulSetStartOrdinal": ("1.0u1 1.31g1L", None),
    "StreamingCollectionEncodingToJSON": ("1.33b1 1.34g1L", "1.37"),
    "StreamingCollectionEncodingToProtobuf": ("1.33b1 1.34g1L", "1.37"),
    "StrictCostEnforcementForVAP": ("1.30b0 1.32g1L", "1.35"),
    "StrictCostEnforcementForWebhooks": ("1.30b0 1.32g1L", "1.35"),
    "StructuredAuthenticationConfiguration": ("1.29a0 1.30b1 1.34g1L", "1.37"),
    "StructuredAuthorizationConfiguration": ("1.29a0 1.30b1 1.32g1L", "1.36"),
    "TopologyAwareHints": ("1.21a0 1.23b0 1.24b1 1.33g1L", "1.36"),
    "UserNamespacesPodSecurityStandards": ("1.29a0", "1.35"),
    "ValidatingAdmissionPolicy": ("1.26a0 1.28b0 1.30g1L", "1.32"),
    "VolumeCapacityPriority": ("1.0u0", None),
    "WatchBookmark": ("1.0u1 1.31g1L", None),
    "WatchFromStorageWithoutResourceVersion": ("1.27b0 1.33d0L", "1.36"),
    "WorkloadAwarePreemption": ("1.36a0", "1.37"),
    "ZeroLimitedNominalConcurrencyShares": ("1.29b0 1.30g1L", "1.32"),
}

_GATE_STAGES = {"a": "alpha", "b": "beta", "g": "GA", "d": "deprecated", "u": None}
_GATE_SPEC_RE = re.compile(r"^(\d+\.\d+)([abgdu])([01])(L?)$")
_GATE_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
               "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


def _gate_history(name):
    """(specs, removed_in, gone_by) of a gate; specs [(minor, stage, default, locked)]; None when unknown."""
    if name in _GATES or name in _CLIENT_GO_GATES:
        history, removed, gone_by = _GATES.get(name) or _CLIENT_GO_GATES[name], None, None
    elif name in _GONE_GATES:
        history, removed = _GONE_GATES[name]
        gone_by = None if removed else _GONE_GATES_GONE_BY
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
        return None, "not in the v%s gate list, last recorded in v%s" % (gone_by, _GONE_GATES_LAST_SEEN)
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
    for name in sorted(set(_GATES) | set(_CLIENT_GO_GATES) | set(_GONE_GATES)):
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
    if spec is not None and component in _GATES_NOT_REGISTERED_BY.get(gate, ()):
        spec, reason = None, "not registered by %s" % component
    if spec is None:
        if reason is None and _key(minor_str) > _key(FEATURE_GATES_DATA_MINOR):
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
