"""One static pod: its container process (environment, mounts, log file), restarts with CrashLoopBackOff, probes,
hostPath checks, and the state file the CLI and the tests read.
"""

from __future__ import annotations

import collections
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

from .common import BACKOFF_INITIAL, BACKOFF_MAX, DEFAULT_PATH, log, LOG_LINES, MAX_LOG_BYTES, node_ip, now_iso
from .probes import ProbeSpec


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
