# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only collection of everything the CIS Kubernetes Benchmark looks at on one node.

Standard library only; runs on the target inside the ``node_facts`` module. Every absolute path is read under
``root`` (``/`` on a real node, a fake tree in unit tests); the paths reported back are the node's own paths.
Nothing here writes, and a missing or unreadable file is reported, never raised.

Secrets stay on the node: kubeconfigs, keys and the encryption configuration are stat'ed but their text is not
returned (only the encryption provider names are). Of the API server's AuthorizationConfiguration only the
authorizers' types and names leave the node, of its AuthenticationConfiguration only the anonymous section's
``enabled`` and the number of its path conditions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import stat as stat_mod
import time

from ansible_collections.secure_cluster.k8s.plugins.module_utils.etcd_flags import (
    apply_env,
    parse_environ_bytes,
    public_env,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import (
    parse_argv,
    parse_cmdline_bytes,
    systemd_exec_argv,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.pod_mounts import resolve_mount

SCHEMA_VERSION = 1

# Executable basenames of argv[0] that identify each component.
COMPONENT_BINARIES = {
    "kube-apiserver": ("kube-apiserver",),
    "kube-controller-manager": ("kube-controller-manager",),
    "kube-scheduler": ("kube-scheduler",),
    "etcd": ("etcd",),
    "kubelet": ("kubelet",),
    "kube-proxy": ("kube-proxy",),
    "containerd": ("containerd",),
}

KUBERNETES_DIR = "/etc/kubernetes"
MANIFEST_DIR = "/etc/kubernetes/manifests"
PKI_DIR = "/etc/kubernetes/pki"
CNI_DIRS = ("/etc/cni/net.d",)
CNI_STATE_DIR = "/var/lib/cni/networks"
KUBELET_DEFAULT_CONFIG = "/var/lib/kubelet/config.yaml"
KUBELET_DEFAULT_KUBECONFIG = "/etc/kubernetes/kubelet.conf"
KUBELET_DEFAULT_CLIENT_CA = "/etc/kubernetes/pki/ca.crt"
KUBELET_ENV_FILES = ("/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet", "/etc/sysconfig/kubelet")
ETCD_DEFAULT_DATA_DIR = "/var/lib/etcd"
ETCD_SERVICE = "etcd.service"
CONTAINERD_DEFAULT_CONFIG = "/etc/containerd/config.toml"
CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
# systemd unit search path, highest priority first.
SYSTEMD_DIRS = (
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
)
KUBECONFIGS = {
    "admin": "/etc/kubernetes/admin.conf",
    "super-admin": "/etc/kubernetes/super-admin.conf",
    "controller-manager": "/etc/kubernetes/controller-manager.conf",
    "scheduler": "/etc/kubernetes/scheduler.conf",
    "kubelet": "/etc/kubernetes/kubelet.conf",
    "bootstrap-kubelet": "/etc/kubernetes/bootstrap-kubelet.conf",
}
# What `kubeadm upgrade` regenerates the node from (kube-system ConfigMap -> key), read so that the audit can say
# whether the next upgrade keeps what the node runs. admin.conf first; kubeadm's RBAC also lets every node's kubelet
# identity (kubelet.conf) get both ConfigMaps, which `kubeadm upgrade node` itself relies on.
KUBEADM_CONFIGMAPS = {"kubeadm-config": "ClusterConfiguration", "kubelet-config": "kubelet"}
KUBEADM_KUBECONFIGS = (KUBECONFIGS["admin"], KUBECONFIGS["kubelet"])
KUBECTL_PATHS = ("/usr/local/bin/kubectl", "/usr/bin/kubectl")
KUBECTL_TIMEOUT = "10s"
STATIC_POD_NAMES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
MANIFEST_SUFFIXES = (".yaml", ".yml", ".manifest", ".json")

DEFAULT_SYSCTLS = (
    # what kubelet --protect-kernel-defaults checks
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
    # networking the node needs / hardening
    "net.ipv4.ip_forward",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "net.ipv4.conf.all.send_redirects",
    "net.ipv4.conf.default.send_redirects",
    "net.ipv4.conf.all.accept_redirects",
    "net.ipv4.conf.default.accept_redirects",
    "net.ipv4.conf.all.accept_source_route",
    "net.ipv4.conf.default.accept_source_route",
    "kernel.kptr_restrict",
    "kernel.dmesg_restrict",
    "kernel.unprivileged_bpf_disabled",
    "fs.protected_hardlinks",
    "fs.protected_symlinks",
)

MAX_TEXT = 1024 * 1024
_VERSION_RE = re.compile(r"v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)")
# what `kubelet --version` / `kube-apiserver --version` print; an interpreter's --version must not match
_BINARY_VERSION_RE = re.compile(r"Kubernetes v(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)")


class Collector(object):
    """One collection run. ``run_command(argv) -> (rc, stdout, stderr)`` is optional (used for ``--version``)."""

    def __init__(self, root="/", run_command=None, sysctls=None, extra_paths=None, max_text=MAX_TEXT,
                 version_from_binaries=True, kubeadm_config=True):
        self.root = root or "/"
        self.kubeadm_config = kubeadm_config
        self.run_command = run_command
        self.sysctls = list(DEFAULT_SYSCTLS if sysctls is None else sysctls)
        self.extra_paths = list(extra_paths or [])
        self.max_text = max_text
        self.version_from_binaries = version_from_binaries
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

    # -- processes ------------------------------------------------------------------------------------------
    def processes(self):
        found = dict((name, []) for name in COMPONENT_BINARIES)
        by_basename = {}
        for comp, names in COMPONENT_BINARIES.items():
            for name in names:
                by_basename[name] = comp
        own = os.getpid() if self.root in ("/", "") else None
        for entry in self.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            if pid == own:
                continue
            argv = parse_cmdline_bytes(self.read_bytes("/proc/%s/cmdline" % entry))
            if not argv:
                continue
            comp = by_basename.get(os.path.basename(argv[0]))
            if comp is None:
                continue
            proc = {"pid": pid, "argv": argv}
            try:
                proc["exe"] = os.readlink(self.host("/proc/%s/exe" % entry))
            except OSError:
                proc["exe"] = None
            if comp == "etcd":
                # etcd reads every ETCD_<FLAG> variable as --<flag>; only those leave the node
                data = self.read_bytes("/proc/%s/environ" % entry)
                proc["environ"] = None if data is None else public_env(parse_environ_bytes(data))
            found[comp].append(proc)
        for procs in found.values():
            procs.sort(key=lambda p: p["pid"])
        return found

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

    # -- pieces ---------------------------------------------------------------------------------------------
    def manifests(self):
        files = {}
        for name in self.listdir(MANIFEST_DIR):
            path = os.path.join(MANIFEST_DIR, name)
            if not name.endswith(MANIFEST_SUFFIXES) or self.isdir(path):
                continue
            text = self.read_text(path)
            files[name] = {"path": path, "text": text, "readable": text is not None}
            self.stat(path)
        return {"dir": MANIFEST_DIR, "exists": self.isdir(MANIFEST_DIR), "files": files}

    def manifest_path(self, manifests, component):
        for suffix in MANIFEST_SUFFIXES:
            name = component + suffix
            if name in manifests["files"]:
                return manifests["files"][name]["path"]
        return os.path.join(MANIFEST_DIR, component + ".yaml")

    def systemd_service(self, name, env_file_paths=(), specifiers=None):
        """A unit and its drop-ins as systemd loads them, the env files they name, and the argv they start."""
        unit = None
        seen_real = set()
        for base in SYSTEMD_DIRS:
            path = os.path.join(base, name)
            if self.exists(path) and not self.isdir(path):
                unit = path
                break
        dropins = {}
        for base in SYSTEMD_DIRS:
            ddir = os.path.join(base, name + ".d")
            real_dir = self.realpath(ddir)
            if real_dir in seen_real or not self.isdir(ddir):
                continue
            seen_real.add(real_dir)
            for entry in self.listdir(ddir):
                if entry.endswith(".conf") and entry not in dropins:
                    dropins[entry] = os.path.join(ddir, entry)
        files = []
        if unit:
            files.append({"path": unit, "kind": "unit", "text": self.read_text(unit)})
        for entry in sorted(dropins):
            files.append({"path": dropins[entry], "kind": "dropin", "text": self.read_text(dropins[entry])})
        env_files = {}
        for path in env_file_paths:
            text = self.read_text(path)
            if text is not None:
                env_files[path] = text
        texts = [f["text"] for f in files]
        rebuilt = systemd_exec_argv(texts, env_files, specifiers)
        # EnvironmentFile= entries the unit names but we did not read above
        for path in rebuilt["missing_environment_files"]:
            text = self.read_text(path)
            if text is not None:
                env_files[path] = text
        if any(p not in env_file_paths for p in env_files):
            rebuilt = systemd_exec_argv(texts, env_files, specifiers)
        return {"unit": unit, "files": files, "env_files": env_files, "rebuilt": rebuilt}

    def kubelet_service(self):
        service = self.systemd_service("kubelet.service", KUBELET_ENV_FILES)
        return {
            "unit": service["unit"],
            "files": service["files"],
            "env_files": service["env_files"],
            "exec_argv": service["rebuilt"]["argv"],
            "missing_environment_files": service["rebuilt"]["missing_environment_files"],
        }

    def unit_enabled(self, name):
        """True when a ``*.wants``/``*.requires`` directory under /etc/systemd/system links the unit."""
        base = SYSTEMD_DIRS[0]
        for entry in self.listdir(base):
            if entry.endswith((".wants", ".requires")) and self.exists(os.path.join(base, entry, name)):
                return True
        return False

    def etcd_service(self):
        """etcd run by systemd (an external etcd member): what its unit starts it with.

        Only paths, the argv and the ``ETCD_*`` variables leave the node (see ``etcd_flags.public_env``): unit
        files and environment files can hold other variables, secrets among them.
        """
        name = ETCD_SERVICE
        specifiers = {"n": name, "N": name[:-len(".service")], "p": name[:-len(".service")],
                      "H": self.hostname(), "l": self.hostname().split(".")[0]}
        service = self.systemd_service(name, specifiers=specifiers)
        rebuilt = service["rebuilt"]
        return {
            "unit": service["unit"],
            "files": [f["path"] for f in service["files"]],
            "enabled": bool(service["unit"]) and self.unit_enabled(name),
            "exec_argv": rebuilt["argv"],
            "environment": public_env(rebuilt["environment"]),
            "environment_files": rebuilt["environment_files"],
            "missing_environment_files": rebuilt["missing_environment_files"],
        }

    def sysctl_values(self):
        out = {}
        for name in self.sysctls:
            path = "/proc/sys/" + name.replace(".", "/")
            text = self.read_text(path, record_error=False, limit=4096)
            out[name] = None if text is None else " ".join(text.split())
        return out

    def kernel_modules(self):
        text = self.read_text("/proc/modules", record_error=False)
        if text is None:
            return {"available": False, "loaded": [], "reason": "/proc/modules is not readable on this node"}
        loaded = sorted(set(line.split()[0] for line in text.splitlines() if line.strip()))
        return {"available": True, "loaded": loaded}

    def encryption_providers(self, path):
        """Names of the providers listed in an EncryptionConfiguration, in order (keys are not returned)."""
        text = self.read_text(path) if path else None
        if text is None:
            return None
        providers = []
        try:
            doc = json.loads(text)
            for res in doc.get("resources", []) or []:
                for prov in res.get("providers", []) or []:
                    providers.extend(list(prov.keys()))
            return providers
        except (ValueError, AttributeError):
            pass
        in_providers = None
        for line in text.splitlines():
            if not line.strip() or line.strip().startswith("#"):
                continue
            indent = len(line) - len(line.lstrip(" "))
            stripped = line.strip()
            if re.match(r"^-?\s*providers:\s*$", stripped):
                in_providers = indent
                continue
            if in_providers is not None:
                if indent <= in_providers and not stripped.startswith("-"):
                    in_providers = None
                    continue
                match = re.match(r"^-\s*([A-Za-z]+):", stripped)
                if match and indent <= in_providers + 4:
                    providers.append(match.group(1))
        return providers

    def pod_file(self, manifest_text, container, path, procs):
        """Where to read a static pod container's file ``path`` on the node: ``(path, via)``.

        The manifest's hostPath mounts map the container path to the node's (the API server may see
        /etc/kubernetes/authz as /authz); without a mount the path is read as is, else inside the running
        process's mount namespace."""
        pod, cont = static_pod_spec(manifest_text, container)
        mount = resolve_mount(pod, cont, path) if path else None
        if mount and mount.get("host_path") and self.exists(mount["host_path"]):
            return mount["host_path"], "hostPath"
        return self.proc_path(path, procs)

    def config_doc(self, path):
        """``(text, doc)`` of an API server config file: ``doc`` is the mapping when the file is JSON, else None
        (the caller reads the YAML line by line); ``(None, None)`` when it cannot be read."""
        text = self.read_text(path) if path else None
        try:
            doc = json.loads(text) if text is not None else None
        except ValueError:
            return text, None
        return text, doc if isinstance(doc, dict) else {}

    def authorizers(self, path):
        """``(authorizers, error)``: type and name of each authorizer of an AuthorizationConfiguration, in order
        (webhook connection details, which may name credentials, are left out)."""
        text, doc = self.config_doc(path)
        if text is None:
            return None, "cannot be read"
        items = block_list_items(text, "authorizers") if doc is None else doc.get("authorizers")
        if not isinstance(items, list):
            return None, "no authorizers list"
        return [{"type": str(i.get("type")), "name": i.get("name")} for i in items if isinstance(i, dict)], None

    def anonymous_auth(self, path):
        """``(anonymous, error)`` of an AuthenticationConfiguration: ``{"enabled": bool, "conditions": n}``, or
        None when it has no anonymous section (the API server's default then applies)."""
        text, doc = self.config_doc(path)
        if text is None:
            return None, "cannot be read"
        if doc is not None:
            anon = doc.get("anonymous")
            if not isinstance(anon, dict) or not isinstance(anon.get("enabled"), bool):
                return None, None
            return {"enabled": anon["enabled"], "conditions": len(anon.get("conditions") or [])}, None
        enabled = yaml_lookup(text, ("anonymous", "enabled"))
        if str(enabled).lower() not in ("true", "false"):
            return None, None
        conditions = [i for i in block_list_items(text, "conditions") if i.get("path")]
        return {"enabled": str(enabled).lower() == "true", "conditions": len(conditions)}, None

    def version(self, manifests, procs):
        components = {}
        for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "etcd"):
            for name, info in sorted(manifests["files"].items()):
                text = info.get("text") or ""
                match = re.search(r"image:\s*[\"']?\S*/%s:(v?[0-9][^\s\"'@]*)" % re.escape(comp), text)
                if match:
                    components[comp] = {"version": match.group(1), "source": "manifest image %s" % info["path"]}
                    break
        if self.version_from_binaries and self.run_command is not None:
            for comp in ("kubelet", "kube-apiserver"):
                if comp in components:
                    continue
                # the running binary first (exe, else an absolute argv[0]); exe is an interpreter when the
                # component is a wrapper script, so every candidate is tried until one reports a version
                candidates = []
                for proc in procs.get(comp, []):
                    if proc.get("exe") and not proc["exe"].endswith(" (deleted)"):
                        candidates.append(proc["exe"])
                    if proc["argv"] and proc["argv"][0].startswith("/"):
                        candidates.append(proc["argv"][0])
                if comp == "kubelet":
                    candidates.extend(c for c in ("/usr/bin/kubelet", "/usr/local/bin/kubelet") if self.exists(c))
                # a process of another mount namespace (a container on this host) names a path that may not
                # exist here: only run binaries this node has
                for binary in (c for c in dict.fromkeys(candidates) if self.exists(c)):
                    try:
                        rc, out, err = self.run_command([binary, "--version"])
                    except Exception as exc:  # pylint: disable=broad-except
                        self.error(binary, exc)
                        continue
                    match = _BINARY_VERSION_RE.search((out or "") + " " + (err or "")) if rc == 0 else None
                    if match:
                        components[comp] = {"version": "v" + match.group(1), "source": "%s --version" % binary}
                        break
        kube = None
        source = None
        for comp in ("kube-apiserver", "kubelet", "kube-controller-manager", "kube-scheduler", "kube-proxy"):
            if comp in components:
                match = _VERSION_RE.match(components[comp]["version"])
                if match:
                    kube = match.group(1)
                    source = "%s: %s" % (comp, components[comp]["source"])
                    break
        return {"kubernetes": kube, "source": source, "components": components}

    def kubectl(self):
        for path in KUBECTL_PATHS:
            if self.exists(path):
                return path
        return shutil.which("kubectl") if self.root in ("/", "") else None

    def kubeadm_configmaps(self):
        """The ConfigMaps ``kubeadm upgrade`` regenerates this node from, read with kubectl (a single GET each)
        as the first of KUBEADM_KUBECONFIGS that works. ``present`` is false on a node kubeadm did not set up."""
        found = {"present": False, "source": None, "configmaps": {}, "error": None}
        kubeconfigs = [k for k in KUBEADM_KUBECONFIGS if self.exists(k)]
        if not kubeconfigs or not self.kubeadm_config:
            return found
        found["present"] = True
        kubectl = self.kubectl()
        if self.run_command is None or kubectl is None:
            found["error"] = "kubectl not found (%s or in PATH)" % ", ".join(KUBECTL_PATHS)
            return found
        errors = []
        for kubeconfig in kubeconfigs:
            argv = [kubectl, "--kubeconfig", kubeconfig, "--request-timeout", KUBECTL_TIMEOUT, "--namespace",
                    "kube-system", "get", "configmap"] + sorted(KUBEADM_CONFIGMAPS) + ["--output", "json"]
            try:
                rc, out, err = self.run_command(argv)
            except Exception as exc:  # pylint: disable=broad-except
                errors.append("%s: %s" % (kubeconfig, exc))
                continue
            try:
                doc = json.loads(out or "{}")
            except ValueError:
                doc = {}
            items = doc.get("items") if doc.get("kind") == "List" else [doc] if doc.get("kind") == "ConfigMap" else []
            for item in items or []:
                name = ((item or {}).get("metadata") or {}).get("name")
                key = KUBEADM_CONFIGMAPS.get(name)
                text = ((item or {}).get("data") or {}).get(key) if key else None
                if isinstance(text, str) and len(text) <= self.max_text:
                    found["configmaps"][name] = {key: text}
            if found["configmaps"]:
                found["source"] = "kubectl --kubeconfig %s" % kubeconfig
                missing = sorted(set(KUBEADM_CONFIGMAPS) - set(found["configmaps"]))
                if missing:
                    found["error"] = "%s: %s" % (", ".join(missing), " ".join((err or "").split())[:300] or "not found")
                return found
            errors.append("%s: %s" % (kubeconfig, " ".join((err or out or "rc %s" % rc).split())[:300]))
        found["error"] = "; ".join(errors)
        return found

    # -- main -----------------------------------------------------------------------------------------------
    def collect(self):
        started = time.time()
        cpu_started = time.process_time() if hasattr(time, "process_time") else None
        procs = self.processes()
        manifests = self.manifests()

        def running_args(comp):
            plist = procs.get(comp) or []
            return parse_argv(plist[0]["argv"]) if plist else None

        def manifest_flag(comp, flag):
            path = self.manifest_path(manifests, comp)
            info = manifests["files"].get(os.path.basename(path))
            if not info or not info.get("text"):
                return None
            match = re.search(r"--%s[= ]\s*[\"']?([^\s\"',\]]+)" % re.escape(flag), info["text"])
            return match.group(1) if match else None

        # static pod manifests the benchmark names
        for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            self.add_set("manifest:%s" % comp, [self.manifest_path(manifests, comp)])
        etcd_manifests = [info["path"] for name, info in sorted(manifests["files"].items()) if "etcd" in name]
        self.add_set("manifest:etcd", etcd_manifests or [self.manifest_path(manifests, "etcd")])

        # kubeconfigs
        kubeconfigs = dict(KUBECONFIGS)
        sched = running_args("kube-scheduler")
        cm = running_args("kube-controller-manager")
        if sched is not None and sched.get("kubeconfig"):
            kubeconfigs["scheduler"] = sched.get("kubeconfig")
        elif manifest_flag("kube-scheduler", "kubeconfig"):
            kubeconfigs["scheduler"] = manifest_flag("kube-scheduler", "kubeconfig")
        if cm is not None and cm.get("kubeconfig"):
            kubeconfigs["controller-manager"] = cm.get("kubeconfig")
        elif manifest_flag("kube-controller-manager", "kubeconfig"):
            kubeconfigs["controller-manager"] = manifest_flag("kube-controller-manager", "kubeconfig")

        # kubelet: running argv, systemd unit, config file, client CA
        service = self.kubelet_service()
        kubelet_run = running_args("kubelet")
        kubelet_unit = parse_argv(service["exec_argv"]) if service["exec_argv"] else None
        config_path, config_source = None, "default"
        for source, parsed in (("argv", kubelet_run), ("unit", kubelet_unit)):
            if parsed is not None and parsed.get("config"):
                config_path, config_source = parsed.get("config"), source
                break
        if config_path is None:
            config_path = KUBELET_DEFAULT_CONFIG
        config_text = self.read_text(config_path)
        config_dir = None
        config_dropins = []
        for parsed in (kubelet_run, kubelet_unit):
            if parsed is not None and parsed.get("config-dir"):
                config_dir = parsed.get("config-dir")
                break
        if config_dir:
            for name in self.listdir(config_dir):
                if name.endswith(".conf"):
                    path = os.path.join(config_dir, name)
                    config_dropins.append({"path": path, "text": self.read_text(path)})
                    self.stat(path)
        kubelet_kubeconfig = None
        for parsed in (kubelet_run, kubelet_unit):
            if parsed is not None and parsed.get("kubeconfig"):
                kubelet_kubeconfig = parsed.get("kubeconfig")
                break
        kubelet_kubeconfig = kubelet_kubeconfig or KUBELET_DEFAULT_KUBECONFIG
        kubeconfigs["kubelet"] = kubelet_kubeconfig
        client_ca, client_ca_source = None, "default"
        for source, parsed in (("argv", kubelet_run), ("unit", kubelet_unit)):
            if parsed is not None and parsed.get("client-ca-file"):
                client_ca, client_ca_source = parsed.get("client-ca-file"), source
                break
        if client_ca is None and config_text:
            value = yaml_lookup(config_text, ("authentication", "x509", "clientCAFile"))
            if isinstance(value, str) and value:
                client_ca, client_ca_source = value, "config"
        if client_ca is None:
            client_ca = KUBELET_DEFAULT_CLIENT_CA
        kubelet = {
            "present": bool(procs["kubelet"]) or bool(service["unit"]) or config_text is not None,
            "config": {
                "path": config_path,
                "source": config_source,
                "exists": self.exists(config_path),
                "text": config_text,
                "config_dir": config_dir,
                "dropins": config_dropins,
            },
            "service": service,
            "kubeconfig": kubelet_kubeconfig,
            "client_ca_file": {"path": client_ca, "source": client_ca_source},
        }
        self.add_set("kubelet_config", [config_path])
        self.add_set("kubelet_service", [f["path"] for f in service["files"]])
        self.add_set("kubelet_env_files", list(service["env_files"]))
        self.add_set("kubelet_kubeconfig", [kubelet_kubeconfig])
        self.add_set("kubelet_client_ca", [client_ca])

        # kube-proxy: config and kubeconfig (host path, else inside its container)
        proxy_run = running_args("kube-proxy")
        proxy_config, proxy_config_via = None, None
        proxy_config_text = None
        if proxy_run is not None and proxy_run.get("config"):
            proxy_config, proxy_config_via = self.proc_path(proxy_run.get("config"), procs["kube-proxy"])
            proxy_config_text = self.read_text(proxy_config) if proxy_config_via != "missing" else None
        proxy_kubeconfig, proxy_kc_source = None, None
        if proxy_run is not None and proxy_run.get("kubeconfig"):
            proxy_kubeconfig, proxy_kc_source = proxy_run.get("kubeconfig"), "argv"
        elif proxy_config_text:
            value = yaml_lookup(proxy_config_text, ("clientConnection", "kubeconfig"))
            if isinstance(value, str) and value:
                proxy_kubeconfig, proxy_kc_source = value, "config"
        proxy_kc_path, proxy_kc_via = (None, None)
        if proxy_kubeconfig:
            proxy_kc_path, proxy_kc_via = self.proc_path(proxy_kubeconfig, procs["kube-proxy"])
        kube_proxy = {
            "present": bool(procs["kube-proxy"]),
            "config": {"path": proxy_config, "via": proxy_config_via, "text": proxy_config_text},
            "kubeconfig": {"path": proxy_kubeconfig, "source": proxy_kc_source, "stat_path": proxy_kc_path,
                           "via": proxy_kc_via},
        }
        self.add_set("proxy_kubeconfig", [proxy_kc_path] if proxy_kc_path else [])
        if proxy_kubeconfig:
            kubeconfigs["kube-proxy"] = proxy_kubeconfig

        for name, path in sorted(kubeconfigs.items()):
            self.stat(path)
        self.add_set("admin_kubeconfigs", [p for p in (kubeconfigs["admin"], kubeconfigs["super-admin"])
                                           if self.exists(p)])
        self.add_set("scheduler_kubeconfig", [kubeconfigs["scheduler"]])
        self.add_set("controller_manager_kubeconfig", [kubeconfigs["controller-manager"]])

        # PKI
        pki_all = self.walk(PKI_DIR)
        self.add_set("pki_all", pki_all)
        self.add_set("pki_crt", [p for p in pki_all if p.endswith(".crt")])
        self.add_set("pki_key", [p for p in pki_all if p.endswith(".key")])
        pki = {
            "dir": PKI_DIR,
            "exists": self.isdir(PKI_DIR),
            "files": [os.path.relpath(p, PKI_DIR) for p in pki_all[1:] if self.stats.get(p, {}).get("type") != "directory"],
        }

        # CNI configuration (the kubelet's --cni-conf-dir if given, as kube-bench does) and IPAM state
        cni_dirs = list(CNI_DIRS)
        for parsed in (kubelet_run, kubelet_unit):
            if parsed is not None and parsed.get("cni-conf-dir") and parsed.get("cni-conf-dir") not in cni_dirs:
                cni_dirs.insert(0, parsed.get("cni-conf-dir"))
        cni_files = []
        for cdir in cni_dirs:
            cni_files.extend(self.walk(cdir)[1:])
        cni_files.extend(p for p in self.walk(CNI_STATE_DIR)[1:] if not self.isdir(p))
        self.add_set("cni", cni_files)

        # etcd data directory: the running process (argv, then ETCD_DATA_DIR in its environment), then the
        # manifest, then the systemd unit (ExecStart, then its environment), then the default
        etcd_service = self.etcd_service()
        etcd_run = running_args("etcd")
        data_dir, data_dir_source = None, "default"
        etcd_procs = procs.get("etcd") or []
        run_env = apply_env(etcd_run.flags if etcd_run is not None else (),
                            (etcd_procs[0].get("environ") or {}) if etcd_procs else {})[0]
        unit_run = parse_argv(etcd_service["exec_argv"]) if etcd_service["exec_argv"] else None
        unit_env = apply_env(unit_run.flags if unit_run is not None else (), etcd_service["environment"])[0]
        if etcd_run is not None and etcd_run.get("data-dir"):
            data_dir, data_dir_source = etcd_run.get("data-dir"), "argv"
        elif "data-dir" in run_env:
            data_dir, data_dir_source = run_env["data-dir"][1], "environ"
        elif manifest_flag("etcd", "data-dir"):
            data_dir, data_dir_source = manifest_flag("etcd", "data-dir"), "manifest"
        elif etcd_service["enabled"] and unit_run is not None and unit_run.get("data-dir"):
            data_dir, data_dir_source = unit_run.get("data-dir"), "unit"
        elif etcd_service["enabled"] and "data-dir" in unit_env:
            data_dir, data_dir_source = unit_env["data-dir"][1], "unit"
        else:
            data_dir = ETCD_DEFAULT_DATA_DIR
        etcd = {"data_dir": data_dir, "data_dir_source": data_dir_source, "service": etcd_service}
        self.add_set("etcd_data_dir", [data_dir])

        # the API server's config files, by the path it is given (running, else its manifest), read where the
        # node keeps them
        api_run = running_args("kube-apiserver")
        api_manifest = manifests["files"].get(os.path.basename(self.manifest_path(manifests, "kube-apiserver")))
        api_manifest_text = (api_manifest or {}).get("text")

        def apiserver_file(flag):
            path = None
            if api_run is not None and api_run.get(flag):
                path = api_run.get(flag)
            elif manifest_flag("kube-apiserver", flag):
                path = manifest_flag("kube-apiserver", flag)
            if not path:
                return None, None
            read_path, _via = self.pod_file(api_manifest_text, "kube-apiserver", path, procs["kube-apiserver"])
            return path, read_path

        # encryption provider config (only the provider names leave the node)
        enc_path, read_path = apiserver_file("encryption-provider-config")
        encryption = {"path": enc_path, "providers": None}
        if enc_path:
            encryption["providers"] = self.encryption_providers(read_path)
            self.stat(enc_path)
        authz_path, read_path = apiserver_file("authorization-config")
        authorization = {"path": authz_path, "read_path": read_path, "authorizers": None, "error": None}
        if authz_path:
            authorization["authorizers"], authorization["error"] = self.authorizers(read_path)
        authn_path, read_path = apiserver_file("authentication-config")
        authentication = {"path": authn_path, "read_path": read_path, "anonymous": None, "error": None}
        if authn_path:
            authentication["anonymous"], authentication["error"] = self.anonymous_auth(read_path)

        # containerd
        ctr_run = running_args("containerd")
        ctr_config = CONTAINERD_DEFAULT_CONFIG
        if ctr_run is not None and (ctr_run.get("config") or ctr_run.get("c")):
            ctr_config = ctr_run.get("config") or ctr_run.get("c")
        containerd = {
            "present": bool(procs["containerd"]) or self.exists(ctr_config),
            "config_path": ctr_config,
            "config_text": self.read_text(ctr_config),
            "socket": CONTAINERD_SOCKET,
        }
        self.add_set("containerd", [ctr_config, CONTAINERD_SOCKET])

        for path in self.extra_paths:
            self.stat(path)

        facts = {
            "schema_version": SCHEMA_VERSION,
            "hostname": self.hostname(),
            "processes": procs,
            "manifests": manifests,
            "kubelet": kubelet,
            "kube_proxy": kube_proxy,
            "etcd": etcd,
            "kubeconfigs": kubeconfigs,
            "pki": pki,
            "cni": {"dirs": cni_dirs, "files": cni_files},
            "encryption": encryption,
            "authorization": authorization,
            "authentication": authentication,
            "kubeadm": self.kubeadm_configmaps(),
            "containerd": containerd,
            "sysctls": self.sysctl_values(),
            "modules": self.kernel_modules(),
            "version": self.version(manifests, procs),
            "file_sets": self.file_sets,
            "stats": self.stats,
        }
        facts["collector"] = {
            "root": self.root,
            "errors": self.errors,
            "wall_seconds": round(time.time() - started, 4),
            "cpu_seconds": round(time.process_time() - cpu_started, 4) if cpu_started is not None else None,
        }
        return facts

    def hostname(self):
        text = self.read_text("/etc/hostname", record_error=False) if self.root not in ("/", "") else None
        if text and text.strip():
            return text.strip()
        return socket.gethostname()


def collect(root="/", run_command=None, sysctls=None, extra_paths=None, version_from_binaries=True,
            kubeadm_config=True):
    """Collect the node facts; see :class:`Collector`."""
    return Collector(root=root, run_command=run_command, sysctls=sysctls, extra_paths=extra_paths,
                     version_from_binaries=version_from_binaries, kubeadm_config=kubeadm_config).collect()


def yaml_lookup(text, keys):
    """Look up a nested scalar in a simple block-style YAML (or JSON) document without PyYAML.

    Enough for the few values the collector needs on the target (kubelet ``authentication.x509.clientCAFile``,
    kube-proxy ``clientConnection.kubeconfig``); the controller re-parses everything with PyYAML. Returns the
    scalar as a string (quotes removed), or ``None``.
    """
    if not text:
        return None
    try:
        doc = json.loads(text)
        for key in keys:
            doc = doc[key]
        return doc if isinstance(doc, (str, int, float, bool)) else None
    except (ValueError, KeyError, TypeError, IndexError):
        pass
    keys = list(keys)
    depth = 0
    parent_indent = -1
    want_indent = None
    for raw in text.splitlines():
        if raw.strip() in ("---", "...") and depth > 0:
            return None
        line = raw.split(" #")[0].rstrip() if " #" in raw else raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent <= parent_indent:
            return None
        if want_indent is not None and indent != want_indent:
            if indent < want_indent:
                return None
            continue
        match = re.match(r"^\s*([\"']?)([A-Za-z0-9_.\-]+)\1\s*:(?:\s+(.*))?$", line)
        if not match:
            continue
        key, value = match.group(2), (match.group(3) or "").strip()
        if key != keys[depth]:
            want_indent = indent
            continue
        if depth == len(keys) - 1:
            if value[:1] in ("\"", "'") and value[-1:] == value[:1] and len(value) >= 2:
                value = value[1:-1]
            return value if value not in ("", "~", "null") else None
        depth += 1
        parent_indent = indent
        want_indent = None
    return None


def static_pod_spec(text, container):
    """``(pod, container)`` dicts of a static pod manifest with just enough for ``resolve_mount``: the pod's
    volumes and the named container's (else every container's) volumeMounts. JSON, or the block-style YAML
    kubeadm writes; ``({}, {})`` when there is no text."""
    if not text:
        return {}, {}
    try:
        pod = json.loads(text)
        conts = [c for c in ((pod.get("spec") or {}).get("containers") or []) if isinstance(c, dict)]
        named = [c for c in conts if c.get("name") == container]
        return pod, (named or conts or [{}])[0]
    except (ValueError, AttributeError):
        pass
    volumes = []
    for item in block_list_items(text, "volumes"):
        volume = {"name": item.get("name")}
        if item.get("hostPath.path"):
            volume["hostPath"] = {"path": item["hostPath.path"], "type": item.get("hostPath.type") or ""}
        volumes.append(volume)
    mounts = [dict((k, v) for k, v in item.items() if "." not in k) for item in block_list_items(text, "volumeMounts")]
    return {"spec": {"volumes": volumes}}, {"volumeMounts": mounts}


def _yaml_scalar(value):
    value = value.strip()
    if value[:1] in ("\"", "'") and value[-1:] == value[:1] and len(value) >= 2:
        return value[1:-1]
    return value


def block_list_items(text, key):
    """The items of every block-style YAML list under ``key:``, each a flat dict of its scalar fields, nested
    mappings as dotted keys (``hostPath.path``); lists nested inside an item are skipped.

    Enough for kubeadm's manifests and the API server's config files on a node without PyYAML; flow-style
    (``[...]``/``{...}``) lists are not read."""
    items = []
    key_re = re.compile(r"^([\"']?)%s\1\s*:\s*$" % re.escape(key))
    key_indent = item_indent = None
    item = stack = None
    for raw in text.splitlines():
        line = raw.split(" #")[0].rstrip() if " #" in raw else raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "..."):
            continue
        indent = len(line) - len(line.lstrip(" "))
        is_item = stripped == "-" or stripped.startswith("- ")
        if key_indent is not None and item_indent is None and not (is_item and indent >= key_indent):
            key_indent = None
        elif item_indent is not None and (indent < item_indent or (indent == item_indent and not is_item)):
            key_indent = item_indent = None
        if key_indent is None:
            if key_re.match(stripped):
                key_indent = indent
            continue
        if is_item and (item_indent is None or indent == item_indent):
            item_indent = indent
            item, stack = {}, []
            items.append(item)
            stripped, indent = stripped[1:].strip(), indent + 2
            if not stripped:
                continue
        elif is_item:
            continue
        match = re.match(r"^([\"']?)([A-Za-z0-9_.\-]+)\1\s*:(?:\s+(.*))?$", stripped)
        if not match:
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        name, value = match.group(2), (match.group(3) or "").strip()
        if not value:
            stack.append((indent, name))
        else:
            item[".".join([k for dummy, k in stack] + [name])] = _yaml_scalar(value)
    return items
