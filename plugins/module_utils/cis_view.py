# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One node's facts (from ``node_facts``) as the CIS audit reads them: parsed documents and, per component, its states.

Standard library only; runs on the controller. YAML text found in the facts (static pod manifests, kubelet and
kube-proxy config files, the kubeadm ConfigMaps) is parsed with the ``parse_yaml`` callable the caller passes (the
action plugin passes PyYAML's ``safe_load``); without one, only JSON documents can be read.

A component has up to three states (``State``): *running* (the process's argv, for etcd with its ``ETCD_*``
environment), *configured* (the static pod manifest, or for the kubelet the argv its systemd unit starts, with its
config file and drop-ins) and, on a kubeadm node whose ConfigMaps are in the facts, *upgrade*: what the next
``kubeadm upgrade`` would write (``kubeadm_config.regenerate``, and the kubelet-config ConfigMap for the kubelet's
config file). ``cis_checks`` judges the states; this module only reads them.
"""

from __future__ import annotations

import json

from ansible_collections.secure_cluster.k8s.plugins.module_utils import (
    etcd_flags,
    k8s_flags,
    kubeadm_config,
    kubelet_config,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.etcd_flags import apply_env
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import ParsedArgs, parse_argv

# where kubeadm writes the kubelet's configuration (from the kubelet-config ConfigMap, on join and upgrade)
KUBEADM_KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
STATIC_POD_COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")


def as_dict(value):
    """``value`` if it is a dict, else an empty dict (facts from a node are not trusted to be well-formed)."""
    return value if isinstance(value, dict) else {}


def _parse_doc(text, parse_yaml):
    """Parse a YAML/JSON document; returns (data, error)."""
    if text is None:
        return None, "no content"
    try:
        return json.loads(text), None
    except ValueError:
        pass
    if parse_yaml is None:
        return None, "not JSON and no YAML parser available"
    try:
        return parse_yaml(text), None
    except Exception as exc:  # pylint: disable=broad-except
        msg = " ".join(str(exc).split())
        return None, "not valid YAML: %s" % msg[:300]


class State(object):
    """What one component looks like in one place: argv plus (kubelet, kube-proxy) a config document."""

    def __init__(self, kind, args, source, config=None, config_source=None, env_sources=None, conflicts=None):
        self.kind = kind            # running | configured | upgrade
        self.args = args            # ParsedArgs
        self.source = source        # human description
        self.config = config        # dict or None
        self.config_source = config_source
        self.env_sources = env_sources or {}    # flag -> ETCD_* variable it came from (etcd)
        self.conflicts = conflicts or []        # ETCD_* variables also given as flags (etcd refuses to start)
        self.partial = None         # why this state may be incomplete (etcd's environment not readable)

    def flag_label(self, flag):
        return self.env_sources.get(flag) or "--%s" % flag


def etcd_state(kind, argv, env, source, flag_types=None):
    """An etcd State from its command line and its ``ETCD_*`` environment, merged as etcd merges them."""
    args = parse_argv(argv, flag_types=flag_types)
    applied, conflicts = apply_env(args.flags, env if isinstance(env, dict) else {})
    if applied:
        args = ParsedArgs(args.program, [(flag, val) for flag, (dummy, val) in applied.items()] + args.occurrences,
                          args.positional, args.bare)
        source = "%s (command line and ETCD_* environment)" % source
    return State(kind, args, source, env_sources=dict((f, v[0]) for f, v in applied.items()), conflicts=conflicts)


class NodeView(object):
    """The facts of one node, with parsed documents and per-component states, built once per evaluation."""

    def __init__(self, facts, parse_yaml=None, cluster=None, kubelet_dropins=True):
        self.facts = facts if isinstance(facts, dict) else {}
        self.parse_yaml = parse_yaml
        self.cluster = cluster  # cluster_audit.audit() evidence, or None for a node
        # False gives the node as kube-bench reads it: the kubelet's --config file without its drop-ins
        self.kubelet_dropins = kubelet_dropins
        self.messages = []
        self._states = {}
        self._manifest_env = {}
        self._manifest_pods = {}
        self._upgrade = None
        self._flag_types = {}

    # -- basics -----------------------------------------------------------------------------------------------
    def procs(self, comp):
        procs = as_dict(self.facts.get("processes")).get(comp)
        procs = procs if isinstance(procs, list) else []
        return [p for p in procs if isinstance(p, dict) and p.get("argv")]

    def manifest_files(self):
        return as_dict(as_dict(self.facts.get("manifests")).get("files"))

    def file_set(self, name):
        paths = as_dict(self.facts.get("file_sets")).get(name)
        return [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []

    def stat(self, path):
        st = as_dict(self.facts.get("stats")).get(path)
        return st if isinstance(st, dict) else {"exists": False}

    def manifest_for(self, comp):
        """(path, text) of the component's static pod manifest, or (None, None)."""
        files = self.manifest_files()
        candidates = self.file_set("manifest:%s" % comp)
        for path in candidates:
            for info in files.values():
                if isinstance(info, dict) and info.get("path") == path and info.get("text") is not None:
                    return path, info["text"]
        for name, info in sorted(files.items()):
            if not isinstance(info, dict) or info.get("text") is None:
                continue
            base = name.rsplit(".", 1)[0]
            if base == comp or (comp == "etcd" and "etcd" in name):
                return info.get("path"), info["text"]
        return None, None

    def has_component(self, comp):
        if self.procs(comp):
            return True
        if comp == "etcd" and as_dict(self.etcd_service()).get("enabled"):
            return True
        if comp in STATIC_POD_COMPONENTS:
            return self.manifest_for(comp)[0] is not None
        if comp == "kubelet":
            return bool(as_dict(self.facts.get("kubelet")).get("present"))
        if comp == "kube-proxy":
            return bool(as_dict(self.facts.get("kube_proxy")).get("present"))
        return False

    def detect_targets(self, include_policies=True):
        targets = []
        master = any(self.has_component(c) for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"))
        if master:
            targets.append("master")
        if self.has_component("etcd"):
            targets.append("etcd")
        if self.has_component("kube-apiserver"):
            targets.append("controlplane")
        if self.has_component("kubelet") or self.has_component("kube-proxy"):
            targets.append("node")
        if master and include_policies:
            targets.append("policies")
        return targets

    def etcd_service(self):
        return as_dict(as_dict(self.facts.get("etcd")).get("service"))

    def has_kubelet_dropins(self):
        dropins = as_dict(as_dict(self.facts.get("kubelet")).get("config")).get("dropins")
        return any(isinstance(x, dict) for x in dropins or [])

    # -- component states -----------------------------------------------------------------------------------
    def flag_types(self, comp):
        """The flag types of the component's version, so that a bare flag is read as the component reads it (the
        manifest editor reads with the same table); None when the version is not known to the flag data, and
        k8s_args' list of boolean flags applies."""
        if comp not in self._flag_types:
            self._flag_types[comp] = self._read_flag_types(comp)
        return self._flag_types[comp]

    def _read_flag_types(self, comp):
        versions = as_dict(self.facts.get("version"))
        version = as_dict(as_dict(versions.get("components")).get(comp)).get("version")
        if not version and comp != "etcd":
            version = versions.get("kubernetes")
        if not version:
            return None
        try:
            return etcd_flags.flags_for(version) if comp == "etcd" else k8s_flags.flags_for(comp, version)
        except (ValueError, KeyError):
            return None

    def parse(self, comp, argv):
        return parse_argv(argv, flag_types=self.flag_types(comp))

    def _manifest_argv(self, comp):
        path, text = self.manifest_for(comp)
        if path is None:
            return None, None
        doc, err = _parse_doc(text, self.parse_yaml)
        if err:
            self.messages.append("%s: %s" % (path, err))
            return path, None
        try:
            containers = as_dict(as_dict(doc).get("spec")).get("containers") or []
            container = None
            for cand in containers:
                if isinstance(cand, dict) and cand.get("name") == comp:
                    container = cand
                    break
            if container is None and containers:
                container = containers[0]
            if not isinstance(container, dict):
                self.messages.append("%s: no container in the pod spec" % path)
                return path, None
            command = [str(x) for x in (container.get("command") or [])]
            args = [str(x) for x in (container.get("args") or [])]
            argv = command + args if command else [comp] + args
            self._manifest_pods[comp] = (doc, container, argv)
            self._manifest_env[comp] = dict(
                (str(e["name"]), str(e["value"])) for e in container.get("env") or []
                if isinstance(e, dict) and e.get("name") and e.get("value") is not None)
            return path, argv
        except (AttributeError, TypeError) as exc:
            self.messages.append("%s: unexpected pod spec shape (%s)" % (path, exc))
            return path, None

    def _kubelet_config(self):
        cfg = as_dict(as_dict(self.facts.get("kubelet")).get("config"))
        path = cfg.get("path")
        text = cfg.get("text")
        if text is None:
            return None, path
        doc, err = _parse_doc(text, self.parse_yaml)
        if err:
            self.messages.append("kubelet config %s: %s" % (path, err))
            return None, path
        if not isinstance(doc, dict):
            self.messages.append("kubelet config %s: not a mapping" % path)
            return None, path
        return self._with_dropins(doc), path

    def _with_dropins(self, doc):
        """``doc`` with the kubelet's config drop-ins merged over it, as the kubelet merges them."""
        cfg = as_dict(as_dict(self.facts.get("kubelet")).get("config"))
        for drop in [x for x in cfg.get("dropins") or [] if isinstance(x, dict) and self.kubelet_dropins]:
            ddoc, derr = _parse_doc(drop.get("text"), self.parse_yaml)
            if derr or not isinstance(ddoc, dict):
                message = "kubelet config drop-in %s: %s" % (drop.get("path"), derr or "not a mapping")
                if message not in self.messages:
                    self.messages.append(message)
                continue
            doc = kubelet_config.deep_merge(doc, ddoc)
        return doc

    def _proxy_config(self):
        cfg = as_dict(as_dict(self.facts.get("kube_proxy")).get("config"))
        if cfg.get("text") is None:
            return None, cfg.get("path")
        doc, err = _parse_doc(cfg["text"], self.parse_yaml)
        if err or not isinstance(doc, dict):
            self.messages.append("kube-proxy config %s: %s" % (cfg.get("path"), err or "not a mapping"))
            return None, cfg.get("path")
        return doc, cfg.get("path")

    def states(self, comp):
        """``{"running": State|None, "configured": State|None}`` for a component."""
        if comp in self._states:
            return self._states[comp]
        running = configured = None
        procs = self.procs(comp)
        config = config_path = None
        if comp == "kubelet":
            config, config_path = self._kubelet_config()
        elif comp == "kube-proxy":
            config, config_path = self._proxy_config()
        if procs:
            proc = procs[0]
            running = State("running", self.parse(comp, proc["argv"]), "process %s" % proc.get("pid"), config, config_path)
        if comp == "etcd":
            running, configured = self._etcd_states(procs)
        elif comp in STATIC_POD_COMPONENTS:
            path, argv = self._manifest_argv(comp)
            if argv is not None:
                configured = State("configured", self.parse(comp, argv), path)
        elif comp == "kubelet":
            service = as_dict(as_dict(self.facts.get("kubelet")).get("service"))
            argv = service.get("exec_argv") or []
            if argv:
                unit_files = [f.get("path") for f in service.get("files") or [] if isinstance(f, dict)]
                configured = State("configured", self.parse(comp, argv), "systemd unit %s" % ", ".join(unit_files),
                                   config, config_path)
            elif config is not None and running is None:
                configured = State("configured", parse_argv([]), "kubelet config", config, config_path)
        self._states[comp] = {"running": running, "configured": configured}
        return self._states[comp]

    # -- what the next kubeadm upgrade would write ---------------------------------------------------------------
    def upgrade(self):
        """The node as the next ``kubeadm upgrade`` would leave it, computed once: ``{"judged", "why", "minor",
        "notes", "components": {component: kubeadm_config.regenerate() result}, "kubelet": config source or None}``.
        ``judged`` is false on a node that is not kubeadm's or whose ConfigMaps could not be read (``why``)."""
        if self._upgrade is not None:
            return self._upgrade
        facts = as_dict(self.facts.get("kubeadm"))
        maps = as_dict(facts.get("configmaps"))
        info = {"judged": False, "why": None, "minor": None, "notes": [], "components": {}, "kubelet": None,
                "states": {}}
        self._upgrade = info
        if not facts.get("present"):
            info["why"] = "not a kubeadm node"
            return info
        if not maps:
            info["why"] = "the kubeadm ConfigMaps could not be read: %s" % (facts.get("error") or "no answer")
            return info
        if facts.get("error"):
            info["notes"].append("kubeadm ConfigMaps: %s" % facts["error"])
        info["judged"] = True
        version = as_dict(self.facts.get("version")).get("kubernetes")
        info["minor"], defaults, note = kubeadm_config.kubeadm_defaults(version)
        if note:
            info["notes"].append(note)
        text = as_dict(maps.get("kubeadm-config")).get("ClusterConfiguration")
        config, err = _parse_doc(text, self.parse_yaml) if text is not None else (None, None)
        if err:
            info["notes"].append("kubeadm-config ClusterConfiguration: %s" % err)
        source = "kubeadm upgrade (kubeadm %s defaults and kube-system/kubeadm-config)" % info["minor"]
        for comp in STATIC_POD_COMPONENTS if config is not None else ():
            self.states(comp)
            path, _text = self.manifest_for(comp)
            if comp not in self._manifest_pods or not str(path).startswith("/etc/kubernetes/manifests/"):
                continue
            pod, container, argv = self._manifest_pods[comp]
            try:
                # the command line only: kubeadm writes no environment, so an ETCD_* variable is lost too
                regen = kubeadm_config.regenerate(config, comp, self.parse(comp, argv).occurrences,
                                                  kubeadm_config.host_path_volumes(pod, container), defaults[comp])
            except kubeadm_config.ConfigError as exc:
                if comp != "etcd" or "external" not in str(exc):
                    info["notes"].append("kubeadm upgrade of %s not judged: %s" % (comp, exc))
                continue
            info["components"][comp] = regen
            argv = [comp] + ["--%s=%s" % pair for pair in regen["args"]]
            info["states"][comp] = (etcd_state("upgrade", argv, None, source, self.flag_types(comp))
                                    if comp == "etcd" else State("upgrade", self.parse(comp, argv), source))
            for name, host, mount in regen["lost_volumes"]:
                info["notes"].append("kubeadm upgrade would drop the %s volume %s (%s mounted at %s)"
                                     % (comp, name, host, mount))
        kubelet_text = as_dict(maps.get("kubelet-config")).get("kubelet")
        configured = self.states("kubelet")["configured"]
        if kubelet_text is not None and configured is not None and configured.config_source == KUBEADM_KUBELET_CONFIG:
            doc, err = _parse_doc(kubelet_text, self.parse_yaml)
            if err or not isinstance(doc, dict):
                info["notes"].append("kubelet-config ConfigMap: %s" % (err or "not a mapping"))
            else:
                # kubeadm rewrites config.yaml only: the drop-ins stay, and the kubelet merges them as now
                info["kubelet"] = "kube-system/kubelet-config ConfigMap"
                info["states"]["kubelet"] = State("upgrade", configured.args, configured.source,
                                                  self._with_dropins(doc),
                                                  "the %s, which kubeadm upgrade writes to %s," % (
                                                      info["kubelet"], KUBEADM_KUBELET_CONFIG))
        return info

    def upgrade_state(self, comp):
        """The State the next ``kubeadm upgrade`` would leave ``comp`` in, or None when that cannot be told."""
        return self.upgrade()["states"].get(comp)

    def _etcd_states(self, procs):
        """etcd reads ETCD_<FLAG> variables too: running = argv + /proc environ; configured = the static pod
        manifest (command + container env) or, for an external member, its systemd unit (ExecStart +
        Environment=/EnvironmentFile=)."""
        running = configured = None
        if procs:
            proc = procs[0]
            running = etcd_state("running", proc["argv"], proc.get("environ"), "process %s" % proc.get("pid"),
                                 self.flag_types("etcd"))
            if proc.get("environ") is None:
                # reading another user's /proc/PID/environ needs CAP_SYS_PTRACE, which root in a container lacks
                running.partial = ("the ETCD_* environment of etcd (process %s) is not readable (root without "
                                   "CAP_SYS_PTRACE?)" % proc.get("pid"))
        path, argv = self._manifest_argv("etcd")
        service = self.etcd_service()
        if argv is not None:
            configured = etcd_state("configured", argv, self._manifest_env.get("etcd"), path, self.flag_types("etcd"))
        elif path is None and service.get("exec_argv") and (service.get("enabled") or running is not None):
            configured = etcd_state("configured", service["exec_argv"], service.get("environment"),
                                    "systemd unit %s" % ", ".join(service.get("files") or []),
                                    self.flag_types("etcd"))
        return running, configured
