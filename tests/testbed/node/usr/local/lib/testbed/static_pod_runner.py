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
import datetime
import json
import os
import signal
import sys
import time

from static_pods.common import log_dir, manifest_dir, sha256_file, state_dir
from static_pods.runner import Runner


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
