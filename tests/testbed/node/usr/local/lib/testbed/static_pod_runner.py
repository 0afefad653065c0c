#!/usr/bin/env python
"""Stand-in for the kubelet's static-pod handling on the secure_cluster.k8s test node, plus a small CLI.

    static_pod_runner.py run [--manifest-dir DIR] [--state-dir DIR] [--log-dir DIR]
    static_pod_runner.py status [--json] [NAME]
    static_pod_runner.py wait NAME (--ready | --running) [--timeout SECONDS]

`run` (static-pod-runner.service) watches the staticPodPath like the kubelet's file source: every file whose
name does not start with "." is a manifest (backup files such as kube-apiserver.yaml.bak included, exactly like
the kubelet); the directory is polled about once a second. For each Pod it runs containers[0].command + args as a
host process (hostNetwork; hostPath volumes are host paths), with the environment of the container plus
TESTBED_MOUNTS (JSON list of {"mountPath","hostPath","readOnly"}) and TESTBED_POD=<metadata.name>, and then
behaves like the kubelet:

* a manifest whose Pod object changes (comments and formatting do not count: the kubelet hashes the decoded
  object into the pod UID) is killed (SIGTERM, grace period, SIGKILL) and started again once the old process is
  gone; a removed manifest stops its pod; a new one is started;
* two manifests with the same metadata.name: only the first in file-name order runs (the kubelet's duplicate
  filter), the other is reported in the message of the running one;
* a manifest that is not valid YAML or not a valid Pod: state "invalid-manifest" with the error as message (any
  pod that was running from it is stopped, as the kubelet drops it from its source);
* exits are restarted per restartPolicy with CrashLoopBackOff: the first restart is immediate, then 10 s doubling
  up to 300 s, reset after a container ran 600 s; all multiplied by TESTBED_TIME_SCALE;
* startupProbe / livenessProbe / readinessProbe (httpGet with HTTP/HTTPS and no certificate verification,
  tcpSocket, exec) with initialDelaySeconds / periodSeconds / timeoutSeconds / successThreshold /
  failureThreshold; a failed liveness (or startup) probe kills the process, which then restarts with back-off.
  Delays and periods are multiplied by TESTBED_TIME_SCALE (never below 0.2 s); timeouts are not scaled.

State per pod: /run/static-pods/<name>.json (atomic writes; schema in docs/dev/contracts.md); full output:
/var/log/static-pods/<name>.log.

Environment: TESTBED_TIME_SCALE (default 1.0; the test node sets 0.1 in /etc/default/static-pod-runner),
TESTBED_MANIFEST_DIR (default: staticPodPath of TESTBED_KUBELET_CONFIG=/var/lib/kubelet/config.yaml, else
/etc/kubernetes/manifests), TESTBED_STATE_DIR (/run/static-pods), TESTBED_LOG_DIR (/var/log/static-pods),
TESTBED_NODE_IP_FILE (/etc/testbed/node-ip), TESTBED_POLL_INTERVAL (1.0 s). Other TESTBED_* variables of the
runner are passed on to the pods (so that stand-ins find overridden paths in tests); nothing else leaks in, in
particular no ETCD_* variable reaches etcd.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

try:
    import yaml
except ImportError:  # pragma: no cover
    yaml = None

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LOG_LINES = 50
MAX_LOG_BYTES = 10 * 1024 * 1024
BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0


def env(name, default):
    value = os.environ.get(name)
    return value if value else default


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log(sev, msg, **kv):
    now = datetime.datetime.now()
    text = json.dumps(msg)
    for key, value in kv.items():
        text += f" {key}={json.dumps(value) if not isinstance(value, (int, float)) else value}"
    sys.stderr.write(f"{sev}{now:%m%d %H:%M:%S}.{now.microsecond:06d} {os.getpid():7d} static_pod_runner.py] "
                     f"{text}\n")
    sys.stderr.flush()


def time_scale():
    raw = os.environ.get("TESTBED_TIME_SCALE", "")
    if not raw:
        return 1.0
    try:
        value = float(raw)
        if value <= 0:
            raise ValueError
        return value
    except ValueError:
        log("W", "invalid TESTBED_TIME_SCALE, using 1.0", value=raw)
        return 1.0


def state_dir():
    return env("TESTBED_STATE_DIR", "/run/static-pods")


def log_dir():
    return env("TESTBED_LOG_DIR", "/var/log/static-pods")


def manifest_dir():
    if os.environ.get("TESTBED_MANIFEST_DIR"):
        return os.environ["TESTBED_MANIFEST_DIR"]
    config = env("TESTBED_KUBELET_CONFIG", "/var/lib/kubelet/config.yaml")
    try:
        with open(config, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) if yaml else None
        if isinstance(data, dict) and data.get("staticPodPath"):
            return str(data["staticPodPath"])
    except (OSError, ValueError, getattr(yaml, "YAMLError", ValueError)):
        pass
    return "/etc/kubernetes/manifests"


def node_ip():
    try:
        with open(env("TESTBED_NODE_IP_FILE", "/etc/testbed/node-ip"), encoding="utf-8") as handle:
            return handle.read().strip() or "127.0.0.1"
    except OSError:
        return "127.0.0.1"


def atomic_write_json(path, obj):
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)


def sha256_file(path):
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


# --------------------------------------------------------------------------------------------------------------
# manifests
# --------------------------------------------------------------------------------------------------------------

DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class Manifest:
    """One file of the manifest directory, decoded."""

    def __init__(self, path, data):
        self.path = path
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.pod = None
        self.error = None
        self.name = None
        self.uid = None
        try:
            self._decode(data)
        except ValueError as exc:
            self.error = str(exc)
        if self.name is None:
            base = os.path.basename(path)
            self.name = base.split(".", 1)[0] or base

    def _decode(self, data):
        if yaml is None:  # pragma: no cover
            raise ValueError("PyYAML is not installed")
        try:
            obj = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise ValueError(f"{self.path}: couldn't parse as pod(yaml: {where}{problem}), please check config "
                             "file") from None
        if not isinstance(obj, dict):
            raise ValueError(f"{self.path}: couldn't parse as pod(Object 'Kind' is missing in "
                             f"'{json.dumps(obj, default=str)[:100]}'), please check config file")
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        if isinstance(meta.get("name"), str) and meta.get("name"):
            self.name = meta["name"]
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if not kind:
            raise ValueError(f"{self.path}: couldn't parse as pod(Object 'Kind' is missing), please check config "
                             "file")
        if kind != "Pod" or api_version != "v1":
            raise ValueError(f"{self.path}: couldn't parse as pod(no kind {json.dumps(kind)} is registered for "
                             f"version {json.dumps(api_version)}), please check config file"
                             if kind != "Pod" else
                             f"{self.path}: invalid pod: apiVersion {json.dumps(api_version)} is not v1")
        errs = []
        name = meta.get("name")
        if not name:
            errs.append("metadata.name: Required value: name or generateName is required")
        elif not isinstance(name, str) or not DNS_SUBDOMAIN.fullmatch(name) or len(name) > 253:
            errs.append(f"metadata.name: Invalid value: {json.dumps(name)}: a lowercase RFC 1123 subdomain must "
                        "consist of lower case alphanumeric characters, '-' or '.'")
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            errs.append("spec: Required value")
            spec = {}
        containers = spec.get("containers")
        if not isinstance(containers, list) or not containers:
            errs.append("spec.containers: Required value")
            containers = []
        volumes = {}
        for i, vol in enumerate(spec.get("volumes") or []):
            if not isinstance(vol, dict) or not vol.get("name"):
                errs.append(f"spec.volumes[{i}].name: Required value")
                continue
            if vol["name"] in volumes:
                errs.append(f"spec.volumes[{i}].name: Duplicate value: {json.dumps(vol['name'])}")
            volumes[vol["name"]] = vol
            hp = vol.get("hostPath")
            if hp is not None and (not isinstance(hp, dict) or not hp.get("path")):
                errs.append(f"spec.volumes[{i}].hostPath.path: Required value")
        for i, ctr in enumerate(containers):
            if not isinstance(ctr, dict):
                errs.append(f"spec.containers[{i}]: Invalid value")
                continue
            if not ctr.get("name"):
                errs.append(f"spec.containers[{i}].name: Required value")
            if not ctr.get("image"):
                errs.append(f"spec.containers[{i}].image: Required value")
            for field in ("command", "args"):
                value = ctr.get(field)
                if value is not None and (not isinstance(value, list) or
                                          not all(isinstance(v, (str, int, float)) for v in value)):
                    errs.append(f"spec.containers[{i}].{field}: Invalid value: must be a list of strings")
            for j, mount in enumerate(ctr.get("volumeMounts") or []):
                if not isinstance(mount, dict):
                    continue
                if mount.get("name") not in volumes:
                    errs.append(f"spec.containers[{i}].volumeMounts[{j}].name: Not found: "
                                f"{json.dumps(mount.get('name'))}")
                if not mount.get("mountPath"):
                    errs.append(f"spec.containers[{i}].volumeMounts[{j}].mountPath: Required value")
        policy = spec.get("restartPolicy", "Always")
        if policy not in ("Always", "OnFailure", "Never"):
            errs.append(f"spec.restartPolicy: Unsupported value: {json.dumps(policy)}: supported values: "
                        "\"Always\", \"OnFailure\", \"Never\"")
        if errs:
            detail = errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]"
            raise ValueError(f"{self.path}: invalid pod: " + detail)
        if not containers[0].get("command"):
            raise ValueError(f"{self.path}: testbed: containers[0].command is empty; the testbed runs the command "
                             "as a host process and has no image entrypoint to fall back to")
        self.pod = obj
        canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
        self.uid = hashlib.md5(f"{canonical}host:{socket.gethostname()}file:{self.path}".encode()).hexdigest()

    @property
    def valid(self):
        return self.pod is not None


def scan(directory):
    """(valid manifests by name, invalid manifests by name, duplicate notes by name) in kubelet order."""
    paths = []
    if os.path.isfile(directory):
        paths = [directory]
    elif os.path.isdir(directory):
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            names = []
        for name in names:
            if name.startswith("."):
                continue
            path = os.path.join(directory, name)
            if os.path.isdir(path):
                continue
            paths.append(path)
    valid, invalid, duplicates = {}, {}, collections.defaultdict(list)
    for path in paths:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        manifest = Manifest(path, data)
        if not manifest.valid:
            invalid.setdefault(manifest.name, manifest)
            continue
        if manifest.name in valid:
            duplicates[manifest.name].append(path)
            continue
        valid[manifest.name] = manifest
    return valid, invalid, duplicates


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


# --------------------------------------------------------------------------------------------------------------
# containers and pods
# --------------------------------------------------------------------------------------------------------------

class Container:
    """One run of containers[0] of a pod (a host process group)."""

    def __init__(self, pod, proc, argv):
        self.pod = pod
        self.proc = proc
        self.argv = argv
        self.started_at = time.time()
        self.started_mono = time.monotonic()
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.started_ok = pod.probes.get("startup") is None  # startup probe passed (or none)
        self.ready = False if pod.probes.get("readiness") else None
        self.live = None
        self.kill_reason = None
        self.kill_requested = False
        self.term_deadline = None
        self.exit_code = None
        self.reader = threading.Thread(target=self._read_output, daemon=True)
        self.reader.start()
        self.threads = []
        for kind in ("startup", "liveness", "readiness"):
            if pod.probes.get(kind):
                thread = threading.Thread(target=self._probe_loop, args=(kind, pod.probes[kind]), daemon=True)
                thread.start()
                self.threads.append(thread)

    @property
    def pid(self):
        return self.proc.pid

    def is_ready(self):
        if not self.started_ok:
            return False
        if self.ready is None:
            return True
        return self.ready

    def _read_output(self):
        pod = self.pod
        stream = self.proc.stdout
        for raw in iter(stream.readline, b""):
            pod.write_log(raw)
        stream.close()

    def _probe_loop(self, kind, probe):
        if self.stop_event.wait(probe.initial):
            return
        last_result, run = None, 0
        while not self.stop_event.is_set():
            if kind != "startup" and not self.started_ok:
                if self.stop_event.wait(min(probe.period, 0.2)):
                    return
                continue
            ok, detail = probe.run()
            if self.stop_event.is_set():
                return
            run = run + 1 if ok == last_result else 1
            last_result = ok
            threshold = probe.success_threshold if ok else probe.failure_threshold
            if run >= threshold:
                with self.lock:
                    if kind == "readiness":
                        self.ready = ok
                    elif kind == "liveness":
                        self.live = ok
                    elif kind == "startup" and ok:
                        self.started_ok = True
                if kind == "startup" and ok:
                    if self.pod.last_probe_failure.startswith("Startup"):
                        self.pod.last_probe_failure = ""
                    return
                if not ok and kind in ("liveness", "startup"):
                    with self.lock:
                        self.kill_requested = True
                        self.kill_reason = (f"Container {self.pod.container_name} failed {kind} probe, will be "
                                            f"restarted ({detail})")
                    self.pod.grace_override = probe.grace
                    return
            elif kind == "liveness" and self.live is None:
                with self.lock:
                    self.live = ok if ok else None
            if not ok:
                self.pod.last_probe_failure = f"{kind.capitalize()} probe failed: {detail}"
            elif self.pod.last_probe_failure.startswith(kind.capitalize()):
                self.pod.last_probe_failure = ""
            if self.stop_event.wait(probe.period):
                return

    def terminate(self, grace):
        """Send SIGTERM to the process group (non-blocking); the pod loop sends SIGKILL after `grace`."""
        if self.term_deadline is not None or self.proc.poll() is not None:
            return
        self.stop_event.set()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.term_deadline = time.monotonic() + grace

    def poll(self):
        """Return the exit code once the whole process group is gone; escalate to SIGKILL after the grace."""
        code = self.proc.poll()
        if code is None:
            if self.term_deadline is not None and time.monotonic() >= self.term_deadline:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return None
        try:  # the main process is gone: make sure nothing of its group survives
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.stop_event.set()
        self.exit_code = 128 - code if code < 0 else code
        self.reader.join(timeout=1)
        return self.exit_code


class Pod:
    def __init__(self, runner, manifest):
        self.runner = runner
        self.manifest = manifest
        self.name = manifest.name
        pod = manifest.pod
        self.spec = pod.get("spec") or {}
        self.namespace = (pod.get("metadata") or {}).get("namespace") or "default"
        self.cspec = self.spec["containers"][0]
        self.container_name = self.cspec.get("name", self.name)
        self.restart_policy = self.spec.get("restartPolicy", "Always")
        scale = runner.scale
        self.probes = {kind: ProbeSpec(kind, self.cspec.get(f"{kind}Probe"), self.cspec, scale)
                       for kind in ("startup", "liveness", "readiness") if self.cspec.get(f"{kind}Probe")}
        self.container = None
        self.terminating = None       # container being stopped for good (manifest change/removal)
        self.waiting_for = None       # previous pod instance that must stop first
        self.restarts = 0
        self.attempts = 0
        self.last_exit_code = None
        self.last_exit_at = None
        self.last_exit_reason = None
        self.message = ""
        self.notes = []
        self.state = "stopped"
        self.backoff = None           # (duration, last_update wall time)
        self.restart_at = 0.0         # monotonic time of the next start
        self.grace_override = None
        self.last_probe_failure = ""
        self.removed = False
        self.done = False             # restartPolicy says no more runs
        self.lines = runner.log_tails.setdefault(self.name, collections.deque(maxlen=LOG_LINES))
        self.log_lock = threading.Lock()
        self.log_path = os.path.join(runner.log_dir, f"{self.name}.log")

    @property
    def full_name(self):
        return f"{self.name}-{socket.gethostname()}_{self.namespace}({self.manifest.uid})"

    def write_log(self, raw):
        line = raw.decode("utf-8", errors="replace").rstrip("\n")
        self.lines.append(line)
        with self.log_lock:
            try:
                os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
                if os.path.exists(self.log_path) and os.path.getsize(self.log_path) > MAX_LOG_BYTES:
                    os.replace(self.log_path, self.log_path + ".1")
                with open(self.log_path, "ab") as handle:
                    handle.write(raw if raw.endswith(b"\n") else raw + b"\n")
            except OSError:
                pass

    def grace(self):
        seconds = self.grace_override if self.grace_override is not None else \
            self.spec.get("terminationGracePeriodSeconds", 30)
        try:
            seconds = float(seconds)
        except (TypeError, ValueError):
            seconds = 30.0
        return max(seconds * self.runner.scale, 0.5)

    # -- start --------------------------------------------------------------------------------------------------
    def environment(self):
        out = {"PATH": DEFAULT_PATH, "HOSTNAME": socket.gethostname()}
        for key, value in os.environ.items():
            if key.startswith("TESTBED_") and key not in ("TESTBED_MOUNTS", "TESTBED_POD"):
                out[key] = value
        ip = node_ip()
        fields = {"metadata.name": self.name, "metadata.namespace": self.namespace,
                  "spec.nodeName": socket.gethostname(), "status.podIP": ip, "status.hostIP": ip,
                  "status.podIPs": ip, "status.hostIPs": ip, "metadata.uid": self.manifest.uid}
        for item in self.cspec.get("env") or []:
            if not isinstance(item, dict) or not item.get("name"):
                continue
            if "value" in item:
                out[item["name"]] = expand(str(item.get("value", "")), out)
            else:
                ref = ((item.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
                if ref in fields:
                    out[item["name"]] = fields[ref]
                else:
                    self.notes.append(f"env {item['name']}: valueFrom is not emulated by the testbed")
        return out

    def mounts(self):
        """TESTBED_MOUNTS, creating hostPath *OrCreate paths; raises ValueError like a failed volume SetUp."""
        volumes = {v["name"]: v for v in self.spec.get("volumes") or [] if isinstance(v, dict) and v.get("name")}
        out = []
        for mount in self.cspec.get("volumeMounts") or []:
            vol = volumes.get(mount.get("name"))
            if vol is None:
                continue
            if "hostPath" in vol:
                hp = vol["hostPath"] or {}
                path, typ = hp.get("path"), hp.get("type") or ""
                check_host_path(vol["name"], path, typ)
                host = path
            elif "emptyDir" in vol:
                host = os.path.join(self.runner.state_dir, f"{self.name}.volumes", vol["name"])
                os.makedirs(host, exist_ok=True)
            else:
                kind = next((k for k in vol if k != "name"), "unknown")
                raise ValueError(f"MountVolume.SetUp failed for volume {json.dumps(vol['name'])} : testbed: "
                                 f"{kind} volumes need the API server; static pods can only use hostPath and "
                                 "emptyDir here")
            if mount.get("subPath"):
                host = os.path.join(host, mount["subPath"])
            out.append({"mountPath": mount.get("mountPath"), "hostPath": host,
                        "readOnly": bool(mount.get("readOnly", False))})
        return out

    def start(self):
        self.notes = []
        env_vars = self.environment()
        try:
            mounts = self.mounts()
        except ValueError as exc:
            self.state = "stopped"
            self.message = str(exc)
            self.restart_at = time.monotonic() + max(2.0 * self.runner.scale, 0.5)
            return False
        env_vars["TESTBED_MOUNTS"] = json.dumps(mounts)
        env_vars["TESTBED_POD"] = self.name
        argv = [expand(str(a), env_vars) for a in (self.cspec.get("command") or [])] + \
               [expand(str(a), env_vars) for a in (self.cspec.get("args") or [])]
        exe = argv[0]
        if "/" not in exe:
            found = shutil.which(exe, path=env_vars["PATH"])
            if not found:
                self._start_failed(f"failed to create containerd task: failed to create shim task: OCI runtime "
                                   f"create failed: runc create failed: unable to start container process: exec: "
                                   f"{json.dumps(exe)}: executable file not found in $PATH: unknown")
                return False
            exe = found
        cwd = self.cspec.get("workingDir") or "/"
        try:
            proc = subprocess.Popen([exe] + argv[1:], executable=exe, env=env_vars, cwd=cwd, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            self._start_failed(f"failed to start container process: {exc}")
            return False
        self.attempts += 1
        if self.attempts > 1:
            self.restarts += 1
        self.container = Container(self, proc, [exe] + argv[1:])
        self.state = "running"
        self.message = ("; ".join(self.notes) if self.notes else "")
        self.last_probe_failure = ""
        self.grace_override = None
        log("I", "started container", pod=self.name, pid=proc.pid, attempt=self.attempts)
        return True

    def _start_failed(self, message):
        self.attempts += 1
        if self.attempts > 1:
            self.restarts += 1
        self.last_exit_code = 128
        self.last_exit_at = now_iso()
        self.last_exit_reason = "StartError: " + message
        self.message = message
        self.write_log((message + "\n").encode())
        self._schedule_restart(time.time(), failed=True)

    # -- supervision --------------------------------------------------------------------------------------------
    def _schedule_restart(self, exit_wall, failed):
        """kubelet doBackOff: returns after setting restart_at / state."""
        if self.restart_policy == "Never" or (self.restart_policy == "OnFailure" and not failed):
            self.done = True
            self.state = "stopped"
            return
        scale = self.runner.scale
        initial, maximum = BACKOFF_INITIAL * scale, BACKOFF_MAX * scale
        entry = self.backoff
        expired = entry is None or exit_wall - entry[1] > 2 * maximum
        if expired:
            self.backoff = (initial, exit_wall)
            self.restart_at = time.monotonic()
            return
        duration, dummy = entry
        wait = duration - (time.time() - exit_wall)
        if wait > 0:
            self.restart_at = time.monotonic() + wait
            self.state = "crash-looping"
            self.message = (f"back-off {format_duration(duration / scale)} restarting failed "
                            f"container={self.container_name} pod={self.full_name}")
            if scale != 1.0:
                self.message += f" (testbed time scale {scale:g}: {format_duration(duration)})"
        else:
            self.restart_at = time.monotonic()
        self.backoff = (min(duration * 2, maximum), exit_wall)

    def tick(self, now):
        changed = False
        if self.waiting_for is not None:
            if self.waiting_for.poll() is None:
                return False
            self.waiting_for = None
            changed = True
        c = self.container
        if c is not None:
            if c.kill_requested and c.term_deadline is None:
                log("I", "killing container", pod=self.name, reason=c.kill_reason)
                self.message = c.kill_reason
                c.terminate(self.grace())
                changed = True
            code = c.poll()
            if code is not None:
                self.container = None
                self.last_exit_code = code
                self.last_exit_at = now_iso()
                reason = c.kill_reason or (f"Error: container exited with code {code}" if code else
                                           "Completed: container exited with code 0")
                self.message = reason
                self.last_exit_reason = reason
                log("I", "container exited", pod=self.name, code=code)
                if not self.removed:
                    self._schedule_restart(time.time(), failed=(code != 0 or c.kill_reason is not None))
                    if self.state == "running":
                        self.state = "stopped" if self.done else self.state
                changed = True
        if self.container is None and not self.removed and not self.done and time.monotonic() >= self.restart_at:
            if self.start():
                changed = True
        return changed

    def stop(self, reason):
        self.removed = True
        if self.container is not None:
            self.container.terminate(self.grace())
        self.message = reason

    def snapshot(self):
        c = self.container
        state = self.state if c is None else "running"
        ready = c.is_ready() if c is not None else (False if self.state != "invalid-manifest" else None)
        live = None
        if self.probes.get("liveness"):
            live = c.live if c is not None else None
        msg = self.message
        if c is not None and not msg and self.last_probe_failure:
            msg = self.last_probe_failure
        if self.runner.duplicates.get(self.name):
            msg = (msg + "; " if msg else "") + "duplicate pod name: " + ", ".join(
                self.runner.duplicates[self.name]) + " ignored (the kubelet runs only the first manifest in " \
                                                     "file-name order)"
        return {
            "name": self.name,
            "manifest": self.manifest.path,
            "manifest_sha256": self.manifest.sha256,
            "uid": self.manifest.uid,
            "state": state,
            "pid": c.pid if c is not None else None,
            "started_at": datetime.datetime.fromtimestamp(c.started_at, datetime.timezone.utc).isoformat(
                timespec="milliseconds").replace("+00:00", "Z") if c is not None else None,
            "restarts": self.restarts,
            "last_exit_code": self.last_exit_code,
            "last_exit_at": self.last_exit_at,
            "last_exit_reason": self.last_exit_reason,
            "ready": ready,
            "live": live,
            "message": msg,
            "command": c.argv if c is not None else None,
            "restart_policy": self.restart_policy,
            "last_log_lines": list(self.lines),
        }


def check_host_path(volume, path, typ):
    def fail(why):
        raise ValueError(f"MountVolume.SetUp failed for volume {json.dumps(volume)} : hostPath type check failed: "
                         f"{path} {why}")

    if typ == "DirectoryOrCreate":
        os.makedirs(path, mode=0o755, exist_ok=True)
    elif typ == "FileOrCreate":
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path) or "/", mode=0o755, exist_ok=True)
            with open(path, "a", encoding="utf-8"):
                pass
            os.chmod(path, 0o644)
    elif typ == "Directory":
        if not os.path.isdir(path):
            fail("is not a directory")
    elif typ == "File":
        if not os.path.isfile(path):
            fail("is not a file")
    elif typ == "Socket":
        import stat
        if not os.path.exists(path) or not stat.S_ISSOCK(os.stat(path).st_mode):
            fail("is not a socket file")
    elif typ in ("CharDevice", "BlockDevice"):
        import stat
        test = stat.S_ISCHR if typ == "CharDevice" else stat.S_ISBLK
        if not os.path.exists(path) or not test(os.stat(path).st_mode):
            fail(f"is not a {'character' if typ == 'CharDevice' else 'block'} device")


def expand(text, env_vars):
    """Kubernetes $(VAR) expansion ($$ escapes); unknown references stay as they are."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("$(", i) and ")" in text[i + 2:]:
            end = text.index(")", i + 2)
            name = text[i + 2:end]
            out.append(env_vars.get(name, text[i:end + 1]))
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def format_duration(seconds):
    """Go time.Duration String(): 10s, 1m20s, 5m0s, 1.5s."""
    if seconds >= 60:
        minutes, secs = divmod(seconds, 60)
        secs_text = f"{secs:g}"
        return f"{int(minutes)}m{secs_text}s"
    return f"{seconds:g}s"


# --------------------------------------------------------------------------------------------------------------
# runner
# --------------------------------------------------------------------------------------------------------------

class Runner:
    def __init__(self, manifests, states, logs):
        self.manifest_dir = manifests
        self.state_dir = states
        self.log_dir = logs
        self.scale = time_scale()
        self.poll_interval = float(env("TESTBED_POLL_INTERVAL", "1.0"))
        self.pods = {}
        self.stopped = {}        # name -> final snapshot of pods that are gone
        self.duplicates = {}
        self.log_tails = {}
        self.last_written = {}
        self.last_write_time = {}
        self.stop_requested = False

    def state_path(self, name):
        return os.path.join(self.state_dir, f"{name}.json")

    def write_state(self, name, snap, force=False):
        key = {k: v for k, v in snap.items() if k != "last_log_lines"}
        now = time.monotonic()
        unchanged = self.last_written.get(name) == key
        if unchanged and not force:
            if snap["last_log_lines"] == self.last_written.get((name, "lines")):
                return
            if now - self.last_write_time.get(name, 0) < 0.5:
                return
        snap = dict(snap)
        snap["updated_at"] = now_iso()
        try:
            atomic_write_json(self.state_path(name), snap)
        except OSError as exc:
            log("E", "cannot write state", pod=name, err=str(exc))
            return
        self.last_written[name] = key
        self.last_written[(name, "lines")] = list(snap["last_log_lines"])
        self.last_write_time[name] = now

    def invalid_snapshot(self, manifest):
        return {"name": manifest.name, "manifest": manifest.path, "manifest_sha256": manifest.sha256, "uid": None,
                "state": "invalid-manifest", "pid": None, "started_at": None,
                "restarts": 0, "last_exit_code": None, "last_exit_at": None, "last_exit_reason": None,
                "ready": None, "live": None,
                "message": manifest.error, "command": None, "restart_policy": None,
                "last_log_lines": list(self.log_tails.get(manifest.name, []))}

    def reconcile(self):
        valid, invalid, duplicates = scan(self.manifest_dir)
        self.duplicates = dict(duplicates)
        # removed or now-invalid pods
        for name in list(self.pods):
            if name not in valid:
                pod = self.pods.pop(name)
                reason = "manifest removed" if name not in invalid else invalid[name].error
                log("I", "stopping pod", pod=name, reason=reason)
                pod.stop(reason)
                self.stopped[name] = pod
        # new and changed pods
        for name, manifest in valid.items():
            pod = self.pods.get(name)
            if pod is None:
                new = Pod(self, manifest)
                old = self.stopped.pop(name, None)
                if old is not None and old.container is not None:
                    new.waiting_for = old.container
                self.pods[name] = new
                log("I", "new static pod", pod=name, manifest=manifest.path)
            elif pod.manifest.uid != manifest.uid:
                log("I", "manifest changed, recreating pod", pod=name, manifest=manifest.path)
                pod.stop("manifest changed")
                new = Pod(self, manifest)
                new.waiting_for = pod.container
                self.pods[name] = new
            else:
                pod.manifest = manifest  # same Pod object; the file may differ in comments/formatting
        self.invalid = {name: m for name, m in invalid.items() if name not in valid}

    def loop(self):
        os.makedirs(self.state_dir, exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)
        log("I", "static-pod-runner starting", manifests=self.manifest_dir, states=self.state_dir,
            logs=self.log_dir, time_scale=self.scale)
        self.invalid = {}
        next_scan = 0.0
        first = True
        while not self.stop_requested:
            now = time.monotonic()
            if now >= next_scan:
                try:
                    self.reconcile()
                except Exception as exc:  # noqa: BLE001 - keep supervising whatever happens
                    log("E", "reconcile failed", err=repr(exc))
                next_scan = now + self.poll_interval
                if first:
                    self.mark_stale_states()
                    first = False
            for pod in list(self.pods.values()):
                pod.tick(now)
                self.write_state(pod.name, pod.snapshot())
            for name, pod in list(self.stopped.items()):
                if pod.container is not None:
                    code = pod.container.poll()
                    if code is not None:
                        pod.last_exit_code = code
                        pod.last_exit_at = now_iso()
                        pod.container = None
                if name in self.pods:
                    continue
                snap = pod.snapshot()
                snap["state"] = "running" if pod.container is not None else (
                    "invalid-manifest" if name in self.invalid else "stopped")
                if name in self.invalid and pod.container is None:
                    snap = self.invalid_snapshot(self.invalid[name])
                self.write_state(name, snap)
                if pod.container is None:
                    del self.stopped[name]
            for name, manifest in self.invalid.items():
                if name not in self.stopped:
                    self.write_state(name, self.invalid_snapshot(manifest))
            time.sleep(0.1)
        self.shutdown()

    def mark_stale_states(self):
        try:
            names = os.listdir(self.state_dir)
        except OSError:
            return
        for entry in names:
            if not entry.endswith(".json") or entry.startswith("."):
                continue
            name = entry[:-5]
            if name in self.pods or name in self.invalid:
                continue
            try:
                with open(self.state_path(name), encoding="utf-8") as handle:
                    snap = json.load(handle)
            except (OSError, ValueError):
                continue
            if snap.get("state") == "stopped" and snap.get("pid") is None:
                continue
            snap.update({"state": "stopped", "pid": None, "ready": False, "live": None,
                         "message": "static-pod-runner restarted and the manifest is gone",
                         "updated_at": now_iso()})
            atomic_write_json(self.state_path(name), snap)

    def shutdown(self):
        log("I", "static-pod-runner stopping: terminating pods")
        pods = list(self.pods.values()) + list(self.stopped.values())
        for pod in pods:
            pod.removed = True
            if pod.container is not None:
                pod.container.terminate(pod.grace())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            alive = [p for p in pods if p.container is not None and p.container.poll() is None]
            if not alive:
                break
            time.sleep(0.1)
        for pod in pods:
            if pod.container is not None and pod.container.exit_code is not None:
                pod.last_exit_code = pod.container.exit_code
                pod.last_exit_at = now_iso()
            pod.container = None
            pod.state = "stopped"
            pod.message = "static-pod-runner stopped"
            snap = pod.snapshot()
            self.write_state(pod.name, snap, force=True)


# --------------------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------------------

def read_states(name=None):
    directory = state_dir()
    out = []
    try:
        entries = sorted(os.listdir(directory))
    except OSError:
        entries = []
    for entry in entries:
        if not entry.endswith(".json") or entry.startswith("."):
            continue
        if name is not None and entry != f"{name}.json":
            continue
        try:
            with open(os.path.join(directory, entry), encoding="utf-8") as handle:
                out.append(json.load(handle))
        except (OSError, ValueError):
            continue
    return out


def _age(iso):
    if not iso:
        return "-"
    try:
        then = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return "-"
    seconds = int((datetime.datetime.now(datetime.timezone.utc) - then).total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def cmd_status(args):
    states = read_states(args.name)
    if args.name and not states:
        sys.stderr.write(f"static pod {args.name!r} not found in {state_dir()}\n")
        return 1
    if args.json:
        print(json.dumps(states[0] if args.name else states, indent=2))
        return 0
    rows = [("NAME", "STATE", "READY", "LIVE", "RESTARTS", "PID", "AGE", "EXIT", "MESSAGE")]
    for s in states:
        def flag(value):
            return "-" if value is None else ("true" if value else "false")
        rows.append((s.get("name", "?"), s.get("state", "?"), flag(s.get("ready")), flag(s.get("live")),
                     str(s.get("restarts", 0)), str(s.get("pid") or "-"), _age(s.get("started_at")),
                     "-" if s.get("last_exit_code") is None else str(s.get("last_exit_code")),
                     " ".join((s.get("message") or "").split())[:100]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("   ".join(col.ljust(widths[i]) for i, col in enumerate(row[:-1])) + "   " + row[-1])
    return 0


def condition_met(state, want_ready):
    if state.get("state") != "running":
        return False
    if want_ready and state.get("ready") is not True:
        return False
    manifest = state.get("manifest")
    if manifest and os.path.exists(manifest):
        current = sha256_file(manifest)
        if current is not None and current != state.get("manifest_sha256"):
            return False  # the runner has not picked up the latest content yet
    return True


def cmd_wait(args):
    deadline = time.monotonic() + args.timeout
    want_ready = args.ready
    last = None
    while True:
        states = read_states(args.name)
        if states:
            last = states[0]
            if condition_met(last, want_ready):
                return 0
        if time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    what = "ready" if want_ready else "running"
    if last is None:
        sys.stderr.write(f"timed out after {args.timeout:g}s waiting for static pod {args.name!r} to be {what}: "
                         f"no state file in {state_dir()}\n")
    else:
        sys.stderr.write(f"timed out after {args.timeout:g}s waiting for static pod {args.name!r} to be {what}: "
                         f"state={last.get('state')} ready={last.get('ready')} restarts={last.get('restarts')} "
                         f"last_exit_code={last.get('last_exit_code')} message={last.get('message')!r}\n")
        for line in (last.get("last_log_lines") or [])[-10:]:
            sys.stderr.write(f"  | {line}\n")
    return 1


def cmd_run(args):
    runner = Runner(args.manifest_dir or manifest_dir(), args.state_dir or state_dir(), args.log_dir or log_dir())

    def on_signal(signum, frame):
        runner.stop_requested = True  # only a plain assignment here: no locks inside a signal handler

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runner.loop()
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="static_pod_runner.py", description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command")
    p_run = sub.add_parser("run", help="run the static pods of the manifest directory (the service)")
    p_run.add_argument("--manifest-dir")
    p_run.add_argument("--state-dir")
    p_run.add_argument("--log-dir")
    p_status = sub.add_parser("status", help="show the static pods (like crictl ps)")
    p_status.add_argument("--json", action="store_true")
    p_status.add_argument("name", nargs="?")
    p_wait = sub.add_parser("wait", help="wait until a static pod is running or ready (exit 0) or time out (1)")
    p_wait.add_argument("name")
    group = p_wait.add_mutually_exclusive_group(required=True)
    group.add_argument("--ready", action="store_true")
    group.add_argument("--running", action="store_true")
    p_wait.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    if args.command == "run":
        return cmd_run(args)
    if args.command == "status":
        return cmd_status(args)
    if args.command == "wait":
        return cmd_wait(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
