"""The base of every stand-in (flags, files, TLS, serving, signals) and of the two components with delegated
authentication and authorization (controller-manager, scheduler).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import sys
import tempfile
import threading

from .core import go_csv_split, go_parse_bool, go_quote, klog, minor_of, StandinError, UsageError
from .flagset import FlagSet
from .files import DATA_FILES, Files, load_ca, load_pair, Mounts
from .configs import load_kubeconfig
from .serving import (
    as_json, check_cipher_suites, check_tls_version, health_response, is_ip, listen, make_server_context,
    METRICS_BODY, NOT_FOUND, PPROF_INDEX, self_signed_pair, single_check, status_json, text, version_info,
)


def path_matches(path, patterns):
    for pattern in patterns:
        if pattern == "*" or pattern == path or (pattern.endswith("*") and path.startswith(pattern[:-1])):
            return True
    return False


class Component:
    name = ""
    # Flags that name files. Most are opened and parsed by the component's own checks (with the component's
    # error wording); check_file_flags() is the safety net for the rest: every one of them that is set must be
    # readable inside the pod's mounts, or the stand-in exits 1 like the real binary.
    file_flags = ()
    structured_cipher_warning = False

    def __init__(self, version, k8s_flags):
        self.version = version
        self.minor = minor_of(version)
        self.k8s_flags = k8s_flags
        self.mounts = Mounts()
        self.files = Files(self.mounts)
        self.servers = []
        self.stop_event = threading.Event()
        self.stopping = False
        self.tmpdirs = []
        self.flags = None

    # -- command line -----------------------------------------------------------------------------------------
    def flag_spec(self):
        try:
            spec = self.k8s_flags.flags_for(self.name, self.version)
        except Exception as exc:  # noqa: BLE001 - report any k8s_flags failure the same way
            raise StandinError(f"testbed: k8s_flags.flags_for({self.name!r}, {self.version!r}) failed: {exc}")
        return dict(spec)

    def usage(self):
        return f"Usage:\n  {self.name} [flags]\n"

    def flag_hint(self, message):
        match = re.match(r"unknown flag: --(\S+)", message)
        if match and hasattr(self.k8s_flags, "check_flag"):
            try:
                hint = self.k8s_flags.check_flag(self.name, self.version, match.group(1))
            except Exception:  # noqa: BLE001
                hint = None
            if hint:
                return f"testbed: {hint}\n"
        return ""

    def feature_gate_error(self, fs):
        """The --feature-gates value the real component refuses (unknown or locked gate), in pflag's words."""
        check = getattr(self.k8s_flags, "check_feature_gate", None)
        if check is None:
            return None
        for raw in fs.values.get("feature-gates", []):
            for item in go_csv_split(raw):
                key, dummy, value = item.partition("=")
                if not key.strip():
                    continue
                problem = check(self.name, self.version, key.strip(), value.strip())
                if problem:
                    # The binary's message ends where the data's "(component version; why)" note starts.
                    message = problem.split(" (", 1)[0]
                    return f"invalid argument {go_quote(raw)} for \"--feature-gates\" flag: {message}"
        return None

    def usage_error(self, message):
        sys.stderr.write(f"Error: {message}\n{self.usage()}\n{self.flag_hint(message)}")
        sys.stderr.flush()
        return 1

    def positional_error(self, args):
        listing = "[" + " ".join(go_quote(a) for a in args) + "]"
        return self.usage_error(f"{go_quote(self.name)} does not take any arguments, got {listing}")

    def print_version(self, value):
        if value == "raw":
            print(json.dumps(version_info(self.version), indent=2))
        elif go_parse_bool(value):
            print(f"Kubernetes v{self.version}")
        else:
            return None
        return 0

    # -- life cycle -------------------------------------------------------------------------------------------
    def run(self, argv):
        fs = FlagSet(self.name, self.flag_spec())
        try:
            fs.parse(argv)
        except UsageError as exc:
            return self.usage_error(str(exc))
        gate_error = self.feature_gate_error(fs)
        if gate_error:
            return self.usage_error(gate_error)
        if fs.get_bool("help"):
            sys.stdout.write(self.usage())
            return 0
        if fs.changed("version"):
            done = self.print_version(fs.raw("version"))
            if done is not None:
                return done
        if [a for a in fs.args if a]:
            return self.positional_error([a for a in fs.args if a])
        self.flags = fs
        # SIGTERM/SIGINT stay blocked in every thread and are collected with sigwait() once serving: no Python
        # signal handler can then run in the middle of a lock-holding call (a deadlock seen with handlers).
        signals = {signal.SIGTERM, signal.SIGINT}
        signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        try:
            self.start()
        except StandinError as exc:
            self.report(exc)
            self.cleanup()
            return 1
        received = signal.sigwait(signals)
        klog("I", "signal.go:56", "Received signal, shutting down",
             signal="SIGTERM" if received == signal.SIGTERM else "SIGINT")
        self.stop_event.set()
        self.stopping = True
        self.on_shutdown()
        for server in self.servers:
            threading.Thread(target=server.shutdown, daemon=True).start()
        for server in self.servers:
            try:
                server.server_close()
            except OSError:
                pass
        self.cleanup()
        return 0

    def report(self, exc):
        klog("E", exc.where, exc.msg, err=exc.message)

    def on_shutdown(self):
        pass

    def cleanup(self):
        for directory in self.tmpdirs:
            shutil.rmtree(directory, ignore_errors=True)
        DATA_FILES.cleanup()

    def start(self):
        """Serve as the component would; each stand-in (apiserver.py, kubelet.py, ...) defines it."""
        raise NotImplementedError("%s must implement start()" % type(self).__name__)

    # -- shared helpers ---------------------------------------------------------------------------------------
    def tmpdir(self):
        directory = tempfile.mkdtemp(prefix=f"{self.name}-")
        self.tmpdirs.append(directory)
        return directory

    def serving_pair(self, cert_flag="tls-cert-file", key_flag="tls-private-key-file", pair_name=None,
                     host="localhost"):
        f = self.flags
        cert, key = f.get_str(cert_flag), f.get_str(key_flag)
        if cert or key:
            return load_pair(self.files, cert, key, lambda e: f"unable to load server certificate: {e}")
        directory = self.tmpdir()
        klog("I", "serving.go:386", "Generated self-signed cert in-memory")
        return self_signed_pair(directory, host, pair_name or self.name)

    def tls_settings(self, min_flag="tls-min-version", cipher_flag="tls-cipher-suites", where="secure_serving.go:56"):
        f = self.flags
        min_version = check_tls_version(f.get_str(min_flag))
        ciphers = check_cipher_suites(f.get_list(cipher_flag), where, self.structured_cipher_warning)
        return min_version, ciphers

    def bind_host(self, flag, default):
        host = self.flags.get_str(flag, default) or default
        if not is_ip(host):
            raise StandinError(f"invalid argument {go_quote(host)} for {go_quote('--' + flag)} flag: failed to parse "
                               f"IP: {go_quote(host)}")
        return host

    def load_client_cas(self):
        """--client-ca-file (kept: it authenticates client certificates) and --requestheader-client-ca-file, loaded
        with the wording of the generic API server's authentication options, which every secure port here shares."""
        f = self.flags
        self.client_ca = None
        if f.get_str("client-ca-file"):
            self.client_ca = load_ca(self.files, f.get_str("client-ca-file"),
                                     lambda e: f"unable to load client CA provider: {e}")
        if f.get_str("requestheader-client-ca-file"):
            load_ca(self.files, f.get_str("requestheader-client-ca-file"),
                    lambda e: f"unable to load request-header client CA provider: {e}")

    def check_file_flags(self):
        """Every file-valued flag that is set must be readable inside the mounts (see file_flags)."""
        f = self.flags
        for flag in self.file_flags:
            if flag not in f.spec or not f.changed(flag):
                continue
            paths = f.get_list(flag) if f.spec[flag] in ("strings", "stringArray") else [f.get_str(flag)]
            for path in paths:
                if path:
                    self.files.read(path)

    def listen(self, host, port, app, ssl_ctx=None, label=""):
        if not self.servers:
            self.check_file_flags()
        server = listen(host, port, app, ssl_ctx, label)
        self.servers.append(server)
        return server


class DelegatingComponent(Component):
    """Secure serving with delegated authentication/authorization (controller-manager, scheduler)."""

    default_port = 0
    pair_name = ""

    def kubeconfig_path(self):
        return self.flags.get_str("kubeconfig")

    def start(self):
        f = self.flags
        port = f.get_int("secure-port", self.default_port)
        if port < 0 or port > 65535:
            raise StandinError(f"--secure-port {port} must be between 0 and 65535, inclusive. 0 for turning off "
                               "secure port")
        min_version, ciphers = self.tls_settings()
        self.component_checks()
        kubeconfig = self.kubeconfig_path()
        if not kubeconfig:
            raise StandinError("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
                               "KUBERNETES_SERVICE_PORT must be defined")
        load_kubeconfig(self.files, kubeconfig)
        self.authn_kubeconfig = f.get_str("authentication-kubeconfig")
        if self.authn_kubeconfig:
            load_kubeconfig(self.files, self.authn_kubeconfig)
        else:
            klog("W", "authentication.go:340", "No authentication-kubeconfig provided in order to lookup "
                 "client-ca-file in configmap/extension-apiserver-authentication in kube-system, so client "
                 "certificate authentication won't work.")
        self.authz_kubeconfig = f.get_str("authorization-kubeconfig")
        if self.authz_kubeconfig:
            load_kubeconfig(self.files, self.authz_kubeconfig)
        else:
            klog("W", "authorization.go:193", "No authorization-kubeconfig provided, so SubjectAccessReview of "
                 "authorization tokens won't work.")
        self.load_client_cas()
        self.always_allow = f.get_list("authorization-always-allow-paths", ["/healthz", "/readyz", "/livez"])
        self.profiling = f.get_bool("profiling", True) if "profiling" in f.spec else True
        self.post_checks()
        if port == 0:
            self.check_file_flags()
            klog("I", "serving.go:380", "secure serving is disabled (--secure-port=0)")
            return
        cert_host, key_host = self.serving_pair(pair_name=self.pair_name)
        ctx = make_server_context(cert_host, key_host, min_version, ciphers,
                                  [self.client_ca] if self.client_ca else [])
        host = self.bind_host("bind-address", "0.0.0.0")
        self.listen(host, port, self, ctx, "secure")
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        klog("I", "secure_serving.go:213", "Serving securely on " + address)

    def component_checks(self):
        pass

    def post_checks(self):
        pass

    def handle(self, req):
        user = req.cert_user() if self.client_ca else None
        if user is None and req.bearer_token() is not None:
            return status_json(401, "Unauthorized", "Unauthorized")  # no TokenReview against a real apiserver
        name = user[0] if user else "system:anonymous"
        allowed = path_matches(req.path, self.always_allow) or (user is not None and bool(self.authz_kubeconfig))
        if not allowed:
            return status_json(403, "Forbidden", f"forbidden: User {go_quote(name)} cannot {req.verb} path "
                                                 f"{go_quote(req.path)}")
        path = req.path
        for kind in ("livez", "readyz", "healthz"):
            checks = [("ping", True, ""), ("leaderElection", True, "")]
            if path == f"/{kind}":
                return health_response(kind, checks, req)
            if path.startswith(f"/{kind}/"):
                return single_check(kind, path[len(kind) + 2:], checks)
        if path.startswith("/debug/pprof"):
            return text(200, PPROF_INDEX) if self.profiling else NOT_FOUND
        if path == "/metrics":
            return text(200, METRICS_BODY)
        if path == "/configz":
            return as_json(200, {})
        return NOT_FOUND
