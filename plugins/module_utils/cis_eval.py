# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge one node's facts (from ``node_facts``) against a CIS catalog (``catalog/cis_kubernetes_v1.12.yml``).

Pure functions, standard library only; runs on the controller. YAML text found in the facts (static pod
manifests, kubelet and kube-proxy config files) is parsed with the ``parse_yaml`` callable the caller passes
(the action plugin passes PyYAML's ``safe_load``); without one, only JSON documents can be read.

Verdicts follow kube-bench: PASS; FAIL for a failing scored check; WARN for a failing unscored check, a manual
recommendation, or one that cannot be determined on this node (component absent, file unreadable); INFO for a
selected recommendation whose target does not apply to this node. On top of that a waiver turns a result into
WAIVED, and an expired waiver into FAIL.

Both the *running* state (the process's argv) and the *configured* state (the static pod manifest, or for the
kubelet the argv its systemd unit starts) are judged; the verdict is the running state's (what is in effect),
and a difference between the two is reported as drift.

On a kubeadm node a third state is judged when the facts have the ``kubeadm-config``/``kubelet-config``
ConfigMaps: what the next ``kubeadm upgrade`` would write (``kubeadm_config.regenerate``, and the kubelet-config
ConfigMap for the kubelet's config file). A recommendation that passes now and would fail then is marked
``upgrade_drift``; its verdict stays kube-bench's.
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import re

from ansible_collections.secure_cluster.k8s.plugins.module_utils import (
    cis_catalog,
    cis_deviations,
    cluster_audit,
    etcd_flags,
    k8s_flags,
    kubeadm_config,
    kubelet_config,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.etcd_flags import apply_env
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import (
    ParsedArgs,
    parse_argv,
    parse_duration,
    parse_map,
    split_list,
)

PASS = "PASS"
FAIL = "FAIL"
WARN = "WARN"
INFO = "INFO"
WAIVED = "WAIVED"
STATUSES = (PASS, FAIL, WARN, INFO, WAIVED)

TARGETS = ("master", "etcd", "controlplane", "node", "policies")
# where kubeadm writes the kubelet's configuration (from the kubelet-config ConfigMap, on join and upgrade)
KUBEADM_KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
STATIC_POD_COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
COMPONENT_TARGETS = {
    "kube-apiserver": "master",
    "kube-controller-manager": "master",
    "kube-scheduler": "master",
    "etcd": "etcd",
    "kubelet": "node",
    "kube-proxy": "node",
}


def _d(value):
    """``value`` if it is a dict, else an empty dict (facts from a node are not trusted to be well-formed)."""
    return value if isinstance(value, dict) else {}


# One error type for a catalog that cannot be used, whether its overlays (cis_catalog) or its controls are wrong.
CatalogError = cis_catalog.CatalogError


# ---------------------------------------------------------------------------------------------------------------
# catalog
# ---------------------------------------------------------------------------------------------------------------
def validate_catalog(catalog):
    """Return a list of problems with a parsed catalog (empty when it is usable)."""
    problems = []
    if not isinstance(catalog, dict):
        return ["catalog is not a mapping"]
    controls = catalog.get("controls")
    if not isinstance(controls, list) or not controls:
        return ["catalog has no controls list"]
    # Overlays replace and add controls of a base; a control left in a section the overlay dropped (5.6 -> 5.7
    # between CIS 1.10 and 1.11) would otherwise go unnoticed until a report groups it.
    sections = catalog.get("sections")
    if sections is not None and not isinstance(sections, dict):
        return ["catalog sections is not a mapping"]
    seen = set()
    for index, ctl in enumerate(controls):
        where = "control #%d" % index
        if not isinstance(ctl, dict):
            problems.append("%s is not a mapping" % where)
            continue
        cid = ctl.get("id")
        if not isinstance(cid, str) or not re.match(r"^\d+(\.\d+)*$", cid):
            problems.append("%s has no valid string id (%r)" % (where, cid))
            continue
        where = "control %s" % cid
        section = sections.get(ctl.get("section")) if sections is not None else None
        if sections is not None and not isinstance(section, dict):
            problems.append("%s: section %r is not one of the catalog's sections" % (where, ctl.get("section")))
        elif section is not None and section.get("target") != ctl.get("target"):
            problems.append("%s: target %r, but its section %s is in %r"
                            % (where, ctl.get("target"), ctl.get("section"), section.get("target")))
        if cid in seen:
            problems.append("%s is listed twice" % where)
        seen.add(cid)
        for key in ("title", "level", "type", "scored", "target"):
            if key not in ctl:
                problems.append("%s has no %s" % (where, key))
        if ctl.get("level") not in (1, 2):
            problems.append("%s: level must be 1 or 2" % where)
        if ctl.get("type") not in ("automated", "manual"):
            problems.append("%s: type must be automated or manual" % where)
        if ctl.get("target") not in TARGETS:
            problems.append("%s: unknown target %r" % (where, ctl.get("target")))
        check = ctl.get("check")
        if check is not None:
            kind = check.get("kind") if isinstance(check, dict) else None
            if kind not in ("args", "file_mode", "file_owner", "encryption", "cluster"):
                problems.append("%s: unknown check kind %r" % (where, kind))
            elif kind == "args":
                items = check.get("all", check.get("any"))
                if not check.get("component") or not isinstance(items, list) or not items:
                    problems.append("%s: args check needs component and all/any items" % where)
                else:
                    for item in items:
                        if not isinstance(item, dict) or not (item.get("flag") or item.get("config")):
                            problems.append("%s: test item without flag/config" % where)
            elif kind in ("file_mode", "file_owner"):
                if not check.get("files"):
                    problems.append("%s: file check without files" % where)
                if kind == "file_mode" and not re.match(r"^[0-7]{3,4}$", str(check.get("max", ""))):
                    problems.append("%s: file_mode needs max as an octal string" % where)
                if kind == "file_owner" and ":" not in str(check.get("owner", "")):
                    problems.append("%s: file_owner needs owner as user:group" % where)
            elif kind == "cluster":
                if check.get("rule") is not None and check["rule"] not in cluster_audit.RULES:
                    problems.append("%s: unknown cluster rule %r" % (where, check["rule"]))
                elif not (check.get("rule") or check.get("hint")):
                    problems.append("%s: cluster check needs a rule or a hint" % where)
        rb = ctl.get("remediated_by")
        if rb is not None and (not isinstance(rb, dict) or not rb.get("role") or not rb.get("var")):
            problems.append("%s: remediated_by must be null or {role, var}" % where)
    return problems


def catalog_ids(catalog):
    return [c["id"] for c in catalog.get("controls", []) if isinstance(c, dict) and "id" in c]


def _id_key(cid):
    return tuple(int(p) if p.isdigit() else p for p in str(cid).split("."))


def id_matches(cid, patterns):
    """``cid`` is one of ``patterns`` or lies in one of them as a section (``1.2`` matches ``1.2.5``)."""
    cid = str(cid)
    for pat in patterns or []:
        pat = str(pat).strip()
        if pat and (cid == pat or cid.startswith(pat + ".")):
            return True
    return False


# ---------------------------------------------------------------------------------------------------------------
# facts -> component states
# ---------------------------------------------------------------------------------------------------------------
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
        procs = _d(self.facts.get("processes")).get(comp)
        procs = procs if isinstance(procs, list) else []
        return [p for p in procs if isinstance(p, dict) and p.get("argv")]

    def manifest_files(self):
        return _d(_d(self.facts.get("manifests")).get("files"))

    def file_set(self, name):
        paths = _d(self.facts.get("file_sets")).get(name)
        return [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []

    def stat(self, path):
        st = _d(self.facts.get("stats")).get(path)
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
        if comp == "etcd" and _d(self.etcd_service()).get("enabled"):
            return True
        if comp in STATIC_POD_COMPONENTS:
            return self.manifest_for(comp)[0] is not None
        if comp == "kubelet":
            return bool(_d(self.facts.get("kubelet")).get("present"))
        if comp == "kube-proxy":
            return bool(_d(self.facts.get("kube_proxy")).get("present"))
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
        return _d(_d(self.facts.get("etcd")).get("service"))

    def has_kubelet_dropins(self):
        return any(isinstance(x, dict) for x in _d(_d(self.facts.get("kubelet")).get("config")).get("dropins") or [])

    # -- component states -----------------------------------------------------------------------------------
    def flag_types(self, comp):
        """The flag types of the component's version, so that a bare flag is read as the component reads it (the
        manifest editor reads with the same table); None when the version is not known to the flag data, and
        k8s_args' list of boolean flags applies."""
        if comp not in self._flag_types:
            self._flag_types[comp] = self._read_flag_types(comp)
        return self._flag_types[comp]

    def _read_flag_types(self, comp):
        versions = _d(self.facts.get("version"))
        version = _d(_d(versions.get("components")).get(comp)).get("version")
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
            containers = _d(_d(doc).get("spec")).get("containers") or []
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
        cfg = _d(_d(self.facts.get("kubelet")).get("config"))
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
        cfg = _d(_d(self.facts.get("kubelet")).get("config"))
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
        cfg = _d(_d(self.facts.get("kube_proxy")).get("config"))
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
            service = _d(_d(self.facts.get("kubelet")).get("service"))
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
        facts = _d(self.facts.get("kubeadm"))
        maps = _d(facts.get("configmaps"))
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
        version = _d(self.facts.get("version")).get("kubernetes")
        info["minor"], defaults, note = kubeadm_config.kubeadm_defaults(version)
        if note:
            info["notes"].append(note)
        text = _d(maps.get("kubeadm-config")).get("ClusterConfiguration")
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
        kubelet_text = _d(maps.get("kubelet-config")).get("kubelet")
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


# ---------------------------------------------------------------------------------------------------------------
# test items
# ---------------------------------------------------------------------------------------------------------------
def _config_get(doc, dotted):
    cur = doc
    for part in str(dotted).split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ",".join(_as_text(v) for v in value)
    if isinstance(value, dict):
        return ",".join("%s=%s" % (k, _as_text(v)) for k, v in value.items())
    return str(value)


def _label(item):
    if item.get("flag"):
        name = "--%s" % item["flag"]
    else:
        name = item.get("config")
    if item.get("key"):
        name = "%s %s" % (name, item["key"])
    return name


def lookup(item, state):
    """Find the item's value in a state: the flag on the command line first, else the config file key.

    Returns ``(found, value, where)``; ``where`` says which (``--flag`` or ``config key (path)``).
    """
    flag = item.get("flag")
    key = item.get("key")
    if flag and state.args is not None and state.args.has(flag):
        if key:
            gates = state.args.get_map(flag) or {}
            if key in gates:
                val = gates[key]
                return True, ("true" if val is None else val), "%s %s" % (state.flag_label(flag), key)
        elif item.get("type") == "list":
            return True, ",".join(state.args.get_list(flag) or []), state.flag_label(flag)
        else:
            return True, state.args.get(flag), state.flag_label(flag)
    cfg_key = item.get("config")
    if cfg_key and state.config is not None:
        val = _config_get(state.config, cfg_key)
        if key:
            val = parse_map(val).get(key) if isinstance(val, (dict, str)) else None
        if val is not None and not (isinstance(val, str) and val == ""):
            if isinstance(val, (list, dict)) and not val:
                return False, None, None
            text = _as_text(val)
            if item.get("config_zero_is_unset") and parse_duration(text) == 0:
                return False, None, None
            where = "%s%s (%s)" % (cfg_key, " " + key if key else "", state.config_source or "config file")
            return True, text, where
    return False, None, None


def _num(value):
    try:
        return int(str(value).strip())
    except ValueError:
        return float(str(value).strip())


def compare(op, value, expected, vtype=None):
    """kube-bench style comparison of a found value. Returns (passed, note)."""
    value = "" if value is None else str(value)
    if vtype == "duration" and op in ("eq", "noteq", "gt", "gte", "lt", "lte"):
        got, want = parse_duration(value), parse_duration(expected)
        if got is None or want is None:
            return False, "'%s' is not a duration" % value
        result = {"eq": got == want, "noteq": got != want, "gt": got > want, "gte": got >= want,
                  "lt": got < want, "lte": got <= want}[op]
        return result, None
    if op in ("eq", "noteq"):
        exp = _as_text(expected)
        if value.lower() in ("true", "false"):
            same = value.lower() == exp.lower()
        elif vtype == "int":
            try:
                same = _num(value) == _num(exp)
            except ValueError:
                same = value == exp
        else:
            same = value == exp
        return (same if op == "eq" else not same), None
    if op in ("gt", "gte", "lt", "lte"):
        try:
            got, want = _num(value), _num(expected)
        except ValueError:
            return False, "'%s' is not a number" % value
        return {"gt": got > want, "gte": got >= want, "lt": got < want, "lte": got <= want}[op], None
    if op in ("has", "nothave"):
        exp = _as_text(expected)
        if vtype == "list":
            present = exp in split_list(value)
        else:
            present = exp in value
        return (present if op == "has" else not present), None
    if op == "valid_elements":
        allowed = split_list(expected if isinstance(expected, (list, tuple)) else str(expected))
        got = split_list(value)
        if not got and not allowed:
            return True, None
        if not got or not allowed:
            return False, None
        bad = [g for g in got if g not in allowed]
        return (not bad), ("not allowed: %s" % ",".join(bad) if bad else None)
    if op == "regex":
        try:
            return re.search(str(expected), value) is not None, None
        except re.error as exc:
            return False, "bad regex in catalog: %s" % exc
    return False, "unknown operator %r in catalog" % op


def expected_text(item):
    name = _label(item)
    if item.get("config") and item.get("flag"):
        name = "%s (config %s)" % (name, item["config"])
    if item.get("set", True) is False:
        return "'%s' is not present" % name
    op = item.get("op")
    if not op:
        return "'%s' is present" % name
    val = item.get("value")
    if isinstance(val, (list, tuple)):
        val = ",".join(str(v) for v in val)
    elif isinstance(val, bool):
        val = _as_text(val)
    patterns = {
        "eq": "'%s' is equal to '%s'", "noteq": "'%s' is not equal to '%s'",
        "gt": "'%s' is greater than %s", "gte": "'%s' is greater or equal to %s",
        "lt": "'%s' is lower than %s", "lte": "'%s' is lower or equal to %s",
        "has": "'%s' has '%s'", "nothave": "'%s' does not have '%s'",
        "valid_elements": "'%s' contains valid elements from '%s'",
        "regex": "'%s' matched by regex expression '%s'",
    }
    return patterns.get(op, "'%s' " + str(op) + " '%s'") % (name, val)


def eval_item(item, state):
    """Returns dict(passed, found, value, where, note)."""
    found, value, where = lookup(item, state)
    note = None
    if item.get("set", True) is False:
        passed = not found
    elif not item.get("op"):
        passed = found
    elif not found:
        passed = False
    else:
        passed, note = compare(item["op"], value, item.get("value"), item.get("type"))
    return {"passed": passed, "found": found, "value": value, "where": where, "note": note}


def eval_state(check, state):
    """Evaluate an args check's items in one state: (passed, actual text, item results)."""
    mode = "any" if "any" in check else "all"
    items = check.get(mode) or []
    results = [eval_item(item, state) for item in items]
    passed = any(r["passed"] for r in results) if mode == "any" else all(r["passed"] for r in results)
    seen = []
    for item, res in zip(items, results):
        if res["found"]:
            text = "%s=%s" % (res["where"], res["value"])
        else:
            text = "%s not set" % _label(item)
            if item.get("config") and item.get("flag"):
                text = "--%s%s not set (nor %s in the config)" % (
                    item["flag"], " " + item["key"] if item.get("key") else "", item["config"])
        if res["note"]:
            text += " (%s)" % res["note"]
        if text not in seen:
            seen.append(text)
    return passed, "; ".join(seen), results


# ---------------------------------------------------------------------------------------------------------------
# control evaluation
# ---------------------------------------------------------------------------------------------------------------
def _fail_status(ctl):
    return FAIL if ctl.get("scored") else WARN


def _missing_status(ctl, missing):
    if missing == "pass":
        return PASS
    if missing == "warn":
        return WARN
    return _fail_status(ctl)


def eval_file_check(ctl, view):
    check = ctl["check"]
    paths = view.file_set(check["files"])
    existing = []
    unknown = []
    for path in paths:
        st = view.stat(path)
        if st.get("exists"):
            existing.append((path, st))
        elif st.get("error"):
            unknown.append("%s (%s)" % (path, st["error"]))
    if check["kind"] == "file_mode":
        expected = "permissions %s or more restrictive" % check["max"]
    else:
        expected = "ownership %s" % check["owner"]
    result = {"expected": expected}
    if not existing:
        missing = check.get("missing", "fail")
        status = _missing_status(ctl, missing)
        if unknown and missing != "pass":
            status = WARN
        shown = ", ".join(paths) if paths else "no %s file" % check["files"]
        why = "cannot be read: %s" % "; ".join(unknown) if unknown else ("does not exist" if paths else "found")
        result.update(status=status, actual={"running": None, "configured": "%s: %s" % (shown, why)},
                      reason="%s %s%s" % (shown, why, {
                          "pass": "; nothing to check", "warn": "; cannot be judged on this node",
                      }.get(missing, "")))
        return result
    offenders = []
    details = []
    for path, st in existing:
        if check["kind"] == "file_mode":
            try:
                mode = int(str(st.get("mode")), 8)
                limit = int(str(check["max"]), 8)
            except ValueError:
                unknown.append("%s (mode %r)" % (path, st.get("mode")))
                continue
            bad = (mode & ~limit) & 0o7777
            text = "%s %s" % (str(st.get("mode"))[-4:].lstrip("0").rjust(3, "0"), path)
            if bad:
                offenders.append(text)
            details.append(text)
        else:
            owner = "%s:%s" % (st.get("owner"), st.get("group"))
            text = "%s %s" % (owner, path)
            if owner != check["owner"]:
                offenders.append(text)
            details.append(text)
    if offenders:
        status = _fail_status(ctl)
        reason = "%d of %d file(s) not %s: %s" % (len(offenders), len(existing), expected, ", ".join(offenders[:20]))
        if len(offenders) > 20:
            reason += ", ... (%d more)" % (len(offenders) - 20)
        actual = "; ".join(offenders[:50])
    elif unknown:
        status = WARN
        reason = "could not judge: %s" % "; ".join(unknown)
        actual = reason
    else:
        status = PASS
        reason = "%d file(s) checked" % len(existing)
        actual = details[0] if len(details) == 1 else "%d files, all %s" % (len(details), expected)
    result.update(status=status, reason=reason, actual={"running": None, "configured": actual})
    return result


def eval_args_check(ctl, view):
    check = ctl["check"]
    comp = check["component"]
    mode = "any" if "any" in check else "all"
    expected = (" OR " if mode == "any" else " AND ").join(expected_text(i) for i in check.get(mode) or [])
    states = view.states(comp)
    running, configured = states["running"], states["configured"]
    result = {"expected": expected, "actual": {"running": None, "configured": None}, "sources": {}}
    if running is None and configured is None:
        result.update(status=WARN, reason="%s is not running on this node and has no configuration to read" % comp)
        return result
    outcomes = {}
    for state in (running, configured):
        if state is None:
            continue
        passed, actual, items = eval_state(check, state)
        outcomes[state.kind] = (passed, actual, items)
        result["actual"][state.kind] = actual
        result["sources"][state.kind] = state.source
    partial = running is not None and running.partial
    effective = "running" if "running" in outcomes and not (partial and "configured" in outcomes) else "configured"
    passed = outcomes[effective][0]
    status = PASS if passed else _fail_status(ctl)
    reasons = []
    drift = False
    if partial:
        result["actual"]["running"] = "%s (ETCD_* environment not readable)" % result["actual"]["running"]
        reasons.append("%s; judged from %s" % (running.partial, "its configuration (%s): %s" % (
            configured.source, outcomes["configured"][1]) if effective == "configured" else "its command line"))
    elif "running" in outcomes and "configured" in outcomes:
        run_vals = [(r["found"], r["value"]) for r in outcomes["running"][2]]
        cfg_vals = [(r["found"], r["value"]) for r in outcomes["configured"][2]]
        if run_vals != cfg_vals or outcomes["running"][0] != outcomes["configured"][0]:
            drift = True
            verdict = "passes" if outcomes["configured"][0] else "fails"
            reasons.append(
                "drift: configured in %s as [%s] (%s) but the running %s has [%s]; "
                "the configuration is not in effect yet (restart pending?)"
                % (configured.source, outcomes["configured"][1], verdict, comp, outcomes["running"][1]))
    if configured is not None and configured.conflicts:
        reasons.append("%s: %s also given on the command line; etcd refuses to start with both"
                       % (configured.source, ", ".join(configured.conflicts)))
    if "running" not in outcomes:
        reasons.append("%s is not running; judged from its configuration (%s): %s"
                       % (comp, configured.source, outcomes["configured"][1]))
    elif "configured" not in outcomes and comp in STATIC_POD_COMPONENTS:
        reasons.append("no static pod manifest found for %s; judged from the running process" % comp)
    if not reasons:
        reasons.append("%s: %s" % (effective, outcomes[effective][1]))
    upgrade = view.upgrade_state(comp)
    if passed and upgrade is not None:
        upgrade_passed, upgrade_actual, _items = eval_state(check, upgrade)
        if not upgrade_passed:
            result["upgrade_drift"] = True
            reasons.append(_upgrade_reason(ctl, upgrade, upgrade_actual))
    result.update(status=status, reason="; ".join(reasons), drift=drift)
    return result


# the roles that also write their settings where kubeadm upgrade reads them (<role>_kubeadm_config_enabled)
KUBEADM_CONFIG_ROLES = ("apiserver", "controller_manager", "scheduler", "etcd", "kubelet")


def _upgrade_reason(ctl, state, actual):
    role = (ctl.get("remediated_by") or {}).get("role")
    fix = ""
    if role in KUBEADM_CONFIG_ROLES:
        fix = "; the %s role keeps it there (%s_kubeadm_config_enabled)" % (role, role)
    return "will drift on upgrade: %s would give [%s]%s" % (state.config_source or state.source, actual, fix)


def eval_encryption_check(ctl, view):
    check = ctl["check"]
    allowed = check.get("value") or []
    enc = _d(view.facts.get("encryption"))
    expected = "first encryption provider is one of %s" % ",".join(allowed)
    result = {"expected": expected}
    if not view.has_component("kube-apiserver"):
        result.update(status=WARN, reason="kube-apiserver is not on this node", actual={"running": None,
                                                                                        "configured": None})
        return result
    if not enc.get("path"):
        result.update(status=_fail_status(ctl), reason="--encryption-provider-config is not set",
                      actual={"running": None, "configured": "no encryption provider config"})
        return result
    providers = enc.get("providers")
    if providers is None:
        result.update(status=WARN, reason="%s could not be read on the node" % enc["path"],
                      actual={"running": None, "configured": None})
        return result
    first = providers[0] if providers else None
    actual = "providers in %s: %s" % (enc["path"], ",".join(providers) or "(none)")
    passed = first in allowed
    reason = "first provider is %s" % (first or "missing")
    upgrade = view.upgrade_state("kube-apiserver")
    if passed and upgrade is not None and upgrade.args.get("encryption-provider-config") != enc["path"]:
        result["upgrade_drift"] = True
        reason += "; " + _upgrade_reason(ctl, upgrade, "--encryption-provider-config=%s" % upgrade.args.get(
            "encryption-provider-config") if upgrade.args.has("encryption-provider-config")
            else "--encryption-provider-config not set")
    result.update(status=PASS if passed else _fail_status(ctl), actual={"running": None, "configured": actual},
                  reason=reason)
    return result


def evaluate_control(ctl, view):
    """One control against one node view (no waivers, no selection)."""
    check = ctl.get("check")
    if check is None:
        return {"status": WARN, "reason": "manual recommendation: review by hand", "expected": None,
                "actual": {"running": None, "configured": None}}
    kind = check.get("kind")
    if kind == "cluster" and check.get("rule") and view.cluster is not None:
        return cluster_audit.judge_control(check["rule"], view.cluster)
    if kind == "cluster":
        return {"status": WARN, "expected": None, "actual": {"running": None, "configured": None},
                "reason": "judged on the cluster's API objects, not by a node audit: %s" % check.get("hint", "")}
    if kind in ("file_mode", "file_owner"):
        return eval_file_check(ctl, view)
    if kind == "args":
        return eval_args_check(ctl, view)
    if kind == "encryption":
        return eval_encryption_check(ctl, view)
    return {"status": WARN, "reason": "unknown check kind %r in the catalog" % kind, "expected": None,
            "actual": {"running": None, "configured": None}}


# ---------------------------------------------------------------------------------------------------------------
# waivers
# ---------------------------------------------------------------------------------------------------------------
def _to_date(value):
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.datetime.strptime(str(value).strip(), "%Y-%m-%d").date()


def normalize_waivers(waivers, known_ids, host=None, hostname=None):
    """Check and keep the waivers that apply to this host. Returns (waivers, messages)."""
    usable = []
    messages = []
    if waivers is None:
        return usable, messages
    if isinstance(waivers, dict):
        waivers = [waivers]
    if not isinstance(waivers, list):
        return usable, ["cis_waivers must be a list of {id, reason, expires, hosts}; ignored"]
    for index, waiver in enumerate(waivers):
        if not isinstance(waiver, dict) or not waiver.get("id"):
            messages.append("waiver #%d has no id; ignored" % index)
            continue
        wid = str(waiver["id"]).strip()
        if not any(k == wid or k.startswith(wid + ".") for k in known_ids):
            messages.append("waiver for unknown CIS id %s ignored" % wid)
            continue
        if not str(waiver.get("reason") or "").strip():
            messages.append("waiver for %s has no reason; ignored" % wid)
            continue
        try:
            expires = _to_date(waiver.get("expires"))
        except ValueError:
            messages.append("waiver for %s has an invalid expires %r (want YYYY-MM-DD); ignored"
                            % (wid, waiver.get("expires")))
            continue
        hosts = waiver.get("hosts")
        if hosts:
            if isinstance(hosts, str):
                hosts = [hosts]
            names = [n for n in (host, hostname) if n]
            if not any(fnmatch.fnmatchcase(n, str(pat)) for n in names for pat in hosts):
                continue
        usable.append({"id": wid, "reason": str(waiver["reason"]).strip(), "expires": expires,
                       "hosts": list(hosts) if hosts else None})
    return usable, messages


def apply_waiver(result, waivers, today):
    """Mutate a control result according to the most specific waiver for its id."""
    matching = [w for w in waivers if id_matches(result["id"], [w["id"]])]
    if not matching:
        return
    matching.sort(key=lambda w: len(w["id"]), reverse=True)
    waiver = matching[0]
    expires = waiver["expires"]
    info = {"id": waiver["id"], "reason": waiver["reason"],
            "expires": expires.isoformat() if expires else None, "hosts": waiver["hosts"]}
    underlying = result["status"]
    result["waiver"] = info
    if expires is not None and expires < today:
        info["expired"] = True
        if underlying == PASS:
            result["reason"] = "%s; waiver expired on %s (no longer needed)" % (result["reason"], expires.isoformat())
            return
        result["underlying_status"] = underlying
        result["status"] = FAIL
        result["reason"] = "waiver expired on %s (%s); underlying result %s: %s" % (
            expires.isoformat(), waiver["reason"], underlying, result["reason"])
        return
    info["expired"] = False
    result["underlying_status"] = underlying
    result["status"] = WAIVED
    until = " until %s" % expires.isoformat() if expires else ""
    result["reason"] = "waived%s: %s; underlying result %s: %s" % (
        until, waiver["reason"], underlying, result["reason"])


# ---------------------------------------------------------------------------------------------------------------
# node evaluation
# ---------------------------------------------------------------------------------------------------------------
def totals(results):
    counts = dict((s.lower(), 0) for s in STATUSES)
    for res in results:
        counts[res["status"].lower()] = counts.get(res["status"].lower(), 0) + 1
    counts["total"] = len(results)
    return counts


def evaluate(facts, catalog, host=None, level=2, ids=None, skip_ids=None, targets=None, waivers=None,
             today=None, parse_yaml=None, include_policies=True, report_not_applicable=False, cluster=None,
             deviations=True):
    """Judge one node. Returns a dict with ``host``, ``node``, ``controls`` (one result per control),
    ``totals``, ``failed`` (ids) and ``messages``. Never raises on bad facts; raises CatalogError on an
    unusable catalog.

    ``level``: 1 (level 1 only) or 2 (level 1 and 2). ``ids``/``skip_ids``: ids or section prefixes to
    select/deselect. ``targets``: list of kube-bench targets, or None to detect them from the facts.
    ``waivers``: list of ``{id, reason, expires: YYYY-MM-DD, hosts: [...]}``.
    ``cluster``: the evidence of ``cluster_audit.audit()``; the result is then the cluster's pseudo-host (target
    ``policies``), and the section-5 checks that name a cluster rule are judged (findings -> FAIL, none -> PASS).
    ``deviations``: apply the rules of ``cis_deviations`` where kube-bench's verdict is wrong (each result has
    ``kube_bench_status`` and, where a rule disagrees with kube-bench, ``deviation``); False keeps kube-bench's
    verdict everywhere and still reports what the rules would have decided.
    """
    problems = validate_catalog(catalog)
    if problems:
        raise CatalogError("catalog is not usable: %s" % "; ".join(problems[:10]))
    today = _to_date(today) if today is not None else datetime.date.today()
    view = NodeView(facts, parse_yaml=parse_yaml, cluster=cluster)
    kube_bench_view = view
    if view.has_kubelet_dropins():
        kube_bench_view = NodeView(facts, parse_yaml=parse_yaml, cluster=cluster, kubelet_dropins=False)
    node = {"view": view, "fail_status": _fail_status, "evaluate": evaluate_control}
    messages = []
    if not isinstance(facts, dict) or not facts:
        messages.append("no facts were collected from this node")
    errors = _d(view.facts.get("collector")).get("errors")
    errors = errors if isinstance(errors, list) else []
    for err in errors[:20]:
        if isinstance(err, dict):
            messages.append("collection: %s: %s" % (err.get("path"), err.get("error")))
    detected = ["policies"] if cluster is not None else view.detect_targets(include_policies=include_policies)
    if targets:
        active = [t for t in targets if t in TARGETS]
        for bad in [t for t in targets if t not in TARGETS]:
            messages.append("unknown target %r ignored" % bad)
    else:
        active = detected
    if cluster is not None:
        messages.extend(m for m in cluster.get("messages") or [] if m not in messages)
    elif not detected:
        messages.append("no Kubernetes component found on this node (no kube-apiserver, etcd or kubelet)")
    try:
        level = int(level)
    except (TypeError, ValueError):
        messages.append("cis_level %r is not 1 or 2; using 2" % (level,))
        level = 2
    known = catalog_ids(catalog)
    for pat in list(ids or []) + list(skip_ids or []):
        if not any(k == str(pat) or k.startswith(str(pat) + ".") for k in known):
            messages.append("selected CIS id %s is not in %s" % (pat, catalog.get("benchmark", {}).get("id")))
    usable_waivers, wmsgs = normalize_waivers(waivers, known, host=host, hostname=view.facts.get("hostname"))
    messages.extend(wmsgs)
    results = []
    for ctl in sorted(catalog["controls"], key=lambda c: _id_key(c["id"])):
        if ctl.get("level", 1) > level:
            continue
        if ids and not id_matches(ctl["id"], ids):
            continue
        if skip_ids and id_matches(ctl["id"], skip_ids):
            continue
        applicable = ctl["target"] in active
        if not applicable and not (report_not_applicable or ids):
            continue
        base = {
            "id": ctl["id"],
            "section": ctl.get("section"),
            "title": ctl.get("title"),
            "level": ctl.get("level"),
            "type": ctl.get("type"),
            "automated": ctl.get("type") == "automated",
            "scored": bool(ctl.get("scored")),
            "target": ctl.get("target"),
            "remediation": " ".join(str(ctl.get("remediation") or "").split()),
            "remediated_by": ctl.get("remediated_by"),
            "drift": False,
            "upgrade_drift": False,
            "waiver": None,
        }
        if not applicable:
            base.update(status=INFO, expected=None, actual={"running": None, "configured": None},
                        reason="not applicable: this node has no %s components" % ctl["target"],
                        kube_bench_status=INFO, deviation=None)
            results.append(base)
            continue
        try:
            outcome = evaluate_control(ctl, kube_bench_view)
        except Exception as exc:  # pylint: disable=broad-except
            outcome = {"status": WARN, "expected": None, "actual": {"running": None, "configured": None},
                       "reason": "could not evaluate: %s: %s" % (type(exc).__name__, exc)}
        base.update(outcome)
        try:
            cis_deviations.apply(ctl, base, node, enabled=deviations)
        except Exception as exc:  # pylint: disable=broad-except
            # a rule that trips over odd facts must not cost the node kube-bench's verdict
            base.update(kube_bench_status=base["status"], deviation=None)
            messages.append("deviation rules not applied to %s: %s: %s" % (ctl["id"], type(exc).__name__, exc))
        apply_waiver(base, usable_waivers, today)
        results.append(base)
    upgrade = view.upgrade() if cluster is None else {"judged": False, "why": "a cluster audit", "notes": []}
    if not upgrade["judged"] and upgrade["why"] not in ("not a kubeadm node", "a cluster audit"):
        messages.append("kubeadm upgrade not judged: %s" % upgrade["why"])
    messages.extend(n for n in upgrade["notes"] if n not in messages)
    messages.extend(m for m in view.messages + kube_bench_view.messages if m not in messages)
    version = _d(view.facts.get("version")).get("kubernetes")
    bench = catalog.get("benchmark") or {}
    if version and bench.get("kubernetes_minors"):
        minor = ".".join(str(version).lstrip("v").split(".")[:2])
        if minor not in [str(m) for m in bench["kubernetes_minors"]]:
            messages.append("Kubernetes %s is not one of the versions %s targets (%s)"
                            % (version, bench.get("id"), ", ".join(bench["kubernetes_minors"])))
    counts = totals(results)
    return {
        "host": host or view.facts.get("hostname"),
        "benchmark": {"id": bench.get("id"), "name": bench.get("name"), "version": bench.get("version"),
                      "targets": _d(catalog.get("targets")), "sections": _d(catalog.get("sections"))},
        "node": {
            "hostname": view.facts.get("hostname"),
            "kubernetes_version": version,
            "detected_targets": detected,
            "targets": active,
        },
        "level": level,
        "controls": results,
        "totals": counts,
        "failed": [r["id"] for r in results if r["status"] == FAIL],
        "drift": [r["id"] for r in results if r.get("drift")],
        "upgrade_drift": [r["id"] for r in results if r.get("upgrade_drift")],
        "deviations": [r["id"] for r in results if (r.get("deviation") or {}).get("applied")],
        "deviations_enabled": bool(deviations),
        "upgrade": {
            "judged": upgrade["judged"],
            "why": upgrade["why"],
            "kubeadm_minor": upgrade.get("minor"),
            "kubelet_config": upgrade.get("kubelet"),
            "components": dict((comp, dict((k, regen[k]) for k in ("args", "lost", "changed", "added", "lost_volumes")))
                               for comp, regen in (upgrade.get("components") or {}).items()),
        },
        "messages": messages,
    }
