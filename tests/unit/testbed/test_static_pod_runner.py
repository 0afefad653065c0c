"""Behaviour of the test node's static-pod runner (tests/testbed/node/usr/local/lib/testbed/static_pod_runner.py).

The runner is started as a real subprocess on a tmp manifest directory (paths and the time scale come from its
TESTBED_* environment) and runs tiny python commands; the tests assert on its state files, logs and CLI.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
RUNNER = os.path.join(REPO, "tests", "testbed", "node", "usr", "local", "lib", "testbed", "static_pod_runner.py")
PY = sys.executable
SCALE = 0.05  # 10 s back-off -> 0.5 s


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Node:
    """A running static_pod_runner.py on tmp directories."""

    def __init__(self, tmp_path, extra_env=None):
        self.manifests = tmp_path / "manifests"
        self.states = tmp_path / "states"
        self.logs = tmp_path / "logs"
        self.manifests.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("TESTBED_", "ETCD_"))}
        self.env.update({"TESTBED_MANIFEST_DIR": str(self.manifests), "TESTBED_STATE_DIR": str(self.states),
                         "TESTBED_LOG_DIR": str(self.logs), "TESTBED_TIME_SCALE": str(SCALE),
                         "TESTBED_POLL_INTERVAL": "0.2", "TESTBED_NODE_IP_FILE": str(tmp_path / "node-ip"),
                         "PYTHONDONTWRITEBYTECODE": "1"})
        (tmp_path / "node-ip").write_text("127.0.0.1\n")
        self.env.update(extra_env or {})
        self.proc = None
        self.stderr_path = tmp_path / "runner.stderr"

    def start(self):
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([PY, RUNNER, "run"], env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=self.stderr)
        deadline = time.monotonic() + 10  # its SIGTERM handler is installed once it logs "starting"
        while b"static-pod-runner starting" not in self.stderr_path.read_bytes():
            assert self.proc.poll() is None and time.monotonic() < deadline, self.stderr_path.read_text()
            time.sleep(0.02)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.stderr.close()
        return self.proc.returncode

    def cli(self, *args, timeout=30):
        return subprocess.run([PY, RUNNER, *args], env=self.env, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def write(self, filename, text):
        path = self.manifests / filename
        tmp = self.manifests / f".{filename}.tmp"
        tmp.write_text(textwrap.dedent(text))
        os.replace(tmp, path)  # atomically, as Ansible's copy/template do
        return path

    def state(self, name):
        try:
            return json.loads((self.states / f"{name}.json").read_text())
        except (OSError, ValueError):
            return None

    def wait(self, name, predicate, timeout=15, what=""):
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.state(name)
            if state is not None and predicate(state):
                return state
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {name} {what}: last state {json.dumps(state, indent=1)}\n"
                             f"runner log:\n{self.stderr_path.read_text()[-3000:]}")

    def log(self, name):
        path = self.logs / f"{name}.log"
        return path.read_text() if path.exists() else ""


@pytest.fixture()
def node(tmp_path):
    n = Node(tmp_path)
    n.start()
    yield n
    assert n.stop() == 0


def pod(name, code, restart_policy=None, probes="", volumes="", extra_container=""):
    """A Pod manifest whose container runs a python snippet."""
    policy = f"  restartPolicy: {restart_policy}\n" if restart_policy else ""
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: kube-system
spec:
{policy}  containers:
  - name: {name}
    image: registry.k8s.io/{name}:v0
    command:
    - {PY}
    - -c
    - {json.dumps(code)}
{textwrap.indent(textwrap.dedent(probes), "    ")}{textwrap.indent(textwrap.dedent(extra_container), "    ")}{volumes}"""


SLEEP = "import time\nwhile True: time.sleep(1)"


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # zombies count as gone
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def http_server_code(port, status_file):
    """A tiny server answering /healthz with the status code written in status_file (default 200)."""
    return textwrap.dedent(f"""\
        import http.server, os
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                try:
                    code = int(open({str(status_file)!r}).read().strip())
                except Exception:
                    code = 200
                self.send_response(code); self.send_header('Content-Length', '2'); self.end_headers()
                self.wfile.write(b'ok')
            def log_message(self, *a): pass
        print('serving', os.getpid(), flush=True)
        http.server.HTTPServer(('127.0.0.1', {port}), H).serve_forever()
        """)


# ----------------------------------------------------------------------------------------------------------------

def test_runs_a_pod_with_mounts_and_a_clean_environment(tmp_path):
    n = Node(tmp_path, extra_env={"ETCD_NAME": "leaked", "ETCD_DATA_DIR": "/leaked", "SECRET_THING": "x"})
    n.start()
    try:
        data = tmp_path / "data"
        code = ("import os, json, time\n"
                "print('env', json.dumps({k: v for k, v in os.environ.items()}), flush=True)\n"
                "while True: time.sleep(1)")
        n.write("app.yaml", pod("app", code, volumes=f"""\
    volumeMounts:
    - {{name: data, mountPath: /var/lib/app}}
    - {{name: certs, mountPath: /etc/app/pki, readOnly: true}}
  volumes:
  - name: data
    hostPath: {{path: {data}, type: DirectoryOrCreate}}
  - name: certs
    hostPath: {{path: {tmp_path}, type: Directory}}
"""))
        state = n.wait("app", lambda s: s["state"] == "running" and s["last_log_lines"], what="running")
        pid = state["pid"]
        assert state["ready"] is True and state["live"] is None and state["restarts"] == 0
        assert alive(state["pid"])
        assert data.is_dir()  # DirectoryOrCreate
        env = json.loads(state["last_log_lines"][0].split(" ", 1)[1])
        assert env["TESTBED_POD"] == "app"
        assert json.loads(env["TESTBED_MOUNTS"]) == [
            {"mountPath": "/var/lib/app", "hostPath": str(data), "readOnly": False},
            {"mountPath": "/etc/app/pki", "hostPath": str(tmp_path), "readOnly": True}]
        assert not [k for k in env if k.startswith("ETCD_")] and "SECRET_THING" not in env
        assert env["PATH"].startswith("/usr/local/sbin")
        assert "env {" in n.log("app")
        assert state["manifest"] == str(n.manifests / "app.yaml")
    finally:
        assert n.stop() == 0
    state = n.state("app")
    assert state["state"] == "stopped" and state["pid"] is None and not alive(pid)


def test_manifest_change_restarts_and_comment_change_does_not(node):
    node.write("app.yaml", pod("app", SLEEP))
    first = node.wait("app", lambda s: s["state"] == "running")
    # a comment changes the file but not the decoded Pod: the kubelet keeps the pod (same UID)
    text = (node.manifests / "app.yaml").read_text()
    node.write("app.yaml", "# edited by hand\n" + text)
    second = node.wait("app", lambda s: s["manifest_sha256"] != first["manifest_sha256"])
    assert second["pid"] == first["pid"] and second["uid"] == first["uid"]
    # a changed command line: the old process is stopped, a new one started, restart count starts again
    node.write("app.yaml", pod("app", SLEEP + "  # v2"))
    third = node.wait("app", lambda s: s["state"] == "running" and s["pid"] not in (None, first["pid"]))
    assert third["uid"] != first["uid"] and third["restarts"] == 0
    deadline = time.monotonic() + 5
    while alive(first["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(first["pid"])
    assert node.cli("wait", "app", "--running", "--timeout", "5").returncode == 0


def test_removed_manifest_stops_the_pod(node):
    node.write("app.yaml", pod("app", SLEEP))
    state = node.wait("app", lambda s: s["state"] == "running")
    os.unlink(node.manifests / "app.yaml")
    stopped = node.wait("app", lambda s: s["state"] == "stopped")
    assert stopped["pid"] is None and stopped["message"] == "manifest removed"
    assert not alive(state["pid"])


def test_sigterm_grace_then_sigkill(node):
    code = ("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('stubborn', flush=True)\n"
            "while True: time.sleep(1)")
    node.write("stubborn.yaml", pod("stubborn", code) + "  terminationGracePeriodSeconds: 10\n")
    state = node.wait("stubborn", lambda s: s["state"] == "running" and s["last_log_lines"])
    start = time.monotonic()
    os.unlink(node.manifests / "stubborn.yaml")
    stopped = node.wait("stubborn", lambda s: s["state"] == "stopped")
    elapsed = time.monotonic() - start
    assert stopped["last_exit_code"] == 137  # SIGKILL after the (scaled) 10 s grace period
    assert 0.4 <= elapsed < 5
    assert not alive(state["pid"])


def test_crash_loop_back_off(node):
    node.write("crash.yaml", pod("crash", "import time; print('start', time.time(), flush=True); raise SystemExit(3)"))
    state = node.wait("crash", lambda s: s["restarts"] >= 4 and s["state"] == "crash-looping", timeout=20)
    assert state["last_exit_code"] == 3 and state["ready"] is False and state["pid"] is None
    assert "back-off" in state["message"] and "restarting failed container=crash" in state["message"]
    starts = [float(line.split()[1]) for line in node.log("crash").splitlines() if line.startswith("start ")]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    # kubelet: immediate first restart, then 10 s, 20 s, 40 s ... (x SCALE)
    assert gaps[0] < 0.45
    assert 10 * SCALE * 0.9 <= gaps[1] < 10 * SCALE + 0.5
    assert 20 * SCALE * 0.9 <= gaps[2] < 20 * SCALE + 0.5
    assert state["message"].startswith("back-off 40s") or state["message"].startswith("back-off 1m20s")


def test_restart_policy_never_and_on_failure(node):
    node.write("once.yaml", pod("once", "print('done')", restart_policy="Never"))
    node.write("fail.yaml", pod("fail", "raise SystemExit(1)", restart_policy="OnFailure"))
    once = node.wait("once", lambda s: s["state"] == "stopped" and s["last_exit_code"] == 0)
    node.wait("fail", lambda s: s["restarts"] >= 1)
    time.sleep(0.5)
    assert node.state("once")["restarts"] == 0 == once["restarts"]


def test_liveness_failure_kills_and_restarts(node, tmp_path):
    port = free_port()
    status = tmp_path / "status"
    status.write_text("200")
    node.write("web.yaml", pod("web", http_server_code(port, status), probes=f"""\
        livenessProbe:
          httpGet: {{host: 127.0.0.1, port: {port}, path: /healthz, scheme: HTTP}}
          initialDelaySeconds: 2
          periodSeconds: 4
          failureThreshold: 3
          timeoutSeconds: 2
        """))
    healthy = node.wait("web", lambda s: s["live"] is True, what="live")
    status.write_text("500")
    restarted = node.wait("web", lambda s: s["restarts"] >= 1, timeout=20, what="restarted")
    assert restarted["last_exit_code"] in (137, 143)
    assert restarted["last_exit_reason"].startswith("Container web failed liveness probe, will be restarted")
    status.write_text("200")
    back = node.wait("web", lambda s: s["state"] == "running" and s["live"] is True and s["pid"] != healthy["pid"],
                     timeout=20)
    assert back["restarts"] >= 1


def test_startup_probe_gates_readiness_and_kills_on_failure(node, tmp_path):
    port = free_port()
    status = tmp_path / "status"
    status.write_text("401")  # what kubeadm's probes get from an apiserver with --anonymous-auth=false
    node.write("api.yaml", pod("api", http_server_code(port, status), probes=f"""\
        ports:
        - {{containerPort: {port}, name: probe-port, protocol: TCP}}
        startupProbe:
          httpGet: {{host: 127.0.0.1, port: probe-port, path: /livez, scheme: HTTP}}
          initialDelaySeconds: 1
          periodSeconds: 2
          failureThreshold: 5
        readinessProbe:
          httpGet: {{host: 127.0.0.1, port: probe-port, path: /readyz, scheme: HTTP}}
          periodSeconds: 1
        """))
    # a loaded machine may probe before the server listens ("connection refused"): wait for the 401 itself
    first = node.wait("api", lambda s: s["state"] == "running" and "Startup probe failed" in s["message"]
                      and "statuscode: 401" in s["message"], what="startup probe failing with 401")
    assert first["ready"] is False
    killed = node.wait("api", lambda s: s["restarts"] >= 1, timeout=20, what="killed by the startup probe")
    assert killed["last_exit_reason"].startswith("Container api failed startup probe, will be restarted")
    status.write_text("200")
    ready = node.wait("api", lambda s: s["ready"] is True, timeout=20, what="ready")
    assert ready["state"] == "running"
    assert node.cli("wait", "api", "--ready", "--timeout", "5").returncode == 0


def test_readiness_and_the_wait_cli(node, tmp_path):
    port = free_port()
    status = tmp_path / "status"
    status.write_text("503")
    node.write("svc.yaml", pod("svc", http_server_code(port, status), probes=f"""\
        readinessProbe:
          tcpSocket: {{host: 127.0.0.1, port: {port}}}
          periodSeconds: 1
        livenessProbe:
          httpGet: {{host: 127.0.0.1, port: {port}, path: /}}
          periodSeconds: 1
          failureThreshold: 1000
        """))
    node.wait("svc", lambda s: s["state"] == "running")
    assert node.cli("wait", "svc", "--running", "--timeout", "5").returncode == 0
    svc = node.wait("svc", lambda s: s["ready"] is True and "Liveness probe failed" in s["message"],
                    what="ready (tcp) while the liveness probe fails (503)")
    assert svc["live"] is None and svc["restarts"] == 0  # below failureThreshold: not acted upon yet
    result = node.cli("wait", "nosuchpod", "--ready", "--timeout", "0.5")
    assert result.returncode == 1 and "no state file" in result.stderr


def test_wait_ignores_states_of_an_older_manifest(node):
    node.write("app.yaml", pod("app", SLEEP))
    node.wait("app", lambda s: s["state"] == "running")
    node.stop()  # runner gone: the state file is stale from now on
    node.write("app.yaml", pod("app", SLEEP + "  # changed"))
    result = node.cli("wait", "app", "--running", "--timeout", "0.6")
    assert result.returncode == 1
    node.start()


def test_invalid_manifests(node):
    node.write("broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: broken\n")
    node.write("deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: deploy}\n")
    node.write("nocmd.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: nocmd}\nspec:\n  containers:\n"
                             "  - {name: c, image: x}\n")
    node.write("badmount.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: badmount}\nspec:\n  containers:\n"
                                "  - name: c\n    image: x\n    command: [sleep, '1000']\n"
                                "    volumeMounts: [{name: nope, mountPath: /x}]\n")
    broken = node.wait("broken", lambda s: s["state"] == "invalid-manifest")
    assert "couldn't parse as pod(yaml:" in broken["message"]
    deploy = node.wait("deploy", lambda s: s["state"] == "invalid-manifest")
    assert 'no kind "Deployment"' in deploy["message"]
    assert "command is empty" in node.wait("nocmd", lambda s: s["state"] == "invalid-manifest")["message"]
    assert "volumeMounts[0].name: Not found" in node.wait("badmount",
                                                          lambda s: s["state"] == "invalid-manifest")["message"]


def test_running_pod_whose_manifest_becomes_invalid_is_stopped(node):
    node.write("app.yaml", pod("app", SLEEP))
    state = node.wait("app", lambda s: s["state"] == "running")
    node.write("app.yaml", "apiVersion: v1\nkind: Pod\nmetadata: [oops\n")
    invalid = node.wait("app", lambda s: s["state"] == "invalid-manifest")
    assert invalid["pid"] is None and "couldn't parse" in invalid["message"]
    assert not alive(state["pid"])


def test_dotfiles_ignored_backup_files_read_duplicates_filtered(node):
    node.write(".hidden.yaml", pod("hidden", SLEEP))
    node.write("app.yaml", pod("app", SLEEP))
    node.write("app.yaml.bak", pod("app", SLEEP + "  # the backup"))       # same metadata.name: ignored
    node.write("other.yaml.orig", pod("other", SLEEP))                     # read, like the kubelet does
    app = node.wait("app", lambda s: s["state"] == "running" and "duplicate" in s["message"])
    assert app["manifest"].endswith("/app.yaml")
    assert "app.yaml.bak ignored" in app["message"]
    node.wait("other", lambda s: s["state"] == "running")
    time.sleep(0.6)
    assert node.state("hidden") is None
    running = [s for s in json.loads(node.cli("status", "--json").stdout) if s["state"] == "running"]
    assert sorted(s["name"] for s in running) == ["app", "other"]


def test_host_path_type_check(node, tmp_path):
    missing = tmp_path / "later"
    node.write("app.yaml", pod("app", SLEEP, volumes=f"""\
    volumeMounts:
    - {{name: d, mountPath: /d}}
  volumes:
  - name: d
    hostPath: {{path: {missing}, type: Directory}}
"""))
    waiting = node.wait("app", lambda s: "MountVolume.SetUp failed" in (s["message"] or ""))
    assert waiting["state"] == "stopped" and waiting["pid"] is None
    assert "hostPath type check failed" in waiting["message"]
    missing.mkdir()
    node.wait("app", lambda s: s["state"] == "running")


def test_executable_not_found(node):
    node.write("ghost.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: ghost}\nspec:\n  containers:\n"
                             "  - {name: c, image: x, command: [no-such-binary-here]}\n")
    state = node.wait("ghost", lambda s: s["restarts"] >= 1 and s["last_exit_code"] == 128)
    assert "executable file not found in $PATH" in state["last_exit_reason"]


def test_status_table(node):
    node.write("app.yaml", pod("app", SLEEP))
    node.wait("app", lambda s: s["state"] == "running")
    table = node.cli("status")
    assert table.returncode == 0
    header, row = table.stdout.splitlines()[:2]
    assert header.split()[:5] == ["NAME", "STATE", "READY", "LIVE", "RESTARTS"]
    assert row.split()[:3] == ["app", "running", "true"]
    single = json.loads(node.cli("status", "--json", "app").stdout)
    assert single["name"] == "app"
    assert node.cli("status", "nosuch").returncode == 1


def test_runner_stop_stops_pods(tmp_path):
    n = Node(tmp_path)
    n.start()
    n.write("app.yaml", pod("app", SLEEP))
    state = n.wait("app", lambda s: s["state"] == "running")
    assert n.stop() == 0
    assert not alive(state["pid"])
    final = n.state("app")
    assert final["state"] == "stopped" and final["message"] == "static-pod-runner stopped"
    assert final["last_exit_code"] == 143


def test_manifest_dir_from_kubelet_config(tmp_path):
    manifests = tmp_path / "elsewhere"
    manifests.mkdir()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                   f"staticPodPath: {manifests}\n")
    n = Node(tmp_path, extra_env={"TESTBED_KUBELET_CONFIG": str(cfg)})
    del n.env["TESTBED_MANIFEST_DIR"]
    (manifests / "app.yaml").write_text(pod("app", SLEEP))
    n.start()
    try:
        n.wait("app", lambda s: s["state"] == "running")
    finally:
        assert n.stop() == 0


def test_env_and_expansion(node):
    code = "import os, time\nprint('args', os.environ['POD_NAME'], os.environ['GREETING'], flush=True)\n" \
           "while True: time.sleep(1)"
    node.write("app.yaml", pod("app", code, extra_container="""\
        env:
        - {name: GREETING, value: hello-$(POD_NAME)}
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        """))
    state = node.wait("app", lambda s: s["last_log_lines"])
    assert state["last_log_lines"][0] == "args app hello-$(POD_NAME)"  # defined later: not expanded, as in k8s


@pytest.mark.parametrize("seconds, text", [(10, "10s"), (80, "1m20s"), (300, "5m0s")])
def test_go_duration_format(seconds, text):
    lib = os.path.dirname(RUNNER)
    if lib not in sys.path:  # static_pods/ next to the runner, imported as static_pod_runner.py imports it
        sys.path.append(lib)
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # the directory is an image build input
    try:
        pod = importlib.import_module("static_pods.pod")
    finally:
        sys.dont_write_bytecode = saved
    assert pod.format_duration(seconds) == text
