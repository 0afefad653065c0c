# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way this collection writes a file on a node: guarded, backed up, atomic.

Standard library only (runs on the nodes). :func:`write`:

1. refuses when the file changed since the caller read it (``expected_sha256``; ``None`` means "must not exist");
2. does nothing when content, mode and owner are already right; in check mode only says what would change;
3. copies the previous content into ``backup_dir`` (0700, files 0600, ``<name>.<UTC time>.bak``) and prunes that
   file's backups to the newest ``backup_keep``;
4. writes the new content to a temporary file in a staging directory the component does not read (by default
   ``.secure_cluster-staging`` beside the file's directory, so that the kubelet, which runs every file of the
   static pod directory, never sees a half-written pod), sets mode and owner on it, runs the optional
   ``validate`` on it, fsyncs it, and renames it over the file. Where the file's directory is another mount (a
   bind mount or a container volume), a rename cannot cross it: the file is then staged as a hidden file beside
   the target, which the kubelet's file source skips;
5. a failure anywhere before the rename leaves the old file as it was and removes the temporary file.
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import os
import stat
import tempfile

__all__ = ["OwnedFileError", "KEEP_ANY", "read", "write", "backup_name", "prune_backups", "staging_dir"]

# expected_sha256 when the caller has no expectation about the current content
KEEP_ANY = object()
STAGING_NAME = ".secure_cluster-staging"


class OwnedFileError(ValueError):
    """A write refused before anything was changed."""


def read(path):
    """``{exists, path, content (bytes), sha256, mode ("0600"), uid, gid}``; ``exists`` False when absent."""
    try:
        info = os.stat(path)
    except OSError:
        return {"exists": False, "path": path}
    if not stat.S_ISREG(info.st_mode):
        raise OwnedFileError("%s is not a regular file" % path)
    with open(path, "rb") as handle:
        data = handle.read()
    return {"exists": True, "path": path, "content": data, "sha256": hashlib.sha256(data).hexdigest(),
            "mode": "%04o" % stat.S_IMODE(info.st_mode), "uid": info.st_uid, "gid": info.st_gid}


def backup_name(path, now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return "%s.%s.bak" % (os.path.basename(path), now.strftime("%Y%m%dT%H%M%S.%fZ"))


def prune_backups(backup_dir, path, keep):
    """Delete all but the newest ``keep`` (at least one) backups of ``path`` in ``backup_dir``; returns them."""
    prefix = os.path.basename(path) + "."
    try:
        names = sorted(n for n in os.listdir(backup_dir) if n.startswith(prefix) and n.endswith(".bak")
                       and n[len(prefix):-len(".bak")][:1].isdigit())
    except OSError:
        return []
    removed = []
    for name in names[:max(0, len(names) - max(1, int(keep)))]:
        os.unlink(os.path.join(backup_dir, name))
        removed.append(os.path.join(backup_dir, name))
    return removed


def staging_dir(path):
    """Where the temporary file of ``path`` is written: beside the file's directory, not in it."""
    directory = os.path.dirname(os.path.abspath(path))
    parent = os.path.dirname(directory)
    if parent == directory:  # a file in /
        return os.path.join(directory, STAGING_NAME)
    return os.path.join(parent, STAGING_NAME)


def _fsync_dir(directory):
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _write_backup(backup_dir, path, data, keep):
    if not os.path.isdir(backup_dir):
        os.makedirs(backup_dir, 0o700)
    os.chmod(backup_dir, 0o700)
    backup_path = os.path.join(backup_dir, backup_name(path))
    fd = os.open(backup_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    prune_backups(backup_dir, path, keep)
    return backup_path


def _staged(path, data, mode, uid, gid, where):
    """A temporary file in ``where`` (created 0700 when missing) with ``data``, mode and owner set, synced."""
    if not os.path.isdir(where):
        os.makedirs(where, 0o700)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=where)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if os.geteuid() == 0:
            os.chown(tmp, uid, gid)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return tmp


def _same_file_system(staging, directory):
    try:
        return os.stat(staging).st_dev == os.stat(directory).st_dev
    except OSError:
        return os.stat(os.path.dirname(staging.rstrip("/")) or "/").st_dev == os.stat(directory).st_dev


def write(path, content, mode=None, uid=None, gid=None, expected_sha256=KEEP_ANY, backup_dir=None, backup_keep=5,
          validate=None, check_mode=False, tmp_dir=None):
    """Make ``path`` hold ``content`` (str or bytes) with ``mode`` (int) and ``uid``/``gid``.

    ``mode``/``uid``/``gid`` None keep the current file's (0600 root:root for a new file). ``backup_dir``: None
    for no backup; it must not be the file's own directory's descendant when that directory is read whole (the
    caller checks that: see static_pod). ``validate``: called with the temporary file's path before the rename;
    it returns an error text to refuse the write, or None. ``tmp_dir``: the staging directory (default
    :func:`staging_dir`).

    Returns ``{changed, content_changed, attributes_changed, backup_path, before_sha256, sha256, mode}``.
    Raises :class:`OwnedFileError` (nothing written) or OSError.
    """
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    path = os.path.abspath(path)
    current = read(path)
    if expected_sha256 is not KEEP_ANY and current.get("sha256") != expected_sha256:
        raise OwnedFileError("%s changed on the node since it was read; nothing written, run again" % path)
    if current["exists"]:
        mode = int(current["mode"], 8) if mode is None else mode
        uid = current["uid"] if uid is None else uid
        gid = current["gid"] if gid is None else gid
    else:
        mode = 0o600 if mode is None else mode
        uid = 0 if uid is None else uid
        gid = 0 if gid is None else gid
    content_changed = not current["exists"] or current["content"] != data
    attributes_changed = current["exists"] and (int(current["mode"], 8) != mode
                                                or (os.geteuid() == 0 and (current["uid"], current["gid"]) != (uid, gid)))
    result = {"changed": bool(content_changed or attributes_changed), "content_changed": content_changed,
              "attributes_changed": bool(attributes_changed), "backup_path": None,
              "before_sha256": current.get("sha256"), "sha256": hashlib.sha256(data).hexdigest(),
              "mode": "%04o" % mode}
    if not result["changed"] or check_mode:
        return result
    if not content_changed:
        os.chmod(path, mode)
        if os.geteuid() == 0:
            os.chown(path, uid, gid)
        return result
    directory = os.path.dirname(path)
    staging = tmp_dir or staging_dir(path)
    tmp = _staged(path, data, mode, uid, gid, staging if _same_file_system(staging, directory) else directory)
    try:
        if validate is not None:
            problem = validate(tmp)
            if problem:
                raise OwnedFileError("%s was not written: %s" % (path, problem))
        if current["exists"] and backup_dir:
            result["backup_path"] = _write_backup(os.path.abspath(backup_dir), path, current["content"], backup_keep)
        try:
            os.rename(tmp, path)
        except OSError as exc:
            if exc.errno != errno.EXDEV or os.path.dirname(tmp) == directory:
                raise
            # another mount of the same file system (a bind mount, a container volume): st_dev is the same but
            # rename(2) refuses; a hidden file beside the target is always reachable
            os.unlink(tmp)
            tmp = _staged(path, data, mode, uid, gid, directory)
            os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(os.path.dirname(path))
    return result
