# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each hardening role asks of its component, control by control: the planner behind
``secure_cluster.k8s.component_plan``, on the controller.

Pure functions on the role's variables. Each row of a table is a CIS id (or, for a setting no recommendation
names, the variable that drives it), and the fragment of flags or settings it adds when its toggle
``<component>_cis_<id>_enabled`` is on; fragments are merged in table order, then the role's ``*_extra_*``
variable over them::

    desired(component, settings, current=None, derived=None) -> plan
        # settings: the role's public variables, a Mapping read lazily (only the variables a plan needs)
        # current:  the flags of the running manifest (pod_flags), for kube-apiserver
        # derived:  values the role works out from the node (see DERIVED)
        # plan: {component, flags: {flag: value, None removes it} | settings: {field: ...} (kubelet),
        #        volumes: [hostPath volumes] (kube-apiserver), controls: {flag or dotted field: [sources]},
        #        volume_controls: {volume name: [sources]} (kube-apiserver)}

A source is a CIS id ("1.2.16") or a variable name ("apiserver_extra_flags", "etcd_bind_enabled"), in the order
they were applied: the last one set the value. ``PlanError`` names a variable the plan needs and lacks.
"""

from __future__ import annotations

import os

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.secure_cluster.k8s.plugins.module_utils.kubelet_config import deep_merge

COMPONENTS = ("apiserver", "controller_manager", "scheduler", "etcd", "kubelet")

# The values a role derives from its node, by component, that the plan reads.
DERIVED = {
    "apiserver": ("anonymous_mode", "use_authn_config", "oidc_enabled", "kubelet_ca_deferred"),
    "etcd": ("node_ip",),
}


class PlanError(ValueError):
    """A variable the plan needs is missing or unusable."""


class _Inputs(object):
    """The role's variables and derived values as the fragments read them, each looked up when first read."""

    def __init__(self, component, settings, derived):
        self.prefix = component + "_"
        self.settings = settings
        self.derived = derived or {}
        self.component = component

    def __getitem__(self, name):
        try:
            return self.settings[name]
        except KeyError:
            raise PlanError("the %s plan needs the variable %s, which is not defined" % (self.component, name))

    def on(self, toggle):
        """Whether a toggle (a CIS id or a variable name) is on."""
        name = toggle if toggle.startswith(self.prefix) else "%scis_%s_enabled" % (self.prefix, toggle.replace(".", "_"))
        return _bool(self[name], name)

    def derived_value(self, key):
        if key not in self.derived:
            raise PlanError("the %s plan needs the derived value %s (one of %s)"
                            % (self.component, key, ", ".join(DERIVED.get(self.component, ()))))
        return self.derived[key]


def _bool(value, name):
    try:
        return boolean(value, strict=True)
    except TypeError as exc:
        raise PlanError("%s: %s" % (name, exc))


def _int(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PlanError("%s must be an integer, got %r" % (name, value))


def _apply(plan_values, controls, fragment, sources):
    """Merge a flat fragment (flag: value) over the plan and record where each flag came from (a source or a
    list of them; a list flag rewritten from its current members alone has none)."""
    plan_values.update(fragment)
    for key in fragment:
        controls.setdefault(key, []).extend([sources] if isinstance(sources, str) else sources)


def _layers(inputs, rows, extra):
    """Flags of ``rows`` (source, builder) whose toggle is on, then the ``extra`` variable merged over them."""
    flags, controls = {}, {}
    for source, build in rows:
        if inputs.on(source):
            _apply(flags, controls, build(inputs), source)
    _apply(flags, controls, dict(inputs[extra]), extra)
    return {"flags": flags, "controls": controls}


# ---------------------------------------------------------------------------------------------------------------
# kube-scheduler, kube-controller-manager
# ---------------------------------------------------------------------------------------------------------------

SCHEDULER = (
    ("1.4.1", lambda v: {"profiling": False}),
    ("1.4.2", lambda v: {"bind-address": v["scheduler_bind_address"]}),
)

# RotateKubeletServerCertificate (1.3.6) is a beta gate, on by default, in every supported version (1.28-1.37); it
# has not been locked or removed, so kube-controller-manager accepts it being set explicitly.
CONTROLLER_MANAGER = (
    ("1.3.1", lambda v: {"terminated-pod-gc-threshold": v["controller_manager_terminated_pod_gc_threshold"]}),
    ("1.3.2", lambda v: {"profiling": False}),
    ("1.3.3", lambda v: {"use-service-account-credentials": True}),
    ("1.3.4", lambda v: {"service-account-private-key-file": v["controller_manager_service_account_private_key_file"]}),
    ("1.3.5", lambda v: {"root-ca-file": v["controller_manager_root_ca_file"]}),
    ("1.3.6", lambda v: {"feature-gates": {"RotateKubeletServerCertificate": True}}),
    ("1.3.7", lambda v: {"bind-address": v["controller_manager_bind_address"]}),
)


def scheduler(inputs):
    return _layers(inputs, SCHEDULER, "scheduler_extra_flags")


def controller_manager(inputs):
    return _layers(inputs, CONTROLLER_MANAGER, "controller_manager_extra_flags")


# ---------------------------------------------------------------------------------------------------------------
# etcd (CIS 2.1-2.6; binding, metrics and limits are the seed's 5.2, not CIS recommendations)
# ---------------------------------------------------------------------------------------------------------------

def _etcd_bind(v):
    node_ip = v.derived_value("node_ip")
    client = _int(v["etcd_client_port"], "etcd_client_port")
    peer = _int(v["etcd_peer_port"], "etcd_peer_port")
    return {"listen-client-urls": "https://127.0.0.1:%d,https://%s:%d" % (client, node_ip, client),
            "listen-peer-urls": "https://%s:%d" % (node_ip, peer)}


ETCD = (
    ("2.1", lambda v: {"cert-file": v["etcd_cert_file"], "key-file": v["etcd_key_file"]}),
    ("2.2", lambda v: {"client-cert-auth": True, "trusted-ca-file": v["etcd_trusted_ca_file"]}),
    ("2.3", lambda v: {"auto-tls": False}),
    ("2.4", lambda v: {"peer-cert-file": v["etcd_peer_cert_file"], "peer-key-file": v["etcd_peer_key_file"]}),
    ("2.5", lambda v: {"peer-client-cert-auth": True, "peer-trusted-ca-file": v["etcd_peer_trusted_ca_file"]}),
    ("2.6", lambda v: {"peer-auto-tls": False}),
    ("etcd_bind_enabled", _etcd_bind),
    ("etcd_metrics_enabled", lambda v: {"listen-metrics-urls": v["etcd_metrics_urls"]}),
    ("etcd_limits_enabled", lambda v: {
        "auto-compaction-retention": str(v["etcd_auto_compaction_retention"]),
        "quota-backend-bytes": _int(v["etcd_quota_backend_bytes"], "etcd_quota_backend_bytes")}),
)


def etcd(inputs):
    return _layers(inputs, ETCD, "etcd_extra_flags")


# ---------------------------------------------------------------------------------------------------------------
# kubelet: KubeletConfiguration fields, deep-merged
# ---------------------------------------------------------------------------------------------------------------

def _kubelet_tls_files(v):
    # 4.2.9 names the files only when both are given; otherwise the kubelet keeps its self-signed pair
    if v["kubelet_tls_cert_file"] and v["kubelet_tls_private_key_file"]:
        return {"tlsCertFile": v["kubelet_tls_cert_file"], "tlsPrivateKeyFile": v["kubelet_tls_private_key_file"]}
    return {}


KUBELET = (
    ("4.2.1", lambda v: {"authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True}}}),
    ("4.2.2", lambda v: {"authentication": {"webhook": {"enabled": True}}, "authorization": {"mode": "Webhook"}}),
    ("4.2.3", lambda v: {"authentication": {"x509": {"clientCAFile": v["kubelet_client_ca_file"]}}}),
    ("4.2.4", lambda v: {"readOnlyPort": 0}),
    ("4.2.5", lambda v: {"streamingConnectionIdleTimeout": v["kubelet_streaming_connection_idle_timeout"]}),
    ("4.2.6", lambda v: {"makeIPTablesUtilChains": True}),
    ("4.2.8", lambda v: {"eventRecordQPS": v["kubelet_event_record_qps"]}),
    ("4.2.9", _kubelet_tls_files),
    ("4.2.10", lambda v: {"rotateCertificates": True}),
    ("4.2.11", lambda v: {"serverTLSBootstrap": True, "featureGates": {"RotateKubeletServerCertificate": True}}),
    ("4.2.12", lambda v: {"tlsMinVersion": v["kubelet_tls_min_version"],
                          "tlsCipherSuites": v["kubelet_tls_cipher_suites"]}),
    ("4.2.13", lambda v: {"podPidsLimit": v["kubelet_pod_pids_limit"]}),
    ("4.2.14", lambda v: {"seccompDefault": True}),
)


def _leaves(settings, prefix=""):
    """Dotted paths of the leaves of a settings dict (a null leaf is one: it removes the field)."""
    out = []
    for key, value in settings.items():
        path = "%s%s" % (prefix, key)
        if isinstance(value, dict) and value:
            out.extend(_leaves(value, path + "."))
        else:
            out.append(path)
    return out


def kubelet(inputs):
    settings, controls = {}, {}
    layers = [(source, build(inputs)) for source, build in KUBELET if inputs.on(source)]
    # protectKernelDefaults is always written: false is a choice the kubelet's preflight must see too
    layers.append(("kubelet_protect_kernel_defaults", {"protectKernelDefaults": _bool(
        inputs["kubelet_protect_kernel_defaults"], "kubelet_protect_kernel_defaults")}))
    layers.append(("kubelet_extra_settings", dict(inputs["kubelet_extra_settings"])))
    for source, fragment in layers:
        # a null is kept: kubelet_config's merge into the file is what removes the field
        settings = deep_merge(settings, fragment, keep_none=True)
        for path in _leaves(fragment):
            controls.setdefault(path, []).append(source)
    return {"settings": settings, "controls": controls}


# ---------------------------------------------------------------------------------------------------------------
# kube-apiserver
# ---------------------------------------------------------------------------------------------------------------

# CIS 1.2.4, 1.2.22-1.2.26: kubeadm sets these; the kubeadm paths (apiserver_kubeadm_files) are filled in only
# where a flag is missing.
APISERVER_PRESENCE = {
    "kubelet-client-certificate": "1.2.4",
    "kubelet-client-key": "1.2.4",
    "service-account-key-file": "1.2.22",
    "etcd-certfile": "1.2.23",
    "etcd-keyfile": "1.2.23",
    "tls-cert-file": "1.2.24",
    "tls-private-key-file": "1.2.24",
    "client-ca-file": "1.2.25",
    "etcd-cafile": "1.2.26",
}

# Members of the list flags: (id, member) added when the toggle is on, or dropped from the current value.
ADMISSION_ADDED = (("1.2.14", "NodeRestriction"), ("1.2.3", "DenyServiceExternalIPs"), ("1.2.9", "EventRateLimit"),
                   ("1.2.11", "AlwaysPullImages"))
ADMISSION_DROPPED = (("1.2.10", "AlwaysAdmit"),)
ADMISSION_UNDISABLED = (("1.2.12", "ServiceAccount"), ("1.2.13", "NamespaceLifecycle"), ("1.2.10", "AlwaysAdmit"))
AUTHORIZERS_FIRST = (("1.2.7", "Node"),)
AUTHORIZERS_DROPPED = (("1.2.6", "AlwaysAllow"),)
AUTHORIZERS_LAST = (("1.2.8", "RBAC"),)

APISERVER = (
    ("1.2.15", lambda v: {"profiling": False}),
    ("1.2.16", lambda v: {"audit-log-path": v["apiserver_audit_log_path"],
                          "audit-policy-file": v["apiserver_audit_policy_file"]}),
    ("1.2.17", lambda v: {"audit-log-maxage": v["apiserver_audit_log_maxage"]}),
    ("1.2.18", lambda v: {"audit-log-maxbackup": v["apiserver_audit_log_maxbackup"]}),
    ("1.2.19", lambda v: {"audit-log-maxsize": v["apiserver_audit_log_maxsize"]}),
    ("1.2.20", lambda v: {"request-timeout": v["apiserver_request_timeout"]}),
    ("1.2.21", lambda v: {"service-account-lookup": True}),
    ("1.2.27", lambda v: {"encryption-provider-config": v["apiserver_encryption_config_file"]}),
    ("1.2.29", lambda v: {"tls-cipher-suites": v["apiserver_tls_cipher_suites"],
                          "tls-min-version": v["apiserver_tls_min_version"]}),
    ("1.2.30", lambda v: {"service-account-extend-token-expiration": False}),
)


def _members(value):
    """The members of a comma list flag's current value (empty ones dropped)."""
    return [m for m in (value or "").split(",") if m]


def _unique(items):
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _on_members(inputs, rows):
    """(ids, members) of the rows whose toggle is on."""
    rows = [(cid, member) for cid, member in rows if inputs.on(cid)]
    return [cid for cid, dummy in rows], [member for dummy, member in rows]


def _apiserver_lists(inputs, cur):
    """enable-admission-plugins, disable-admission-plugins and authorization-mode from the manifest's current
    members: forbidden ones dropped, required ones added (written with replace, so one edit does both)."""
    added_ids, added = _on_members(inputs, ADMISSION_ADDED)
    dropped_ids, dropped = _on_members(inputs, ADMISSION_DROPPED)
    enable = ([m for m in _members(cur.get("enable-admission-plugins")) if m not in dropped]
              + list(inputs["apiserver_admission_plugins"]) + added)
    undisabled_ids, undisabled = _on_members(inputs, ADMISSION_UNDISABLED)
    disable = [m for m in _members(cur.get("disable-admission-plugins")) if m not in undisabled]
    first_ids, first = _on_members(inputs, AUTHORIZERS_FIRST)
    refused_ids, refused = _on_members(inputs, AUTHORIZERS_DROPPED)
    last_ids, last = _on_members(inputs, AUTHORIZERS_LAST)
    authorizers = first + [m for m in _members(cur.get("authorization-mode")) if m not in refused] + last
    return ((enable, dropped_ids + ["apiserver_admission_plugins"] + added_ids),
            (disable, undisabled_ids),
            (authorizers, first_ids + refused_ids + last_ids))


def _oidc_flags(oidc):
    flags = {"oidc-issuer-url": oidc.get("issuer_url", ""), "oidc-client-id": oidc.get("client_id", ""),
             "oidc-username-claim": oidc.get("username_claim", "sub"),
             "oidc-groups-claim": oidc.get("groups_claim", "groups"),
             "oidc-username-prefix": oidc.get("username_prefix", "oidc:"),
             "oidc-groups-prefix": oidc.get("groups_prefix", "oidc:")}
    if oidc.get("ca_file", ""):
        flags["oidc-ca-file"] = oidc["ca_file"]
    return flags


def apiserver(inputs, current):
    v, cur = inputs, current or {}
    use_authn_config = _bool(v.derived_value("use_authn_config"), "use_authn_config")
    flags, controls = {}, {}
    if use_authn_config:
        _apply(flags, controls, {"authentication-config": v["apiserver_authentication_config_file"],
                                 "anonymous-auth": None}, "1.2.1")
    if v.on("1.2.1") and v.derived_value("anonymous_mode") == "disabled":
        _apply(flags, controls, {"anonymous-auth": False}, "1.2.1")
    if v.on("1.2.2"):
        _apply(flags, controls, {"token-auth-file": None}, "1.2.2")
    (enable, enable_ids), (disable, disable_ids), (authorizers, authz_ids) = _apiserver_lists(v, cur)
    _apply(flags, controls, {"enable-admission-plugins": _unique(enable)}, enable_ids)
    _apply(flags, controls, {"admission-control-config-file": v["apiserver_admission_config_file"]},
           "apiserver_admission_config_file")
    if "disable-admission-plugins" in cur:
        _apply(flags, controls, {"disable-admission-plugins": _unique(m for m in disable if m not in enable) or None},
               disable_ids)
    if "authorization-config" not in cur:
        _apply(flags, controls, {"authorization-mode": _unique(authorizers)}, authz_ids)
    kubeadm_files = v["apiserver_kubeadm_files"]
    for flag in kubeadm_files:
        if flag in APISERVER_PRESENCE and v.on(APISERVER_PRESENCE[flag]) and flag not in cur:
            _apply(flags, controls, {flag: kubeadm_files[flag]}, APISERVER_PRESENCE[flag])
    if v.on("1.2.5") and not _bool(v.derived_value("kubelet_ca_deferred"), "kubelet_ca_deferred"):
        _apply(flags, controls, {"kubelet-certificate-authority": v["apiserver_kubelet_certificate_authority"]},
               "1.2.5")
    for cid, build in APISERVER:
        if v.on(cid):
            _apply(flags, controls, build(v), cid)
    if _bool(v.derived_value("oidc_enabled"), "oidc_enabled") and not use_authn_config:
        _apply(flags, controls, _oidc_flags(v["apiserver_oidc"]), "apiserver_oidc")
    _apply(flags, controls, dict(v["apiserver_extra_flags"]), "apiserver_extra_flags")
    volumes, volume_controls = _apiserver_volumes(v, use_authn_config)
    return {"flags": flags, "controls": controls, "volumes": volumes, "volume_controls": volume_controls}


def _dir_volume(name, path, **extra):
    """A hostPath volume of the directory of ``path``."""
    volume = {"name": name, "hostPath": os.path.dirname(path)}
    volume.update(extra)
    volume["type"] = "DirectoryOrCreate"
    return volume


def _apiserver_volumes(v, use_authn_config):
    """The hostPath volumes of the supporting files' directories (each with the source that needs it)."""
    rows = []
    if v.on("1.2.16"):
        rows.append(("1.2.16", _dir_volume("sck8s-audit-policy", v["apiserver_audit_policy_file"])))
        rows.append(("1.2.16", _dir_volume("sck8s-audit-log", v["apiserver_audit_log_path"], readOnly=False)))
    if v.on("1.2.27"):
        rows.append(("1.2.27", _dir_volume("sck8s-encryption", v["apiserver_encryption_config_file"])))
    rows.append(("apiserver_admission_config_file",
                 _dir_volume("sck8s-admission", v["apiserver_admission_config_file"])))
    if use_authn_config:
        rows.append(("1.2.1", _dir_volume("sck8s-authn", v["apiserver_authentication_config_file"])))
    rows += [("apiserver_extra_volumes", volume) for volume in v["apiserver_extra_volumes"]]
    volume_controls = {}
    for source, volume in rows:
        volume_controls.setdefault(volume.get("name"), []).append(source)
    return [volume for dummy, volume in rows], volume_controls


# ---------------------------------------------------------------------------------------------------------------

def desired(component, settings, current=None, derived=None):
    """The plan of ``component`` (one of COMPONENTS) from the role's variables ``settings`` (a Mapping; only
    the variables the plan needs are read), the manifest's ``current`` flags and the ``derived`` values."""
    if component not in COMPONENTS:
        raise PlanError("unknown component %r (one of %s)" % (component, ", ".join(COMPONENTS)))
    inputs = _Inputs(component, settings, derived)
    if component == "apiserver":
        plan = apiserver(inputs, current)
    else:
        plan = {"scheduler": scheduler, "controller_manager": controller_manager, "etcd": etcd,
                "kubelet": kubelet}[component](inputs)
    plan["component"] = component
    return plan
