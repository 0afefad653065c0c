"""TLS settings and HTTP(S) serving: Go's TLS version and cipher suite names, server contexts, self-signed
pairs, the request/response plumbing and the health, version and pprof answers every component gives.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .core import env_value, go_quote, klog, klogf, minor_of, StandinError

# --------------------------------------------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------------------------------------------

TLS_VERSIONS = {"VersionTLS10": ssl.TLSVersion.TLSv1, "VersionTLS11": ssl.TLSVersion.TLSv1_1,
                "VersionTLS12": ssl.TLSVersion.TLSv1_2, "VersionTLS13": ssl.TLSVersion.TLSv1_3}

# Go crypto/tls names -> OpenSSL names (TLS 1.2 and older; TLS 1.3 suites are not configurable in Go either).
SECURE_CIPHERS = {
    "TLS_AES_128_GCM_SHA256": None, "TLS_AES_256_GCM_SHA384": None, "TLS_CHACHA20_POLY1305_SHA256": None,
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
}
INSECURE_CIPHERS = {
    "TLS_RSA_WITH_RC4_128_SHA": "RC4-SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA": "DES-CBC3-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256": "AES128-SHA256",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA": "ECDHE-ECDSA-RC4-SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA": "ECDHE-RSA-RC4-SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA": "ECDHE-RSA-DES-CBC3-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
}


def check_tls_version(name):
    """cliflag.TLSVersion."""
    if name == "":
        return None
    if name not in TLS_VERSIONS:
        raise StandinError(f"unknown tls version {go_quote(name)}")
    return TLS_VERSIONS[name]


def check_cipher_suites(names, where, structured=False):
    """cliflag.TLSCipherSuites + the insecure-cipher warning; returns OpenSSL names."""
    out = []
    for name in names:
        if name in SECURE_CIPHERS:
            if SECURE_CIPHERS[name]:
                out.append(SECURE_CIPHERS[name])
        elif name in INSECURE_CIPHERS:
            if structured:
                klog("I", where, "Use of insecure cipher detected.", cipher=name)
            else:
                klogf("W", where, f"Use of insecure cipher '{name}' detected.")
            out.append(INSECURE_CIPHERS[name])
        else:
            raise StandinError(f"Cipher suite {name} not supported or doesn't exist")
    return out


def make_server_context(cert_host, key_host, min_version=None, ciphers=None, client_ca_hosts=()):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_host, key_host)
    if min_version is not None:
        try:
            ctx.minimum_version = min_version
        except ValueError:
            pass
    if ciphers:
        try:
            ctx.set_ciphers(":".join(dict.fromkeys(ciphers)))
        except ssl.SSLError:
            klogf("W", "secure_serving.go:70",
                  "testbed: none of the configured TLS 1.2 cipher suites is available in this OpenSSL; "
                  "the OpenSSL defaults are used for TLS 1.2")
    if client_ca_hosts:
        for ca in client_ca_hosts:
            ctx.load_verify_locations(cafile=ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def self_signed_pair(directory, host, pair_name):
    """certutil.GenerateSelfSignedCertKey equivalent, via the openssl CLI."""
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(directory, pair_name + ".crt")
    key = os.path.join(directory, pair_name + ".key")
    if os.path.exists(cert) and os.path.exists(key):
        return cert, key
    subject = f"/CN={host}@{int(time.time())}"
    san = "subjectAltName=DNS:localhost,IP:127.0.0.1"
    if host != "localhost":
        san += f",DNS:{host}" if not is_ip(host) else f",IP:{host}"
    proc = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "365",
                           "-keyout", key, "-out", cert, "-subj", subject, "-addext", san],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise StandinError(f"unable to generate self signed cert: {proc.stderr.strip()}")
    os.chmod(key, 0o600)
    return cert, key


def is_ip(text):
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def node_ip():
    path = env_value("TESTBED_NODE_IP_FILE", "/etc/testbed/node-ip")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or "127.0.0.1"
    except OSError:
        return "127.0.0.1"


# --------------------------------------------------------------------------------------------------------------
# HTTP(S) serving
# --------------------------------------------------------------------------------------------------------------

class Request:
    def __init__(self, handler):
        parsed = urllib.parse.urlsplit(handler.path)
        self.method = handler.command
        self.path = parsed.path or "/"
        self.query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        self.raw_query = parsed.query
        self.headers = handler.headers
        self.client = handler.client_address
        self.peer_cert = None
        conn = handler.connection
        if isinstance(conn, ssl.SSLSocket):
            try:
                self.peer_cert = conn.getpeercert() or None
            except (ValueError, ssl.SSLError):
                self.peer_cert = None

    @property
    def verb(self):
        return self.method.lower()

    def cert_user(self):
        """(user, groups) from a verified client certificate, else None."""
        if not self.peer_cert:
            return None
        cn, orgs = None, []
        for rdn in self.peer_cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    cn = value
                elif key == "organizationName":
                    orgs.append(value)
        return (cn or "", orgs) if cn is not None else None

    def bearer_token(self):
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # noqa: D401 - quiet like the real servers
        return

    def send_response(self, code, message=None):
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def _dispatch(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        req = Request(self)
        try:
            status, ctype, body, extra = self.server.app.handle(req)
        except Exception as exc:  # pragma: no cover - defensive
            status, ctype, body, extra = 500, "text/plain; charset=utf-8", f"internal error: {exc}\n", {}
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, host, port, app, ssl_ctx=None, label=""):
        self.app = app
        self.ssl_ctx = ssl_ctx
        self.label = label
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
        except TypeError:
            family = socket.AF_INET
        self.address_family = family
        super().__init__((host, port), _Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_ctx is not None:
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def finish_request(self, request, client_address):
        if self.ssl_ctx is not None:
            request.settimeout(10)
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError) as exc:
                reason = getattr(exc, "reason", None) or str(exc)
                klogf("I", "server.go:3286", f"http: TLS handshake error from {client_address[0]}:"
                                             f"{client_address[1]}: {reason}")
                return
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):  # quiet on broken connections
        return


def listen(host, port, app, ssl_ctx=None, label=""):
    """Bind like net.Listen; errors are fatal like the real components."""
    bind_host = host or "0.0.0.0"
    try:
        server = Server(bind_host, int(port), app, ssl_ctx, label)
    except OSError as exc:
        proto = "tcp"
        reason = {98: "bind: address already in use", 99: "bind: cannot assign requested address",
                  13: "bind: permission denied"}.get(exc.errno, str(exc.strerror or exc))
        address = f"[{bind_host}]:{port}" if ":" in bind_host else f"{bind_host}:{port}"
        raise StandinError(f"failed to create listener: failed to listen on {address}: listen {proto} {address}: "
                           f"{reason}") from None
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True)
    thread.start()
    return server


def text(status, body, extra=None):
    return status, "text/plain; charset=utf-8", body, extra or {}


def as_json(status, obj, extra=None):
    return status, "application/json", json.dumps(obj, indent=2) + "\n", extra or {}


def status_json(code, reason, message):
    obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
           "reason": reason, "code": code}
    if reason == "Forbidden":
        obj["details"] = {}
    return as_json(code, obj)


NOT_FOUND = text(404, "404 page not found\n")


def health_response(kind, checks, req):
    """genericapiserver healthz/livez/readyz handler output. checks: list of (name, ok, reason)."""
    excluded = set()
    for value in req.query.get("exclude", []):
        excluded.update(v for v in value.split(",") if v)
    verbose = "verbose" in req.query
    lines, failed = [], False
    for name, ok, reason in checks:
        if name in excluded:
            lines.append(f"[+]{name} excluded: ok")
            continue
        if ok:
            lines.append(f"[+]{name} ok")
        else:
            failed = True
            lines.append(f"[-]{name} failed: reason withheld")
    if failed:
        klog("I", "healthz.go:261", f"{kind} check failed",
             checks=[c[0] for c in checks if not c[1] and c[0] not in excluded],
             statuses=[f"[-]{c[0]} failed: {c[2]}" for c in checks if not c[1] and c[0] not in excluded])
        return text(500, "\n".join(lines) + f"\n{kind} check failed\n")
    if verbose:
        return text(200, "\n".join(lines) + f"\n{kind} check passed\n")
    return text(200, "ok")


def single_check(kind, name, checks):
    for cname, ok, reason in checks:
        if cname == name:
            return text(200, "ok") if ok else text(500, f"internal server error: {reason}\n")
    return NOT_FOUND


def version_info(version):
    major, minor = minor_of(version)
    info = {"major": str(major), "minor": str(minor), "gitVersion": f"v{version}",
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.24.0", "compiler": "gc",
            "platform": "linux/amd64"}
    if (major, minor) >= (1, 31):
        info = {"major": str(major), "minor": str(minor), "emulationMajor": str(major),
                "emulationMinor": str(minor), "minCompatibilityMajor": str(major),
                "minCompatibilityMinor": str(minor - 1),
                **{k: v for k, v in info.items() if k not in ("major", "minor")}}
    return info


PPROF_INDEX = ("<html><head><title>/debug/pprof/</title></head><body>/debug/pprof/<br><br>Types of profiles "
               "available:<table><tr><td>0</td><td><a href='allocs?debug=1'>allocs</a></td></tr><tr><td>0</td>"
               "<td><a href='goroutine?debug=1'>goroutine</a></td></tr><tr><td>0</td><td><a href='heap?debug=1'>"
               "heap</a></td></tr></table></body></html>\n")

METRICS_BODY = ("# HELP testbed_standin_up The stand-in is serving.\n# TYPE testbed_standin_up gauge\n"
                "testbed_standin_up 1\n")
