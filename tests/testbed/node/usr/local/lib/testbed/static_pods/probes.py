"""startupProbe, livenessProbe and readinessProbe (httpGet, tcpSocket, exec) with the kubelet's timing fields.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import subprocess

from .common import DEFAULT_PATH, node_ip


# --------------------------------------------------------------------------------------------------------------
# probes
# --------------------------------------------------------------------------------------------------------------

def _scaled(seconds, scale, minimum=0.2):
    value = float(seconds) * scale
    return max(value, minimum) if value > 0 else 0.0


_PROBE_TLS = None


def _probe_tls_context():
    """The kubelet's probe client: no certificate verification (built once: loading CAs is costly)."""
    global _PROBE_TLS
    if _PROBE_TLS is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        _PROBE_TLS = ctx
    return _PROBE_TLS


class ProbeSpec:
    def __init__(self, kind, spec, container_spec, scale):
        self.kind = kind
        self.spec = spec or {}
        self.initial = _scaled(self.spec.get("initialDelaySeconds", 0) or 0, scale)
        self.period = _scaled(self.spec.get("periodSeconds", 10) or 10, scale)
        self.timeout = float(self.spec.get("timeoutSeconds", 1) or 1)
        self.success_threshold = int(self.spec.get("successThreshold", 1) or 1)
        self.failure_threshold = int(self.spec.get("failureThreshold", 3) or 3)
        self.grace = self.spec.get("terminationGracePeriodSeconds")
        self.ports = {p.get("name"): p.get("containerPort") for p in container_spec.get("ports") or []
                      if isinstance(p, dict) and p.get("name")}

    def _port(self, port):
        if isinstance(port, int):
            return port
        if isinstance(port, str) and port.isdigit():
            return int(port)
        if port in self.ports:
            return int(self.ports[port])
        raise ValueError(f"unable to find port {port!r} in the container's ports")

    def run(self):
        """(success, detail)."""
        spec = self.spec
        try:
            if "httpGet" in spec:
                return self._http(spec["httpGet"] or {})
            if "tcpSocket" in spec:
                hs = spec["tcpSocket"] or {}
                host = hs.get("host") or node_ip()
                port = self._port(hs.get("port"))
                with socket.create_connection((host, port), timeout=self.timeout):
                    return True, ""
            if "exec" in spec:
                cmd = [str(c) for c in ((spec["exec"] or {}).get("command") or [])]
                proc = subprocess.run(cmd, capture_output=True, timeout=self.timeout, env={"PATH": DEFAULT_PATH},
                                      cwd="/", check=False)
                return proc.returncode == 0, proc.stdout.decode(errors="replace")[-200:]
            if "grpc" in spec:
                return True, "testbed: grpc probes are not emulated (counted as success)"
        except subprocess.TimeoutExpired:
            return False, f"command timed out after {self.timeout}s"
        except (OSError, ValueError, ssl.SSLError, http.client.HTTPException) as exc:
            return False, str(exc)
        return True, ""

    def _http(self, hg):
        scheme = (hg.get("scheme") or "HTTP").upper()
        host = hg.get("host") or node_ip()
        port = self._port(hg.get("port"))
        path = hg.get("path") or "/"
        if not path.startswith("/"):
            path = "/" + path
        headers = {"User-Agent": "kube-probe/1.33", "Accept": "*/*"}
        for header in hg.get("httpHeaders") or []:
            if isinstance(header, dict) and header.get("name"):
                headers[header["name"]] = str(header.get("value", ""))
        if scheme == "HTTPS":
            conn = http.client.HTTPSConnection(host, port, timeout=self.timeout, context=_probe_tls_context())
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read(1024)
        finally:
            conn.close()
        if 200 <= resp.status < 400:
            return True, ""
        snippet = " ".join(body.decode(errors="replace").split())[:160]
        return False, f"HTTP probe failed with statuscode: {resp.status}" + (f" body: {snippet}" if snippet else "")
