"""The pod's view of the file system (TESTBED_MOUNTS) and the PEM, certificate and key checks done on the
files that flags name.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import ssl
import subprocess
import tempfile

from .core import enoent, klogf, StandinError

# --------------------------------------------------------------------------------------------------------------
# the pod's view of the file system (TESTBED_MOUNTS)
# --------------------------------------------------------------------------------------------------------------


class Mounts:
    """Maps paths as the containerised binary sees them to host paths; None when the path is invisible."""

    def __init__(self, raw=None):
        if raw is None:
            raw = os.environ.get("TESTBED_MOUNTS")
        self.active = raw is not None
        self.items = []
        if raw:
            try:
                data = json.loads(raw)
            except ValueError as exc:
                raise StandinError(f"testbed: TESTBED_MOUNTS is not valid JSON: {exc}") from None
            for m in data or []:
                mount_path = os.path.normpath("/" + str(m.get("mountPath", "")).lstrip("/"))
                host_path = os.path.normpath(str(m.get("hostPath", "")))
                self.items.append((mount_path, host_path, bool(m.get("readOnly", False))))
        self.items.sort(key=lambda item: len(item[0]), reverse=True)

    def _map(self, path):
        if not self.active:
            return path, False
        for mount_path, host_path, read_only in self.items:
            if path == mount_path or path.startswith(mount_path.rstrip("/") + "/"):
                rel = path[len(mount_path):].lstrip("/")
                return (os.path.join(host_path, rel) if rel else host_path), read_only
        return None

    def resolve(self, path):
        """Container path -> (host path, read_only) or None, following symlinks inside the container's view."""
        if not self.active:
            return os.path.abspath(path), False  # a host process: relative to its working directory
        path = os.path.normpath(os.path.join("/", path))  # the container's working directory is /
        parts = [p for p in path.split("/") if p]
        current = "/"
        hops = 0
        while parts:
            current = os.path.join(current, parts.pop(0))
            mapped = self._map(current)
            if mapped is None:
                continue  # the container's own directories (e.g. /etc above a mount): no symlinks to follow
            host, dummy = mapped
            if os.path.islink(host):
                hops += 1
                if hops > 40:
                    return None
                target = os.readlink(host)
                base = os.path.dirname(current)
                current_target = os.path.normpath(os.path.join(base, target))
                parts = [p for p in current_target.split("/") if p] + parts
                current = "/"
        return self._map(os.path.normpath(current))

    def describe(self):
        if not self.active:
            return "host view (no TESTBED_MOUNTS)"
        return ", ".join(f"{m}{' (ro)' if ro else ''}" for m, dummy, ro in self.items) or "no mounts"


class Files:
    """Reads files as the real binary would, from inside the pod's mounts; errors carry Go's wording."""

    def __init__(self, mounts):
        self.mounts = mounts

    def host_path(self, path, op="open"):
        if not path:
            raise StandinError(f"{op} : no such file or directory")
        resolved = self.mounts.resolve(path)
        if resolved is None:  # invisible inside the container: the same error as a missing file
            if os.path.exists(path):
                klogf("I", "testbed.go:1", f"testbed: {path} exists on the host but no volumeMount of the pod "
                                           f"covers it (mounts: {self.mounts.describe()})")
            raise StandinError(enoent(op, path))
        host, dummy = resolved
        if not os.path.lexists(host):
            raise StandinError(enoent(op, path))
        return host

    def read(self, path, op="open"):
        host = self.host_path(path, op)
        try:
            with open(host, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            raise StandinError(enoent(op, path)) from None
        except PermissionError:
            raise StandinError(f"{op} {path}: permission denied") from None
        except IsADirectoryError:
            raise StandinError(f"read {path}: is a directory") from None
        except OSError as exc:
            raise StandinError(f"{op} {path}: {exc.strerror.lower() if exc.strerror else exc}") from None

    def exists(self, path):
        resolved = self.mounts.resolve(path) if path else None
        return bool(resolved) and os.path.exists(resolved[0])


# --------------------------------------------------------------------------------------------------------------
# PEM / certificate / key checks
# --------------------------------------------------------------------------------------------------------------
_PEM_RE = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.S)


def pem_blocks(data):
    blocks = []
    for match in _PEM_RE.finditer(data):
        body = b"".join(line for line in match.group(2).splitlines() if b":" not in line)
        try:
            der = base64.b64decode(body, validate=False)
        except (binascii.Error, ValueError):
            der = b""
        blocks.append((match.group(1).decode(), der, match.group(0)))
    return blocks


def check_ca_bundle(data):
    """certutil.NewPool / ParseCertsPEM."""
    certs = [b for b in pem_blocks(data) if b[0] == "CERTIFICATE"]
    if not certs:
        raise ValueError("data does not contain any valid RSA or ECDSA certificates")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for dummy, dummy, pem in certs:
        try:
            ctx.load_verify_locations(cadata=pem.decode())
        except (ssl.SSLError, ValueError):
            raise ValueError("x509: malformed certificate") from None
    return ctx


def _openssl(args, data):
    try:
        proc = subprocess.run(["openssl"] + args, input=data, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StandinError(f"testbed: cannot run openssl: {exc}") from None
    return proc.returncode == 0


def check_private_key(data):
    """keyutil.ParsePrivateKeyPEM."""
    blocks = [b for b in pem_blocks(data) if b[0].endswith("PRIVATE KEY")]
    if not blocks or not _openssl(["pkey", "-noout"], blocks[0][2]):
        raise ValueError("data does not contain a valid RSA or ECDSA private key")


def check_public_keys(data):
    """keyutil.ParsePublicKeysPEM (public keys, certificates or private keys)."""
    for typ, dummy, pem in pem_blocks(data):
        if typ in ("PUBLIC KEY", "RSA PUBLIC KEY") and _openssl(["pkey", "-pubin", "-noout"], pem):
            return
        if typ.endswith("PRIVATE KEY") and _openssl(["pkey", "-noout"], pem):
            return
        if typ == "CERTIFICATE" and _openssl(["x509", "-noout"], pem):
            return
    raise ValueError("data does not contain any valid RSA or ECDSA public keys")


def check_key_pair(cert_data, key_data, cert_host, key_host):
    """tls.X509KeyPair; returns nothing, raises ValueError with Go's message."""
    cert_blocks = pem_blocks(cert_data)
    if not cert_blocks:
        raise ValueError("tls: failed to find any PEM data in certificate input")
    if not any(b[0] == "CERTIFICATE" for b in cert_blocks):
        skipped = "[" + " ".join(b[0] for b in cert_blocks) + "]"
        raise ValueError("tls: failed to find \"CERTIFICATE\" PEM block in certificate input after skipping "
                         f"PEM blocks of the following types: {skipped}")
    key_blocks = pem_blocks(key_data)
    if not key_blocks:
        raise ValueError("tls: failed to find any PEM data in key input")
    if not any(b[0] == "PRIVATE KEY" or b[0].endswith(" PRIVATE KEY") for b in key_blocks):
        if any(b[0] == "CERTIFICATE" for b in key_blocks):
            raise ValueError("tls: found a certificate rather than a key in the PEM for the private key")
        skipped = "[" + " ".join(b[0] for b in key_blocks) + "]"
        raise ValueError("tls: failed to find PEM block with type ending in \"PRIVATE KEY\" in key input after "
                         f"skipping PEM blocks of the following types: {skipped}")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(cert_host, key_host)
    except ssl.SSLError as exc:
        text = str(exc)
        if "KEY_VALUES_MISMATCH" in text or "key values mismatch" in text:
            raise ValueError("tls: private key does not match public key") from None
        if "PEM" in text and "key" in text.lower():
            raise ValueError("tls: failed to parse private key") from None
        raise ValueError(f"x509: malformed certificate ({text})") from None


class _DataFiles:
    """Temp files for *-data fields of kubeconfigs (ssl needs paths)."""

    def __init__(self):
        self.dir = None

    def write(self, name, data):
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="standin-")
        path = os.path.join(self.dir, name)
        with open(path, "wb") as handle:
            handle.write(data)
        os.chmod(path, 0o600)
        return path

    def cleanup(self):
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


DATA_FILES = _DataFiles()


def load_pair(files, cert_path, key_path, wrap):
    """Open and check a cert/key pair named by flags; `wrap` formats the error like the component does."""
    try:
        cert_data = files.read(cert_path)
        key_data = files.read(key_path)
    except StandinError as exc:
        raise StandinError(wrap(exc.message)) from None
    try:
        check_key_pair(cert_data, key_data, files.host_path(cert_path), files.host_path(key_path))
    except ValueError as exc:
        raise StandinError(wrap(str(exc))) from None
    return files.host_path(cert_path), files.host_path(key_path)


def load_ca(files, path, wrap):
    try:
        data = files.read(path)
    except StandinError as exc:
        raise StandinError(wrap(exc.message)) from None
    try:
        check_ca_bundle(data)
    except ValueError as exc:
        raise StandinError(wrap(str(exc))) from None
    return files.host_path(path)
