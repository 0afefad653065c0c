"""What the runner's parts share: the runner's TESTBED_* settings and directories, its log lines, atomic JSON
state writes and file hashes.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import sys

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
