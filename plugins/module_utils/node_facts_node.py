# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node as node_facts reads it: files under ``root`` (``/`` on a real node, a fake tree in unit tests), their
stat facts and named file sets, and the errors met on the way.

Standard library only; shipped with the ``node_facts`` module. The component collectors (``node_facts_*``) read
the node through one :class:`NodeReader` so that every path reported back is the node's own path, every stat is
taken once, and a missing or unreadable file is recorded, never raised. Nothing here writes.
"""


from __future__ import annotations

import os
import socket
import stat as stat_mod


MAX_TEXT = 1024 * 1024


class NodeReader(object):
    """Read-only access to the node under ``root``; ``run_command(argv) -> (rc, stdout, stderr)`` is optional.

    ``errors`` (path and message), ``stats`` (node path to stat facts) and ``file_sets`` (set name to node paths)
    fill up as the collectors read; the node facts report them as they are, in the order they were met."""

    def __init__(self, root="/", run_command=None, max_text=MAX_TEXT):
        self.root = root or "/"
        self.run_command = run_command
        self.max_text = max_text
        self.errors = []
        self.stats = {}
        self.file_sets = {}
        self._users = None
        self._groups = None

    # -- path helpers ---------------------------------------------------------------------------------------
    def host(self, path):
        """The path to open for node path ``path``."""
        if self.root in ("/", ""):
            return path
        return os.path.join(self.root, str(path).lstrip("/"))

    def exists(self, path):
        return os.path.exists(self.host(path))

    def isdir(self, path):
        return os.path.isdir(self.host(path))

    def listdir(self, path):
        try:
            return sorted(os.listdir(self.host(path)))
        except OSError:
            return []

    def realpath(self, path):
        """Resolve symlinks inside ``root`` (for de-duplicating /lib vs /usr/lib); returns a node path."""
        real = os.path.realpath(self.host(path))
        if self.root in ("/", ""):
            return real
        root_real = os.path.realpath(self.root)
        if real == root_real:
            return "/"
        if real.startswith(root_real + os.sep):
            return "/" + real[len(root_real) + 1:]
        return path

    def read_text(self, path, record_error=True, limit=None):
        """File text or ``None``; errors other than 'does not exist' are recorded."""
        limit = self.max_text if limit is None else limit
        try:
            with open(self.host(path), "rb") as handle:
                data = handle.read(limit + 1)
        except (IOError, OSError) as exc:
            if record_error and getattr(exc, "errno", None) not in (2, 20):
                self.error(path, exc)
            return None
        if len(data) > limit:
            self.error(path, "file larger than %d bytes; truncated" % limit)
            data = data[:limit]
        return data.decode("utf-8", "replace")

    def read_bytes(self, path):
        try:
            with open(self.host(path), "rb") as handle:
                return handle.read(self.max_text)
        except (IOError, OSError):
            return None

    def error(self, path, exc):
        msg = exc.strerror if hasattr(exc, "strerror") and exc.strerror else str(exc)
        self.errors.append({"path": path, "error": msg})

    # -- users / groups -------------------------------------------------------------------------------------
    def _load_names(self, path):
        names = {}
        text = self.read_text(path, record_error=False)
        if not text:
            return names
        for line in text.splitlines():
            parts = line.split(":")
            if len(parts) >= 3 and parts[2].isdigit():
                names.setdefault(int(parts[2]), parts[0])
        return names

    def user_name(self, uid):
        if self._users is None:
            self._users = self._load_names("/etc/passwd")
        if uid in self._users:
            return self._users[uid]
        if self.root in ("/", ""):
            try:
                import pwd
                return pwd.getpwuid(uid).pw_name
            except (ImportError, KeyError):
                pass
        return str(uid)

    def group_name(self, gid):
        if self._groups is None:
            self._groups = self._load_names("/etc/group")
        if gid in self._groups:
            return self._groups[gid]
        if self.root in ("/", ""):
            try:
                import grp
                return grp.getgrgid(gid).gr_name
            except (ImportError, KeyError):
                pass
        return str(gid)

    # -- stat -----------------------------------------------------------------------------------------------
    def stat(self, path):
        """Record and return stat facts for node path ``path`` (symlinks are followed, as the kernel does)."""
        if path is None:
            return None
        if path in self.stats:
            return self.stats[path]
        host = self.host(path)
        info = {"exists": False}
        try:
            lst = os.lstat(host)
        except OSError as exc:
            if exc.errno not in (2, 20):
                info["error"] = exc.strerror or str(exc)
            self.stats[path] = info
            return info
        is_link = stat_mod.S_ISLNK(lst.st_mode)
        try:
            st = os.stat(host) if is_link else lst
        except OSError as exc:
            info.update({"exists": False, "link": True, "error": "dangling symlink: %s" % (exc.strerror or exc)})
            self.stats[path] = info
            return info
        if stat_mod.S_ISDIR(st.st_mode):
            kind = "directory"
        elif stat_mod.S_ISREG(st.st_mode):
            kind = "file"
        elif stat_mod.S_ISSOCK(st.st_mode):
            kind = "socket"
        else:
            kind = "other"
        info = {
            "exists": True,
            "type": kind,
            "mode": "%04o" % stat_mod.S_IMODE(st.st_mode),
            "uid": st.st_uid,
            "gid": st.st_gid,
            "owner": self.user_name(st.st_uid),
            "group": self.group_name(st.st_gid),
            "size": st.st_size,
            "link": is_link,
        }
        if is_link:
            try:
                info["link_target"] = os.readlink(host)
            except OSError:
                pass
        self.stats[path] = info
        return info

    def add_set(self, name, paths, stat_them=True):
        paths = [p for p in paths if p]
        seen = []
        for path in paths:
            if path not in seen:
                seen.append(path)
        self.file_sets[name] = seen
        if stat_them:
            for path in seen:
                self.stat(path)
        return seen

    def walk(self, top):
        """``find top``: top itself, then every entry below it (sorted, symlinks not followed)."""
        out = []
        if not self.exists(top):
            return out
        out.append(top)
        host_top = self.host(top)
        for dirpath, dirnames, filenames in os.walk(host_top):
            dirnames.sort()
            rel = os.path.relpath(dirpath, host_top)
            base = top if rel == "." else os.path.join(top, rel)
            for name in dirnames + sorted(filenames):
                out.append(os.path.join(base, name))
        return out

    def proc_path(self, path, procs):
        """Find ``path`` on the host, else inside the mount namespace of one of ``procs`` (a container)."""
        if not path:
            return None, None
        if self.exists(path):
            return path, "host"
        for proc in procs or []:
            candidate = "/proc/%s/root%s" % (proc["pid"], path if path.startswith("/") else "/" + path)
            if self.exists(candidate):
                return candidate, "process_root"
        return path, "missing"

    def hostname(self):
        text = self.read_text("/etc/hostname", record_error=False) if self.root not in ("/", "") else None
        if text and text.strip():
            return text.strip()
        return socket.gethostname()
