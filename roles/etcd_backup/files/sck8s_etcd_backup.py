# Copyright: secure_cluster.k8s maintainers (@secure-cluster)
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Take one verified, encrypted etcd snapshot (run by sck8s-etcd-backup.service through the sck8s-etcd-backup
wrapper, which calls it with the node's python3).

Steps, each fatal on failure (non-zero exit, one ERROR line on stderr for the journal): refuse when the backup
directory is not 0700 or has less free space than the threshold; `etcdctl snapshot save` over TLS from the local
member; verify it (`etcdutl snapshot status` when installed, else `etcdctl snapshot status`); sha256; encrypt with
`gpg --symmetric` (passphrase read by gpg from a root-only file, never on a command line); decrypt the result to a
pipe and compare its sha256; write the JSON manifest; overwrite and remove the plaintext; apply retention.
Standard library only: it runs on the etcd nodes.
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

MANIFEST_VERSION = 1
SUFFIX = ".db.gpg"
PARTIAL = ".partial"
CHUNK = 1024 * 1024

DEFAULTS = {
    "backup_dir": "/var/backups/etcd",
    "prefix": "",
    "etcdctl": "etcdctl",
    "etcdutl": "etcdutl",
    "gpg": "gpg",
    "gpgconf": "gpgconf",
    "endpoint": "https://127.0.0.1:2379",
    "cacert": "/etc/kubernetes/pki/etcd/ca.crt",
    "cert": "/etc/kubernetes/pki/etcd/server.crt",
    "key": "/etc/kubernetes/pki/etcd/server.key",
    "passphrase_file": "/etc/secure_cluster/etcd-backup/passphrase",
    "cipher": "AES256",
    "min_free_mb": 1024,
    "keep": 7,
    "max_age_days": 0,
    "timeout": 300,
    "verify_decrypt": True,
}


class BackupError(Exception):
    """A refusal or failure; the message is the journal line."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def log(message):
    print("etcd-backup: %s" % message, flush=True)


def load_config(path):
    config = dict(DEFAULTS)
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            raise BackupError("cannot read the configuration %s: %s" % (path, exc), 2) from exc
        unknown = sorted(set(data) - set(DEFAULTS))
        if unknown:
            raise BackupError("unknown keys in %s: %s" % (path, ", ".join(unknown)), 2)
        config.update(data)
    if not config["prefix"]:
        config["prefix"] = "etcd-%s" % socket.gethostname().split(".")[0]
    return config


def check_dir(path):
    """The directory must exist, be a real directory owned by us, and be mode 0700."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise BackupError("backup directory %s: %s" % (path, exc.strerror), 2) from exc
    if not stat.S_ISDIR(info.st_mode):
        raise BackupError("backup directory %s is not a directory" % path, 2)
    mode = stat.S_IMODE(info.st_mode)
    if mode != 0o700 or info.st_uid != os.geteuid():
        raise BackupError("refusing to write to %s: mode %04o owner uid %d, need 0700 owned by uid %d"
                          % (path, mode, info.st_uid, os.geteuid()), 2)


def check_free_space(path, min_free_mb, usage=shutil.disk_usage):
    free_mb = usage(path).free // (1024 * 1024)
    if free_mb < min_free_mb:
        raise BackupError("refusing to run: %d MiB free in %s, below the threshold of %d MiB"
                          % (free_mb, path, min_free_mb), 3)
    return free_mb


def run(argv, timeout, what, stdin=None, stdout=subprocess.PIPE):
    try:
        proc = subprocess.run(argv, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, timeout=timeout,
                              check=False)
    except FileNotFoundError as exc:
        raise BackupError("%s: %s not found" % (what, argv[0])) from exc
    except subprocess.TimeoutExpired as exc:
        raise BackupError("%s: timed out after %ss" % (what, timeout)) from exc
    if proc.returncode != 0:
        err = (proc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise BackupError("%s failed (exit %d): %s" % (what, proc.returncode, " | ".join(err[-5:]) or "no output"))
    return proc


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_status(text):
    """The JSON of `snapshot status -w json` (etcdctl 3.4, etcdutl 3.5+): hash, revision, totalKey, totalSize."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BackupError("snapshot status printed no JSON: %r" % text[:200]) from exc
    missing = [k for k in ("hash", "revision", "totalKey", "totalSize") if k not in data]
    if missing:
        raise BackupError("snapshot status lacks %s: %r" % (", ".join(missing), data))
    # revision 0 is a store that was never written to (valid); a zero size is not a bolt database
    if int(data["revision"]) < 0 or int(data["totalSize"]) < 1:
        raise BackupError("snapshot status reports an empty snapshot: %r" % data)
    return {"hash": int(data["hash"]), "revision": int(data["revision"]),
            "total_key": int(data["totalKey"]), "total_size": int(data["totalSize"])}


def snapshot_status(config, path):
    etcdutl = shutil.which(config["etcdutl"]) if config["etcdutl"] else None
    if etcdutl:
        argv, tool = [etcdutl, "snapshot", "status", path, "-w", "json"], "etcdutl"
    else:
        argv, tool = [config["etcdctl"], "snapshot", "status", path, "-w", "json"], "etcdctl"
    proc = run(argv, config["timeout"], "%s snapshot status" % tool)
    return parse_status(proc.stdout.decode("utf-8", "replace").strip()), tool


def gpg_base(config, homedir):
    # loopback pinentry: the passphrase comes from the file, gpg never asks.
    return [config["gpg"], "--homedir", homedir, "--batch", "--yes", "--no-tty", "--quiet",
            "--pinentry-mode", "loopback", "--passphrase-file", config["passphrase_file"]]


def decrypt_sha256(config, homedir, path):
    """sha256 of what the encrypted file decrypts to, read from a pipe (no second plaintext copy)."""
    argv = gpg_base(config, homedir) + ["--decrypt", "--output", "-", path]
    digest = hashlib.sha256()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        for block in iter(lambda: proc.stdout.read(CHUNK), b""):
            digest.update(block)
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        code = proc.wait(timeout=config["timeout"])
    if code != 0:
        raise BackupError("decrypting %s back failed (exit %d): %s" % (path, code, err))
    return digest.hexdigest()


def agent_pids(homedir, proc="/proc"):
    """PIDs of gpg-agents started for this homedir (their command line names it)."""
    found = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, "cmdline"), "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"gpg-agent" and os.fsencode(homedir) in argv:
            found.append(int(entry))
    return found


def stop_agents(config, homedir, wait=5.0):
    """Stop the gpg-agent of this run. A leftover agent would keep the oneshot unit in stop-sigterm (gpg-agent
    waits for its connections on SIGTERM) until systemd times out and marks the run failed."""
    subprocess.run([config["gpgconf"], "--homedir", homedir, "--kill", "gpg-agent"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    deadline = time.monotonic() + wait
    while agent_pids(homedir) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in agent_pids(homedir):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def secure_remove(path):
    """Overwrite with zeros, flush to disk, unlink. On copy-on-write or journaling data filesystems the old
    blocks may survive; the backup directory is root-only 0700 either way."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return
    with open(path, "r+b", buffering=0) as handle:
        zeros = bytes(CHUNK)
        left = size
        while left > 0:
            left -= handle.write(zeros[:min(CHUNK, left)])
        os.fsync(handle.fileno())
    os.unlink(path)


def unique_name(directory, prefix, now):
    base = "%s-%s" % (prefix, now.strftime("%Y%m%dT%H%M%SZ"))
    name, n = base, 0
    while os.path.exists(os.path.join(directory, name + SUFFIX)) or \
            os.path.exists(os.path.join(directory, name + ".json")):
        n += 1
        name = "%s-%d" % (base, n)
    return name


def list_backups(directory, prefix):
    """(name, created datetime) of complete backups (encrypted file and manifest), oldest first."""
    found = []
    for entry in os.listdir(directory):
        if not (entry.startswith(prefix + "-") and entry.endswith(".json")):
            continue
        name = entry[:-len(".json")]
        if not os.path.exists(os.path.join(directory, name + SUFFIX)):
            continue
        try:
            with open(os.path.join(directory, entry), encoding="utf-8") as handle:
                created = datetime.datetime.strptime(json.load(handle)["created"], "%Y-%m-%dT%H:%M:%SZ")
        except (OSError, ValueError, KeyError, TypeError):
            continue
        found.append((name, created.replace(tzinfo=datetime.timezone.utc)))
    return sorted(found, key=lambda item: (item[1], item[0]))


def select_expired(backups, keep, max_age_days, now, protect):
    """Names to delete: beyond the newest `keep` (0: no count limit) or older than `max_age_days` (0: no age
    limit). `protect` (the backup just taken) is never selected."""
    newest_first = list(reversed(backups))
    expired = []
    for index, (name, created) in enumerate(newest_first):
        if name == protect:
            continue
        too_many = keep > 0 and index >= keep
        too_old = max_age_days > 0 and now - created > datetime.timedelta(days=max_age_days)
        if too_many or too_old:
            expired.append(name)
    return expired


def cleanup_partials(directory, prefix):
    for entry in os.listdir(directory):
        if entry.startswith("." + prefix + "-") and entry.endswith(PARTIAL):
            log("removing %s left by an interrupted run" % entry)
            secure_remove(os.path.join(directory, entry))


def write_json(path, data):
    tmp = path + PARTIAL
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(tmp, path)


def backup(config, now=None):
    directory = config["backup_dir"]
    check_dir(directory)
    if not os.path.isfile(config["passphrase_file"]):
        raise BackupError("passphrase file %s is missing" % config["passphrase_file"], 2)
    for key in ("cacert", "cert", "key"):
        if not os.path.isfile(config[key]):
            raise BackupError("%s file %s is missing" % (key, config[key]), 2)
    free_mb = check_free_space(directory, int(config["min_free_mb"]))

    with open(os.path.join(directory, ".lock"), "w", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise BackupError("another backup is running (lock %s held)" % lock.name) from exc
        cleanup_partials(directory, config["prefix"])
        now = now or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        name = unique_name(directory, config["prefix"], now)
        plain = os.path.join(directory, ".%s.db%s" % (name, PARTIAL))
        enc_tmp = os.path.join(directory, ".%s%s%s" % (name, SUFFIX, PARTIAL))
        final = os.path.join(directory, name + SUFFIX)
        homedir = tempfile.mkdtemp(prefix=".gnupg-", dir=directory)
        try:
            log("snapshot of %s into %s (%d MiB free)" % (config["endpoint"], directory, free_mb))
            env_argv = [config["etcdctl"], "--endpoints", config["endpoint"], "--cacert", config["cacert"],
                        "--cert", config["cert"], "--key", config["key"],
                        "--command-timeout", "%ds" % int(config["timeout"])]
            os.environ["ETCDCTL_API"] = "3"
            run(env_argv + ["snapshot", "save", plain], config["timeout"], "etcdctl snapshot save")
            status, tool = snapshot_status(config, plain)
            size = os.path.getsize(plain)
            digest = sha256_file(plain)
            log("verified with %s: revision %d, hash %d, %d keys, %d bytes, sha256 %s"
                % (tool, status["revision"], status["hash"], status["total_key"], size, digest))
            run(gpg_base(config, homedir) + ["--symmetric", "--cipher-algo", config["cipher"],
                                             "--output", enc_tmp, plain],
                config["timeout"], "gpg --symmetric")
            if config["verify_decrypt"] and decrypt_sha256(config, homedir, enc_tmp) != digest:
                raise BackupError("the encrypted snapshot does not decrypt to the snapshot taken")
            os.chmod(enc_tmp, 0o600)
            manifest = {
                "version": MANIFEST_VERSION,
                "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "node": socket.gethostname(),
                "endpoint": config["endpoint"],
                "file": name + SUFFIX,
                "size": size,
                "sha256": digest,
                "revision": status["revision"],
                "hash": status["hash"],
                "total_key": status["total_key"],
                "total_size": status["total_size"],
                "verified_with": tool,
                "encryption": {"tool": "gpg", "mode": "symmetric", "cipher": config["cipher"],
                               "size": os.path.getsize(enc_tmp), "sha256": sha256_file(enc_tmp)},
            }
            os.rename(enc_tmp, final)
            write_json(os.path.join(directory, name + ".json"), manifest)
        except BaseException:
            for path in (enc_tmp, plain):
                if os.path.exists(path):
                    secure_remove(path)
            raise
        finally:
            if os.path.exists(plain):
                secure_remove(plain)
            stop_agents(config, homedir)
            shutil.rmtree(homedir, ignore_errors=True)
        log("wrote %s and %s.json" % (final, name))

        expired = select_expired(list_backups(directory, config["prefix"]), int(config["keep"]),
                                 int(config["max_age_days"]), now, name)
        for old in expired:
            for path in (os.path.join(directory, old + SUFFIX), os.path.join(directory, old + ".json")):
                if os.path.exists(path):
                    os.unlink(path)
            log("retention removed %s" % old)
        return manifest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="/etc/secure_cluster/etcd-backup/config.json")
    args = parser.parse_args(argv)
    os.umask(0o077)
    try:
        manifest = backup(load_config(args.config))
    except BackupError as exc:
        print("etcd-backup: ERROR: %s" % exc, file=sys.stderr, flush=True)
        return exc.code
    print(json.dumps(manifest, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
