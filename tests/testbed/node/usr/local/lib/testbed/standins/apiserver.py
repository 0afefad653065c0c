"""The kube-apiserver stand-in: start-up checks of its flags and files, HTTPS with its authentication and
authorization, the etcd health check behind /readyz, and the audit log.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

from .core import env_value, go_quote, klog, klogf, StandinError
from .files import check_private_key, check_public_keys, load_ca, load_pair
from .configs import load_kubeconfig, not_registered, type_meta, yaml_load
from .apiserver_configs import (
    audit_level, load_admission_config, load_audit_policy, load_encryption_config, resolve_plugin_config,
    validate_event_rate_limit_config, validate_pod_security_config,
)
from .serving import (
    as_json, health_response, make_server_context, METRICS_BODY, node_ip, NOT_FOUND, PPROF_INDEX, single_check,
    status_json, text, version_info,
)
from .component import Component, path_matches

# Who the RBAC stand-in lets through: the admin groups everywhere, anyone to the public-info paths, authenticated
# users to discovery, system:monitoring to the health and metrics paths (the bootstrap ClusterRoles' paths).
ADMIN_GROUPS = {"system:masters", "kubeadm:cluster-admins"}
PUBLIC_INFO_PATHS = {"/healthz", "/livez", "/readyz", "/version", "/version/"}
DISCOVERY_PATHS = ("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
                   "/readyz", "/version", "/version/")
MONITORING_PATHS = ("/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz", "/livez/*", "/readyz/*",
                    "/healthz/*")
APISERVER_AUTHZ_MODES = ("AlwaysAllow", "AlwaysDeny", "ABAC", "Webhook", "RBAC", "Node")
DEFAULT_ADMISSION_PLUGINS = {
    "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "TaintNodesByCondition", "PodSecurity", "Priority",
    "DefaultTolerationSeconds", "DefaultStorageClass", "StorageObjectInUseProtection", "PersistentVolumeClaimResize",
    "RuntimeClass", "CertificateApproval", "CertificateSigning", "ClusterTrustBundleAttest",
    "CertificateSubjectRestriction", "DefaultIngressClass", "MutatingAdmissionWebhook", "ValidatingAdmissionWebhook",
    "ValidatingAdmissionPolicy", "ResourceQuota"}
OIDC_FLAGS = ("oidc-issuer-url", "oidc-client-id", "oidc-ca-file", "oidc-username-claim", "oidc-username-prefix",
              "oidc-groups-claim", "oidc-groups-prefix", "oidc-required-claim", "oidc-signing-algs")


class EtcdHealth:
    """GET /health on each --etcd-servers endpoint with the apiserver's client certificate (cached ~1 s)."""

    def __init__(self, servers, ca_host, cert_host, key_host):
        self.servers = servers
        self.ca_host, self.cert_host, self.key_host = ca_host, cert_host, key_host
        self.ttl = float(env_value("TESTBED_ETCD_HEALTH_CACHE", "1"))
        self.lock = threading.Lock()
        self.cached = None
        self.cached_at = 0.0
        self.ever_ok = False

    def _context(self):
        ctx = ssl.create_default_context(cafile=self.ca_host) if self.ca_host else ssl.create_default_context()
        if self.cert_host and self.key_host:
            ctx.load_cert_chain(self.cert_host, self.key_host)
        return ctx

    def _probe(self, url):
        import http.client
        parsed = urllib.parse.urlsplit(url)
        host = parsed.hostname or "127.0.0.1"
        port = parsed.port or (2379 if parsed.scheme == "https" else 2379)
        try:
            if parsed.scheme == "https":
                conn = http.client.HTTPSConnection(host, port, timeout=2, context=self._context())
            elif parsed.scheme in ("http", "unix", "unixs"):
                conn = http.client.HTTPConnection(host, port, timeout=2)
            else:
                return False, f"unsupported scheme {parsed.scheme!r}"
            conn.request("GET", "/health")
            resp = conn.getresponse()
            body = resp.read(4096)
            conn.close()
        except ssl.SSLError as exc:
            return False, f"error getting data from etcd: tls: {getattr(exc, 'reason', None) or exc}"
        except OSError as exc:
            why = (exc.strerror or str(exc)).lower()
            return False, f"error getting data from etcd: dial tcp {host}:{port}: connect: {why}"
        if resp.status != 200:
            return False, f"etcd /health returned {resp.status}"
        try:
            if json.loads(body).get("health") not in ("true", True):
                return False, f"etcd reports unhealthy: {body.decode(errors='replace')}"
        except ValueError:
            return False, "etcd /health returned no JSON"
        return True, ""

    def check(self):
        with self.lock:
            now = time.monotonic()
            if self.cached is not None and now - self.cached_at < self.ttl:
                return self.cached
            reasons = []
            result = (False, "no etcd servers")
            for url in self.servers:
                ok, reason = self._probe(url)
                if ok:
                    result = (True, "")
                    break
                reasons.append(f"{url}: {reason}")
                result = (False, "; ".join(reasons))
            if result[0]:
                self.ever_ok = True
            self.cached, self.cached_at = result, time.monotonic()
            return result


class AuditLog:
    def __init__(self, policy, host_path, to_stdout=False):
        self.policy = policy
        self.host_path = host_path
        self.to_stdout = to_stdout
        self.lock = threading.Lock()

    def record(self, req, user, groups, code):
        if not self.policy:
            return
        level, omit = audit_level(self.policy, user, groups, req.verb, req.path)
        if level == "None" or "ResponseComplete" in omit:
            return
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        event = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level, "auditID": str(uuid.uuid4()),
                 "stage": "ResponseComplete", "requestURI": req.path + ("?" + req.raw_query if req.raw_query else ""),
                 "verb": req.verb, "user": {"username": user, "groups": groups},
                 "sourceIPs": [req.client[0]], "userAgent": req.headers.get("User-Agent", ""),
                 "responseStatus": {"metadata": {}, "code": code},
                 "requestReceivedTimestamp": now, "stageTimestamp": now}
        line = json.dumps(event, separators=(",", ":")) + "\n"
        with self.lock:
            if self.to_stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
            else:
                try:
                    with open(self.host_path, "a", encoding="utf-8") as handle:
                        handle.write(line)
                except OSError as exc:
                    klog("E", "log.go:50", "Unable to write audit event", err=str(exc))


class APIServer(Component):
    name = "kube-apiserver"
    file_flags = (
        "tls-cert-file", "tls-private-key-file", "client-ca-file", "requestheader-client-ca-file",
        "kubelet-client-certificate", "kubelet-client-key", "kubelet-certificate-authority", "etcd-cafile",
        "etcd-certfile", "etcd-keyfile", "proxy-client-cert-file", "proxy-client-key-file", "service-account-key-file",
        "service-account-signing-key-file", "audit-policy-file", "audit-webhook-config-file",
        "authentication-token-webhook-config-file", "authorization-webhook-config-file", "authorization-policy-file",
        "encryption-provider-config", "admission-control-config-file", "authentication-config",
        "authorization-config", "oidc-ca-file", "token-auth-file", "egress-selector-config-file",
        "tracing-config-file", "cloud-config", "service-account-jwks-uri-file")

    def start(self):
        f = self.flags
        errs = []
        port = f.get_int("secure-port", 6443)
        if port < 1 or port > 65535:
            errs.append(f"--secure-port {port} must be between 1 and 65535, inclusive. It cannot be turned off "
                        "with 0")
        etcd_servers = f.get_list("etcd-servers")
        if not etcd_servers:
            errs.append("--etcd-servers must be specified")
        if not f.get_list("service-account-issuer"):
            errs.append("service-account-issuer is a required flag")
        if not f.get_str("service-account-signing-key-file"):
            errs.append("--service-account-signing-key-file and --service-account-issuer are required flags")
        errs += self.validate_authorization()
        errs += self.validate_admission()
        errs += self.validate_authentication_flags()
        errs += self.validate_audit_flags()
        if errs:
            raise StandinError(errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]")

        # Complete(): service account keys
        try:
            data = self.files.read(f.get_str("service-account-signing-key-file"))
            check_private_key(data)
        except StandinError as exc:
            raise StandinError(f"failed to parse service-account-issuer-key-file: {exc.message}") from None
        except ValueError as exc:
            raise StandinError(f"failed to parse service-account-issuer-key-file: {exc}") from None
        for path in f.get_list("service-account-key-file"):
            try:
                check_public_keys(self.files.read(path))
            except ValueError as exc:
                raise StandinError(f"error reading public key file {path}: {exc}") from None

        # secure serving
        min_version, ciphers = self.tls_settings()
        cert_host, key_host = self.serving_pair(pair_name="apiserver", host=node_ip())
        for item in f.get_list("tls-sni-cert-key"):
            pair = item.split(":")[0].split(",")
            if len(pair) != 2:
                raise StandinError(f"invalid argument {go_quote(item)} for \"--tls-sni-cert-key\" flag: expected "
                                   "comma separated certificate and key file paths")
            load_pair(self.files, pair[0], pair[1], lambda e: f"failed to load SNI cert and key: {e}")

        # authentication
        self.load_client_cas()
        if f.get_str("oidc-ca-file"):
            load_ca(self.files, f.get_str("oidc-ca-file"), lambda e: f"failed to read the CA file: {e}")
        self.tokens = self.load_token_file(f.get_str("token-auth-file"))
        for flag in ("authentication-token-webhook-config-file",):
            if f.get_str(flag):
                load_kubeconfig(self.files, f.get_str(flag))
        self.anonymous, self.anonymous_paths = self.anonymous_settings()

        # kubelet client, proxy client, etcd client
        if f.get_str("kubelet-client-certificate") or f.get_str("kubelet-client-key"):
            load_pair(self.files, f.get_str("kubelet-client-certificate"), f.get_str("kubelet-client-key"),
                      lambda e: e)
        if f.get_str("kubelet-certificate-authority"):
            load_ca(self.files, f.get_str("kubelet-certificate-authority"), lambda e: e)
        if f.get_str("proxy-client-cert-file") or f.get_str("proxy-client-key-file"):
            load_pair(self.files, f.get_str("proxy-client-cert-file"), f.get_str("proxy-client-key-file"),
                      lambda e: f"failed to load proxy client cert/key: {e}")
        etcd_ca = etcd_cert = etcd_key = None
        if f.get_str("etcd-cafile"):
            etcd_ca = load_ca(self.files, f.get_str("etcd-cafile"), lambda e: e)
        if f.get_str("etcd-certfile") or f.get_str("etcd-keyfile"):
            etcd_cert, etcd_key = load_pair(self.files, f.get_str("etcd-certfile"), f.get_str("etcd-keyfile"),
                                            lambda e: e)
        self.etcd = EtcdHealth(etcd_servers, etcd_ca, etcd_cert, etcd_key)

        # other files named by flags
        for flag in ("egress-selector-config-file", "tracing-config-file", "cloud-config",
                     "authorization-policy-file"):
            if f.get_str(flag):
                self.files.read(f.get_str(flag))
        if f.get_str("egress-selector-config-file"):
            try:
                yaml_load(self.files.read(f.get_str("egress-selector-config-file")), "egress")
            except ValueError as exc:
                raise StandinError(f"failed to read egress selector config: {exc}") from None

        # authorization
        self.modes = self.authorization_modes()
        if f.get_str("authorization-webhook-config-file"):
            load_kubeconfig(self.files, f.get_str("authorization-webhook-config-file"))
        if self.anonymous and "AlwaysAllow" in self.modes and not self.anonymous_from_config:
            klogf("W", "authentication.go:539",
                  "AnonymousAuth is not allowed with the AlwaysAllow authorizer. "
                  "Resetting AnonymousAuth to false. You should use a different authorizer")
            self.anonymous = False

        # audit, admission, encryption
        self.audit = self.setup_audit()
        self.setup_admission_config()
        self.kms = []
        if f.get_str("encryption-provider-config"):
            enc = load_encryption_config(self.files, f.get_str("encryption-provider-config"), self.version)
            for res in enc.get("resources") or []:
                for prov in res.get("providers") or []:
                    if "kms" in (prov or {}):
                        self.kms.append(prov["kms"])

        self.profiling = f.get_bool("profiling", True)
        ctx = make_server_context(cert_host, key_host, min_version, ciphers,
                                  [self.client_ca] if self.client_ca else [])
        host = self.bind_host("bind-address", "0.0.0.0")
        self.listen(host, port, self, ctx, "secure")
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        klog("I", "secure_serving.go:213", "Serving securely on " + address)
        self.etcd.check()

    # -- validation ---------------------------------------------------------------------------------------------
    def validate_authorization(self):
        f = self.flags
        errs = []
        config = f.get_str("authorization-config")
        legacy = f.changed("authorization-mode") or any(
            f.changed(n) for n in f.spec if n.startswith("authorization-webhook-"))
        if config and legacy:
            return ["--authorization-config can not be specified when --authorization-mode or "
                    "--authorization-webhook-* flags are defined"]
        if config:
            return []
        modes = f.get_list("authorization-mode", ["AlwaysAllow"])
        if not modes:
            errs.append("at least one authorization-mode must be passed")
        for mode in modes:
            if mode not in APISERVER_AUTHZ_MODES:
                errs.append(f"authorization-mode {go_quote(mode)} is not a valid mode")
            if mode == "ABAC" and not f.get_str("authorization-policy-file"):
                errs.append("authorization-mode ABAC's authorization policy file not passed")
            if mode == "Webhook" and not f.get_str("authorization-webhook-config-file"):
                errs.append("authorization-mode Webhook's authorization config file not passed")
        if f.get_str("authorization-policy-file") and "ABAC" not in modes:
            errs.append("cannot specify --authorization-policy-file without mode ABAC")
        if f.get_str("authorization-webhook-config-file") and "Webhook" not in modes:
            errs.append("cannot specify --authorization-webhook-config-file without mode Webhook")
        if len(set(modes)) != len(modes):
            errs.append(f"authorization-mode [{' '.join(modes)}] has mode specified more than once")
        return errs

    def validate_admission(self):
        f = self.flags
        errs = []
        enable = [p for p in f.get_list("enable-admission-plugins") if p]
        disable = [p for p in f.get_list("disable-admission-plugins") if p]
        for flag, plugins in (("enable-admission-plugins", enable), ("disable-admission-plugins", disable)):
            for plugin in plugins:
                problem = self.k8s_flags.check_admission_plugin(self.version, plugin)
                if problem:
                    errs.append(f"{flag} plugin {go_quote(plugin)} is unknown")
                    klogf("I", "admission.go:126", f"testbed: {problem}")
        overlap = sorted(set(enable) & set(disable))
        if overlap:
            errs.append(f"[{' '.join(overlap)}] in enable-admission-plugins and disable-admission-plugins overlapped")
        self.enabled_plugins = (DEFAULT_ADMISSION_PLUGINS | set(enable)) - set(disable)
        return errs

    def validate_authentication_flags(self):
        f = self.flags
        errs = []
        if f.get_str("authentication-config") and any(f.changed(n) for n in OIDC_FLAGS):
            errs.append("authentication-config file and oidc-* flags are mutually exclusive")
        if f.get_str("oidc-issuer-url") and not f.get_str("oidc-client-id"):
            errs.append("oidc-issuer-url and oidc-client-id must be specified together")
        return errs

    def validate_audit_flags(self):
        f = self.flags
        errs = []
        for flag in ("audit-log-maxage", "audit-log-maxbackup", "audit-log-maxsize"):
            if f.changed(flag) and f.get_int(flag) < 0:
                errs.append(f"--{flag} {f.get_int(flag)} can't be a negative number")
        fmt = f.get_str("audit-log-format", "json")
        if fmt not in ("json", "legacy"):
            errs.append(f"invalid audit log format {fmt}, allowed formats are \"json,legacy\"")
        for flag in ("audit-log-mode", "audit-webhook-mode"):
            mode = f.get_str(flag, "blocking" if flag == "audit-log-mode" else "batch")
            if mode not in ("batch", "blocking", "blocking-strict"):
                errs.append(f"invalid audit {flag.split('-')[1]} mode {mode}, allowed modes are "
                            "\"batch,blocking,blocking-strict\"")
        return errs

    # -- authentication ------------------------------------------------------------------------------------------
    def load_token_file(self, path):
        tokens = {}
        if not path:
            return tokens
        data = self.files.read(path).decode(errors="replace")
        for lineno, record in enumerate(csv.reader(io.StringIO(data)), start=1):
            if not record:
                continue
            if len(record) < 3:
                raise StandinError(f"token file '{path}' must have at least 3 columns (token, user name, unique "
                                   f"user ID), found {len(record)}")
            groups = [g.strip() for g in record[3].split(",")] if len(record) > 3 and record[3] else []
            tokens[record[0].strip()] = (record[1].strip(), groups)
        return tokens

    def anonymous_settings(self):
        f = self.flags
        self.anonymous_from_config = False
        anonymous = f.get_bool("anonymous-auth", True)
        paths = None
        path = f.get_str("authentication-config")
        if path:
            try:
                obj = yaml_load(self.files.read(path), "authentication config")
                api_version, kind = type_meta(obj, path)
            except ValueError as exc:
                raise StandinError(f"failed to load authentication configuration from file {go_quote(path)}: "
                                   f"{exc}") from None
            if kind != "AuthenticationConfiguration" or api_version not in (
                    "apiserver.config.k8s.io/v1alpha1", "apiserver.config.k8s.io/v1beta1",
                    "apiserver.config.k8s.io/v1"):
                raise StandinError(f"failed to load authentication configuration from file {go_quote(path)}: "
                                   + not_registered(kind, api_version, "pkg/apis/apiserver"))
            for i, jwt in enumerate(obj.get("jwt") or []):
                issuer = ((jwt or {}).get("issuer") or {}).get("url", "")
                if not str(issuer).startswith("https://"):
                    raise StandinError(f"jwt[{i}].issuer.url: Invalid value: {go_quote(str(issuer))}: URL scheme "
                                       "must be https")
            if "anonymous" in obj:
                if f.changed("anonymous-auth"):
                    raise StandinError("anonymous is configured in the authentication configuration file and "
                                       "--anonymous-auth flag is set; only one of them may be used")
                anon = obj.get("anonymous") or {}
                anonymous = bool(anon.get("enabled", False))
                conditions = anon.get("conditions") or []
                paths = [c.get("path") for c in conditions if isinstance(c, dict) and c.get("path")] or None
                if anonymous and conditions and not paths:
                    raise StandinError("anonymous.conditions: each condition needs a path")
                self.anonymous_from_config = True
        return anonymous, paths

    def authenticate(self, req):
        user = req.cert_user() if self.client_ca else None
        if user is not None:
            return user[0], list(user[1]) + ["system:authenticated"]
        token = req.bearer_token()
        if token is not None:
            if token in self.tokens:
                name, groups = self.tokens[token]
                return name, groups + ["system:authenticated"]
            return None
        if self.anonymous and (self.anonymous_paths is None or req.path in self.anonymous_paths):
            return "system:anonymous", ["system:unauthenticated"]
        return None

    # -- authorization -------------------------------------------------------------------------------------------
    def authorization_modes(self):
        f = self.flags
        path = f.get_str("authorization-config")
        if not path:
            return f.get_list("authorization-mode", ["AlwaysAllow"])
        try:
            obj = yaml_load(self.files.read(path), "authorization config")
            api_version, kind = type_meta(obj, path)
        except ValueError as exc:
            raise StandinError(f"failed to load AuthorizationConfiguration from file {go_quote(path)}: {exc}") \
                from None
        if kind != "AuthorizationConfiguration" or api_version not in (
                "apiserver.config.k8s.io/v1alpha1", "apiserver.config.k8s.io/v1beta1", "apiserver.config.k8s.io/v1"):
            raise StandinError(f"failed to load AuthorizationConfiguration from file {go_quote(path)}: "
                               + not_registered(kind, api_version, "pkg/apis/apiserver"))
        modes, names, errs = [], set(), []
        valid = ("Webhook", "RBAC", "Node", "AlwaysAllow", "AlwaysDeny")
        authorizers = obj.get("authorizers") or []
        if not authorizers:
            errs.append("authorizers: Required value: at least one authorization mode must be defined")
        for i, authz in enumerate(authorizers):
            authz = authz or {}
            typ, name = authz.get("type", ""), authz.get("name", "")
            if typ not in valid:
                errs.append(f"authorizers[{i}].type: Unsupported value: {go_quote(typ)}: supported values: "
                            + ", ".join(go_quote(v) for v in ("AlwaysAllow", "AlwaysDeny", "Node", "RBAC", "Webhook")))
            elif typ in modes and typ != "Webhook":
                errs.append(f"authorizers[{i}].type: Duplicate value: {go_quote(typ)}")
            if not name:
                errs.append(f"authorizers[{i}].name: Required value")
            elif name in names:
                errs.append(f"authorizers[{i}].name: Duplicate value: {go_quote(name)}")
            names.add(name)
            if typ == "Webhook":
                info = ((authz.get("webhook") or {}).get("connectionInfo") or {})
                if info.get("type") == "KubeConfigFile":
                    load_kubeconfig(self.files, info.get("kubeConfigFile", ""))
            modes.append(typ)
        if errs:
            raise StandinError(errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]")
        return modes

    def authorize(self, user, groups, verb, path):
        for mode in self.modes:
            if mode == "AlwaysAllow":
                return True
            if mode == "AlwaysDeny":
                return False
            if mode == "RBAC":
                if set(groups) & ADMIN_GROUPS:
                    return True
                if path in PUBLIC_INFO_PATHS and verb in ("get", "head"):
                    return True
                if ("system:authenticated" in groups and path_matches(path, DISCOVERY_PATHS)
                        and verb in ("get", "head")):
                    return True
                if "system:monitoring" in groups and path_matches(path, MONITORING_PATHS):
                    return True
        return False

    # -- audit / admission ---------------------------------------------------------------------------------------
    def setup_audit(self):
        f = self.flags
        policy = None
        if f.get_str("audit-policy-file"):
            policy = load_audit_policy(self.files, f.get_str("audit-policy-file"))
        for flag in ("audit-webhook-config-file",):
            if f.get_str(flag):
                load_kubeconfig(self.files, f.get_str(flag))
        path = f.get_str("audit-log-path")
        if not path:
            return AuditLog(None, None)
        if path == "-":
            return AuditLog(policy, None, to_stdout=True)
        directory = os.path.dirname(path) or "/"
        resolved = self.mounts.resolve(directory)
        if resolved is None:
            raise StandinError(
                f"ensureLogFile: testbed: the directory {directory} of --audit-log-path is not inside any hostPath "
                "mount of the pod. The real kube-apiserver would create it inside its container, where the audit "
                "log never reaches the host and is lost with the container; the testbed fails instead so that the "
                "missing volume/volumeMount is noticed (mounts: " + self.mounts.describe() + ")")
        host_dir, read_only = resolved
        if read_only:
            if os.path.isdir(host_dir):
                raise StandinError(f"ensureLogFile: open {path}: read-only file system")
            raise StandinError(f"ensureLogFile: mkdir {directory}: read-only file system")
        try:
            os.makedirs(host_dir, mode=0o700, exist_ok=True)
            host_file = os.path.join(host_dir, os.path.basename(path))
            fd = os.open(host_file, os.O_CREAT | os.O_APPEND | os.O_RDWR, 0o600)
            os.close(fd)
        except OSError as exc:
            raise StandinError(f"ensureLogFile: open {path}: {(exc.strerror or str(exc)).lower()}") from None
        if policy is None:
            klog("I", "audit.go:338", "No audit policy file provided, no events will be recorded for log backend")
        return AuditLog(policy, host_file)

    def setup_admission_config(self):
        f = self.flags
        configs = {}
        if f.get_str("admission-control-config-file"):
            configs = load_admission_config(self.files, f.get_str("admission-control-config-file"))

        def init_error(plugin, errs):
            return StandinError(f"failed to initialize admission: couldn't init admission plugin "
                                f"{go_quote(plugin)}: " + (errs[0] if len(errs) == 1 else
                                                           "[" + ", ".join(errs) + "]"))

        if "EventRateLimit" in self.enabled_plugins:
            cfg = resolve_plugin_config(self.files, configs.get("EventRateLimit"))
            errs = validate_event_rate_limit_config(cfg)
            if errs:
                raise init_error("EventRateLimit", errs)
        if "PodSecurity" in self.enabled_plugins and "PodSecurity" in configs:
            cfg = resolve_plugin_config(self.files, configs.get("PodSecurity"))
            if cfg is not None:
                errs = validate_pod_security_config(cfg, self.version)
                if errs:
                    raise init_error("PodSecurity", errs)
        if "ImagePolicyWebhook" in self.enabled_plugins:
            cfg = resolve_plugin_config(self.files, configs.get("ImagePolicyWebhook"))
            if cfg is None:
                raise init_error("ImagePolicyWebhook", ["no config specified"])
            webhook = (cfg.get("imagePolicy") or cfg.get("ImagePolicy") or {}) if isinstance(cfg, dict) else {}
            if webhook.get("kubeConfigFile"):
                load_kubeconfig(self.files, webhook["kubeConfigFile"])

    # -- serving -------------------------------------------------------------------------------------------------
    def checks(self, kind):
        etcd_ok, reason = self.etcd.check()
        checks = [("ping", True, ""), ("log", True, ""), ("etcd", etcd_ok, reason)]
        if kind == "readyz" and self.minor >= (1, 30):
            checks.append(("etcd-readiness", etcd_ok, reason))
        if self.kms:
            checks.append(("kms-providers", True, ""))
        checks += [("poststarthook/start-apiserver-admission-initializer", True, ""),
                   ("poststarthook/generic-apiserver-start-informers", True, ""),
                   ("poststarthook/rbac/bootstrap-roles", self.etcd.ever_ok, "not finished"),
                   ("poststarthook/bootstrap-controller", self.etcd.ever_ok, "not finished")]
        if kind == "readyz":
            checks.append(("informer-sync", True, ""))
            checks.append(("shutdown", not self.stopping, "process is shutting down"))
        return checks

    def handle(self, req):
        ident = self.authenticate(req)
        if ident is None:
            return status_json(401, "Unauthorized", "Unauthorized")
        user, groups = ident
        if not self.authorize(user, groups, req.verb, req.path):
            resp = status_json(403, "Forbidden", f"forbidden: User {go_quote(user)} cannot {req.verb} path "
                                                 f"{go_quote(req.path)}")
        else:
            resp = self.route(req)
        self.audit.record(req, user, groups, resp[0])
        return resp

    def route(self, req):
        path = req.path
        for kind in ("livez", "readyz", "healthz"):
            if path == f"/{kind}":
                return health_response(kind, self.checks(kind), req)
            if path.startswith(f"/{kind}/"):
                return single_check(kind, path[len(kind) + 2:], self.checks(kind))
        if path in ("/version", "/version/"):
            return as_json(200, version_info(self.version))
        if path.startswith("/debug/pprof"):
            return text(200, PPROF_INDEX) if self.profiling else NOT_FOUND
        if path == "/metrics":
            return text(200, METRICS_BODY)
        if path == "/api":
            return as_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
        if path == "/apis":
            return as_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
        if path.startswith("/api/") or path.startswith("/apis/"):
            return status_json(404, "NotFound", "the server could not find the requested resource")
        return NOT_FOUND
