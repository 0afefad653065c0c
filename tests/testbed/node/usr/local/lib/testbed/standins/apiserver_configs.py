"""The kube-apiserver's structured files: audit policy, EncryptionConfiguration and AdmissionConfiguration
(PodSecurity, EventRateLimit, plugin configuration files).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import urllib.parse

from .core import go_quote, klogf, minor_of, StandinError
from .configs import json_kind, not_registered, short_repr, strict_error, type_meta, unknown_fields, yaml_load

# Audit policy -------------------------------------------------------------------------------------------------

AUDIT_LEVELS = ("None", "Metadata", "Request", "RequestResponse")
AUDIT_STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")


def load_audit_policy(files, path):
    """policy.LoadPolicyFromFile; returns the policy dict."""
    try:
        data = files.read(path)
    except StandinError as exc:
        raise StandinError(f"loading audit policy file: failed to read file path {go_quote(path)}: "
                           f"{exc.message}") from None

    def fail(text):
        raise StandinError(f"loading audit policy file: {text}: from file {path}")

    try:
        obj = yaml_load(data, "audit policy")
        api_version, kind = type_meta(obj, path)
    except ValueError as exc:
        fail(f"failed decoding: {exc}")
    if kind != "Policy" or api_version != "audit.k8s.io/v1":
        fail("failed decoding: " + not_registered(kind, api_version, "k8s.io/apiserver/pkg/audit/scheme.go:30"))
    known = {"apiVersion", "kind", "metadata", "rules", "omitStages", "omitManagedFields"}
    unknown = unknown_fields(obj, known)
    rule_known = {"level", "users", "userGroups", "verbs", "resources", "namespaces", "nonResourceURLs",
                  "omitStages", "omitManagedFields"}
    rules = obj.get("rules") or []
    if not isinstance(rules, list):
        fail("failed decoding: json: cannot unmarshal object into Go struct field Policy.rules of type "
             "[]v1.PolicyRule")
    for rule in rules:
        if isinstance(rule, dict):
            unknown += unknown_fields(rule, rule_known, "rules.")
    if unknown:
        klogf("W", "reader.go:75", "Audit policy contains errors, falling back to lenient decoding: "
              + strict_error(unknown))
    errs = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            fail(f"failed decoding: json: cannot unmarshal {json_kind(rule)} into Go struct field Policy.rules "
                 "of type v1.PolicyRule")
        level = rule.get("level")
        if not level:
            errs.append(f"rules[{i}].level: Required value")
        elif level not in AUDIT_LEVELS:
            errs.append(f"rules[{i}].level: Unsupported value: {go_quote(level)}: supported values: "
                        + ", ".join(go_quote(x) for x in AUDIT_LEVELS))
        urls = rule.get("nonResourceURLs") or []
        if urls and (rule.get("resources") or rule.get("namespaces")):
            errs.append(f"rules[{i}].nonResourceURLs: Invalid value: []string{{{', '.join(go_quote(u) for u in urls)}}}"
                        ": rules cannot apply to both regular resources and non-resource URLs")
        for j, url in enumerate(urls):
            if not str(url).startswith("/") and url != "*":
                errs.append(f"rules[{i}].nonResourceURLs[{j}]: Invalid value: {go_quote(url)}: non-resource URL "
                            "rules must begin with a '/' character")
            elif "*" in str(url)[:-1]:
                errs.append(f"rules[{i}].nonResourceURLs[{j}]: Invalid value: {go_quote(url)}: non-resource URL "
                            "wildcards '*' must be the final character of the rule")
        for j, stage in enumerate(rule.get("omitStages") or []):
            if stage not in AUDIT_STAGES:
                errs.append(f"rules[{i}].omitStages[{j}]: Invalid value: {go_quote(stage)}: allowed stages are "
                            + ", ".join(AUDIT_STAGES))
        for j, res in enumerate(rule.get("resources") or []):
            if isinstance(res, dict) and res.get("resourceNames") and len(res.get("resources") or []) == 0:
                errs.append(f"rules[{i}].resources[{j}].resourceNames: Invalid value: "
                            f"{res.get('resourceNames')}: using resourceNames requires at least one resource")
    for j, stage in enumerate(obj.get("omitStages") or []):
        if stage not in AUDIT_STAGES:
            errs.append(f"omitStages[{j}]: Invalid value: {go_quote(stage)}: allowed stages are "
                        + ", ".join(AUDIT_STAGES))
    if errs:
        raise StandinError("loading audit policy file: " + (errs[0] if len(errs) == 1 else
                                                            "[" + ", ".join(errs) + "]") + f": from file {path}")
    if not rules:
        fail("loaded illegal policy with 0 rules")
    return obj


def audit_level(policy, user, groups, verb, path):
    omit = set(policy.get("omitStages") or [])
    for rule in policy.get("rules") or []:
        if rule.get("users") and user not in rule["users"]:
            continue
        if rule.get("userGroups") and not set(rule["userGroups"]) & set(groups):
            continue
        if rule.get("verbs") and verb not in rule["verbs"]:
            continue
        if rule.get("resources") or rule.get("namespaces"):
            continue  # only non-resource requests reach the stand-in
        urls = rule.get("nonResourceURLs") or []
        if urls and not any(u == "*" or u == path or (u.endswith("*") and path.startswith(u[:-1])) for u in urls):
            continue
        return rule.get("level", "None"), omit | set(rule.get("omitStages") or [])
    return "None", omit


# EncryptionConfiguration ------------------------------------------------------------------------------------

def load_encryption_config(files, path, version):
    def fail(text):
        raise StandinError(f"error while parsing file: {text}")

    try:
        data = files.read(path)
    except StandinError as exc:
        fail(f"error reading encryption provider configuration file {go_quote(path)}: {exc.message}")
    if not data.strip():
        fail(f"encryption provider configuration file {go_quote(path)} is empty")
    try:
        obj = yaml_load(data, "encryption config")
        api_version, kind = type_meta(obj, path)
    except ValueError as exc:
        fail(f"error decoding encryption provider configuration file {go_quote(path)}: {exc}")
    if api_version != "apiserver.config.k8s.io/v1" or kind != "EncryptionConfiguration":
        fail(f"error decoding encryption provider configuration file {go_quote(path)}: "
             + not_registered(kind, api_version, "k8s.io/apiserver/pkg/server/options/encryptionconfig/config.go"))
    unknown = unknown_fields(obj, {"apiVersion", "kind", "resources"})
    errs = []
    resources = obj.get("resources")
    provider_names = {"aesgcm", "aescbc", "secretbox", "identity", "kms"}
    for i, res in enumerate(resources or []):
        if not isinstance(res, dict):
            continue
        unknown += unknown_fields(res, {"resources", "providers"}, "resources[].")
        for j, prov in enumerate(res.get("providers") or []):
            if isinstance(prov, dict):
                unknown += unknown_fields(prov, provider_names, "resources[].providers[].")
    if unknown:
        fail(f"error decoding encryption provider configuration file {go_quote(path)}: " + strict_error(unknown))
    if not resources:
        errs.append("resources: Required value: EncryptionConfiguration.Resources must contain at least one "
                    "resource")
    kms_names = set()
    for i, res in enumerate(resources or []):
        rpath = f"resources[{i}]"
        if not isinstance(res, dict):
            errs.append(f"{rpath}: Invalid value: {short_repr(res)}: must be an object")
            continue
        names = res.get("resources") or []
        if not names:
            errs.append(f"{rpath}.resources: Required value: EncryptionConfiguration.Resources[{i}].Resources "
                        "must contain at least one resource")
        for k, name in enumerate(names):
            if not isinstance(name, str) or name != name.lower():
                errs.append(f"{rpath}.resources[{k}]: Invalid value: {go_quote(str(name))}: resource name must be "
                            "lowercase")
        providers = res.get("providers") or []
        if not providers:
            errs.append(f"{rpath}.providers: Required value: EncryptionConfiguration.Resources[{i}].Providers "
                        "must contain at least one provider")
        for j, prov in enumerate(providers):
            ppath = f"{rpath}.providers[{j}]"
            present = [k for k in ("kms", "aesgcm", "aescbc", "secretbox", "identity") if k in (prov or {})]
            if len(present) > 1:
                errs.append(f"{ppath}: Invalid value: {short_repr(prov)}: more than one provider specified in a single "
                            "element, should split into different list elements")
                continue
            if not present:
                errs.append(f"{ppath}: Invalid value: {short_repr(prov)}: provider does not contain any of the "
                            "expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity")
                continue
            kind_name = present[0]
            body = prov.get(kind_name) or {}
            if kind_name in ("aesgcm", "aescbc", "secretbox"):
                sizes = [32] if kind_name == "secretbox" else [16, 24, 32]
                keys = body.get("keys") or []
                if not keys:
                    errs.append(f"{ppath}.{kind_name}.keys: Required value: keys (secret) must be specified")
                seen = set()
                for k, key in enumerate(keys):
                    kpath = f"{ppath}.{kind_name}.keys[{k}]"
                    key = key or {}
                    name = key.get("name")
                    if not name:
                        errs.append(f"{kpath}.name: Required value: key name is required")
                    elif ":" in str(name):
                        errs.append(f"{kpath}.name: Invalid value: {go_quote(name)}: should not contain ':'")
                    elif name in seen:
                        errs.append(f"{kpath}.name: Duplicate value: {go_quote(name)}")
                    seen.add(name)
                    secret = key.get("secret")
                    if not secret:
                        errs.append(f"{kpath}.secret: Required value: secret is required")
                        continue
                    try:
                        raw = base64.b64decode(str(secret), validate=True)
                    except (binascii.Error, ValueError):
                        errs.append(f"{kpath}.secret: Invalid value: \"REDACTED\": secrets must be base64 encoded")
                        continue
                    if len(raw) not in sizes:
                        errs.append(f"{kpath}.secret: Invalid value: \"REDACTED\": secret is not of the expected "
                                    f"length, got {len(raw)}, expected one of [{' '.join(map(str, sizes))}]")
            elif kind_name == "kms":
                api = body.get("apiVersion", "v1")
                name = body.get("name")
                if not name:
                    errs.append(f"{ppath}.kms.name: Required value: name is required")
                elif name in kms_names:
                    errs.append(f"{ppath}.kms.name: Duplicate value: {go_quote(name)}")
                kms_names.add(name)
                endpoint = body.get("endpoint", "")
                if not endpoint:
                    errs.append(f"{ppath}.kms.endpoint: Required value: endpoint is required")
                elif not str(endpoint).startswith("unix://"):
                    errs.append(f"{ppath}.kms.endpoint: Invalid value: {go_quote(endpoint)}: unsupported scheme "
                                f"{go_quote(urllib.parse.urlparse(str(endpoint)).scheme)} for KMS provider, "
                                "only unix is supported")
                if api not in ("v1", "v2"):
                    errs.append(f"{ppath}.kms.apiVersion: Invalid value: {go_quote(api)}: unsupported apiVersion "
                                f"{api} for KMS provider, only v1 and v2 are supported")
                elif api == "v1" and minor_of(version) >= (1, 29):
                    errs.append(f"{ppath}.kms.apiVersion: Invalid value: \"v1\": KMSv1 is deprecated and will only "
                                "receive security updates going forward. Use KMSv2 instead.  Set "
                                "--feature-gates=KMSv1=true to use the deprecated KMSv1 feature.")
    if errs:
        fail(errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]")
    return obj


# AdmissionConfiguration and plugin configurations ---------------------------------------------------------

POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")


def validate_pod_security_config(cfg, version):
    errs = []
    api_version, kind = cfg.get("apiVersion"), cfg.get("kind")
    allowed = ["pod-security.admission.config.k8s.io/v1", "pod-security.admission.config.k8s.io/v1beta1"]
    if kind != "PodSecurityConfiguration" or api_version not in allowed:
        return [not_registered(kind or "", api_version or "", "k8s.io/pod-security-admission/admission/api/"
                               "scheme/scheme.go:28")]
    defaults = cfg.get("defaults") or {}
    dummy, cur_minor = minor_of(version)
    for mode in ("enforce", "audit", "warn"):
        level = defaults.get(mode, "privileged")
        if level not in POD_SECURITY_LEVELS:
            errs.append(f"defaults.{mode}: Invalid value: {go_quote(level)}: must be one of privileged, baseline, "
                        "restricted")
        ver = defaults.get(f"{mode}-version", "latest")
        m = re.fullmatch(r"v1\.(\d+)", str(ver))
        if ver != "latest" and not m:
            errs.append(f"defaults.{mode}-version: Invalid value: {go_quote(ver)}: must be 'latest' or of the form "
                        "'v1.x'")
    exemptions = cfg.get("exemptions") or {}
    for i, ns in enumerate(exemptions.get("namespaces") or []):
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", str(ns)) or len(str(ns)) > 63:
            errs.append(f"exemptions.namespaces[{i}]: Invalid value: {go_quote(str(ns))}: a lowercase RFC 1123 label "
                        "must consist of lower case alphanumeric characters or '-', and must start and end with an "
                        "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
                        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    for field in ("usernames", "runtimeClasses"):
        for i, value in enumerate(exemptions.get(field) or []):
            if not value:
                errs.append(f"exemptions.{field}[{i}]: Invalid value: \"\": must be non-empty")
    return errs


def validate_event_rate_limit_config(cfg):
    if cfg is None:
        return ["limits: Invalid value: \"null\": must not be empty"]
    api_version, kind = cfg.get("apiVersion"), cfg.get("kind")
    if kind != "Configuration" or api_version != "eventratelimit.admission.k8s.io/v1alpha1":
        return [not_registered(kind or "", api_version or "",
                               "k8s.io/kubernetes/plugin/pkg/admission/eventratelimit/config.go:34")]
    errs = []
    limits = cfg.get("limits") or []
    if not limits:
        errs.append("limits: Invalid value: \"null\": must not be empty")
    for i, limit in enumerate(limits):
        limit = limit or {}
        if limit.get("type") not in ("Server", "Namespace", "User", "SourceAndObject"):
            errs.append(f"limits[{i}].type: Unsupported value: {go_quote(str(limit.get('type', '')))}: supported "
                        "values: \"Namespace\", \"Server\", \"SourceAndObject\", \"User\"")
        if not isinstance(limit.get("burst"), int) or limit.get("burst", 0) <= 0:
            errs.append(f"limits[{i}].burst: Invalid value: {limit.get('burst', 0)}: must be positive")
        if not isinstance(limit.get("qps"), (int, float)) or limit.get("qps", 0) <= 0:
            errs.append(f"limits[{i}].qps: Invalid value: {limit.get('qps', 0)}: must be positive")
        if limit.get("type") != "Server" and isinstance(limit.get("cacheSize"), int) and limit["cacheSize"] < 0:
            errs.append(f"limits[{i}].cacheSize: Invalid value: {limit['cacheSize']}: must not be negative")
    return errs


def load_admission_config(files, path):
    """Returns {plugin name: configuration object or None}."""
    try:
        data = files.read(path)
    except StandinError as exc:
        raise StandinError(f"failed to read plugin config: {exc.message}") from None
    try:
        obj = yaml_load(data, "admission config")
        api_version, kind = type_meta(obj, path)
    except ValueError as exc:
        raise StandinError(f"failed to read plugin config: {exc}") from None
    if kind != "AdmissionConfiguration" or api_version not in (
            "apiserver.config.k8s.io/v1", "apiserver.config.k8s.io/v1alpha1", "apiserver.k8s.io/v1alpha1"):
        raise StandinError("failed to read plugin config: "
                           + not_registered(kind, api_version, "pkg/runtime/scheme.go:100"))
    result = {}
    base = os.path.dirname(path)
    for plugin in obj.get("plugins") or []:
        plugin = plugin or {}
        name = plugin.get("name", "")
        if plugin.get("configuration") is not None:
            result[name] = ("inline", plugin["configuration"])
        elif plugin.get("path"):
            ppath = plugin["path"]
            if not os.path.isabs(ppath):
                ppath = os.path.normpath(os.path.join(base, ppath))
            result[name] = ("path", ppath)
        else:
            result[name] = ("none", None)
    return result


def resolve_plugin_config(files, entry):
    if entry is None or entry[0] == "none":
        return None
    kind, value = entry
    if kind == "inline":
        return value
    data = files.read(value)
    try:
        return yaml_load(data, "plugin config")
    except ValueError as exc:
        raise StandinError(f"couldn't read plugin config {value}: {exc}") from None
