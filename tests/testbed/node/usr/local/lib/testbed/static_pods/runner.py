"""The loop of static-pod-runner.service: polls the manifest directory, starts, restarts and stops pods as the
kubelet does, and stops them all on SIGTERM.
"""

from __future__ import annotations

import json
import os
import time

from .common import atomic_write_json, env, log, now_iso, time_scale
from .manifest import scan
from .pod import Pod


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
