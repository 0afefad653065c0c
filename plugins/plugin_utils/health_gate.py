# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health gate of ``secure_cluster.k8s.health_gate``, on the controller: after a component's configuration
was written (with a backup), recognise the new process, probe it until it is healthy, look again after a stable
period, and otherwise restore the backups, bring the old process back, probe it again and fail with what happened.

Everything that touches the node goes through ``call(module_name, module_args)`` (the action plugin's
``_execute_module``), and time through ``sleep``/``clock``, so the decisions are tested with recorded module
results. The gate is one task because ansible-core never runs the rescue of a block in a handler
(ansible/ansible#80228): a chain of handler tasks was the only other way.
"""
from __future__ import annotations

import base64
import json
import posixpath
import string

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import parse_cmdline_bytes
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.kube_yaml import HAS_YAML

if HAS_YAML:
    import yaml

EXPECTS = ("rc", "etcd_member", "containerd_plugin")

_COMMAND_SPEC = dict(
    name=dict(type="str"),
    argv=dict(type="list", elements="str", required=True),
    expect=dict(type="str", choices=list(EXPECTS), default="rc"),
    value=dict(type="str"),
)

ARGUMENT_SPEC = dict(
    component=dict(type="str", required=True),
    static_pod=dict(type="dict", options=dict(
        manifest=dict(type="path", required=True),
        state_dir=dict(type="path", default=""),
    )),
    unit=dict(type="dict", options=dict(
        name=dict(type="str", required=True),
        restart=dict(type="bool", default=True),
    )),
    http=dict(type="dict", options=dict(
        url=dict(type="str", required=True),
        client_cert=dict(type="path"),
        client_key=dict(type="path", no_log=False),
    )),
    commands=dict(type="list", elements="dict", default=[], options=_COMMAND_SPEC),
    rollback_commands=dict(type="list", elements="dict", options=_COMMAND_SPEC),
    failed_checks=dict(type="list", elements="str", default=[]),
    restore=dict(type="list", elements="dict", default=[], options=dict(
        path=dict(type="path", required=True),
        backup=dict(type="path"),
        remove_without_backup=dict(type="bool", default=False),
        mode=dict(type="str"),
        owner=dict(type="str"),
        group=dict(type="str"),
    )),
    changes=dict(type="raw"),
    timeout=dict(type="int", required=True),
    stable_seconds=dict(type="int", default=0),
    delay=dict(type="int", default=2),
    log_lines=dict(type="int", default=20),
)

# the process name goes to pgrep as its pattern (an extended regex): only names that are their own literal pattern
_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "_-")


def validate(args):
    """The problems of the task's arguments that the argument spec cannot express (empty: fine)."""
    errors = []
    if bool(args.get("static_pod")) == bool(args.get("unit")):
        errors.append("exactly one of static_pod and unit is required: how the new process is recognised")
    if not args.get("http") and not args.get("commands") and not args.get("failed_checks"):
        errors.append("nothing to probe: give http, commands or both")
    if args.get("timeout", 0) < 1:
        errors.append("timeout must be at least 1 (seconds)")
    if args.get("stable_seconds", 0) < 0:
        errors.append("stable_seconds must not be negative")
    if args.get("delay", 0) < 1:
        errors.append("delay must be at least 1 (seconds)")
    http = args.get("http") or {}
    if bool(http.get("client_cert")) != bool(http.get("client_key")):
        errors.append("http.client_cert and http.client_key go together")
    for command in (args.get("commands") or []) + (args.get("rollback_commands") or []):
        if not command.get("argv"):
            errors.append("a command has an empty argv")
        elif command.get("expect") in ("etcd_member", "containerd_plugin") and not command.get("value"):
            errors.append("%s: expect=%s needs value" % (command_name(command), command["expect"]))
    return errors


def command_name(command):
    return command.get("name") or " ".join(command.get("argv") or [])


def program_name(command):
    """The name a process of ``command`` runs under (the basename of argv[0])."""
    return posixpath.basename(command[0]) if command else ""


def pattern_safe(name):
    return bool(name) and all(c in _NAME_CHARS for c in name)


def manifest_command(text, path="manifest"):
    """The command of the first container of a static pod manifest (list of str); ValueError when missing."""
    try:
        pod = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError("%s is not valid YAML: %s" % (path, to_text(exc)))
    try:
        command = pod["spec"]["containers"][0]["command"]
    except (TypeError, KeyError, IndexError):
        command = None
    if not isinstance(command, list) or not command:
        raise ValueError("%s has no spec.containers[0].command" % path)
    return [to_text(c) for c in command]


def runs_command(argv, command):
    """True when a process's argv ends with the manifest's arguments and argv[0] is the same program (a runtime may
    start it by its full path, and a wrapper may put its own arguments, a script say, before the manifest's). Lists
    are compared, so an argument is never confused with two that read the same when joined; and no flag may come
    before the manifest's arguments, or the old process of a change that removed a leading flag would pass."""
    args = list(command[1:])
    split = len(argv) - len(args)
    return (split >= 1 and program_name(argv) == program_name(command) and list(argv[split:]) == args
            and not any(a.startswith("-") for a in argv[1:split]))


def choose_process(processes, command):
    """The one process (pid, argv) of the manifest's program, ``processes`` being {pid: argv}; and a reason when
    there is none yet: no such process, several (the old one still terminating), or other arguments."""
    name = program_name(command)
    mine = sorted((pid, argv) for pid, argv in processes.items() if program_name(argv) == name)
    if not mine:
        return None, "no %s process runs" % name
    if len(mine) > 1:
        return None, "%d %s processes run (PIDs %s)" % (len(mine), name, ", ".join(str(p) for p, _a in mine))
    pid, argv = mine[0]
    if not runs_command(argv, command):
        return None, "%s (PID %s) runs another command line than the manifest's" % (name, pid)
    return pid, None


def etcd_member_listed(stdout, member_id):
    """``etcdctl member list --write-out=json``: is the member (decimal or hex id) in the list?"""
    try:
        members = json.loads(stdout).get("members") or []
    except (ValueError, AttributeError):
        return False
    wanted = _member_int(member_id)
    return wanted is not None and any(_member_int(m.get("ID")) == wanted for m in members if isinstance(m, dict))


def _member_int(value):
    if isinstance(value, int):
        return value
    text = to_text(value).strip()
    for base in (10, 16):
        try:
            return int(text, base)
        except ValueError:
            continue
    return None


def containerd_plugin_ok(stdout, plugin):
    """``ctr plugins ls``: is the plugin ``TYPE.ID`` (io.containerd.grpc.v1.cri) listed with status ok? Columns
    TYPE ID PLATFORMS STATUS, PLATFORMS possibly empty."""
    ptype, _dot, pid = plugin.rpartition(".")
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] == ptype and fields[1] == pid and fields[-1] == "ok":
            return True
    return False


def judge_command(command, res):
    """None when the command's result passes, else why not."""
    name = command_name(command)
    if res.get("rc") != 0:
        out = (to_text(res.get("stderr") or "") + " " + to_text(res.get("stdout") or "")).strip()
        return "`%s` failed (rc %s): %s" % (name, res.get("rc"), out[-500:] or to_text(res.get("msg") or ""))
    expect = command.get("expect") or "rc"
    stdout = to_text(res.get("stdout") or "")
    if expect == "etcd_member" and not etcd_member_listed(stdout, command["value"]):
        return "member %s is not in the member list (`%s`)" % (command["value"], name)
    if expect == "containerd_plugin" and not containerd_plugin_ok(stdout, command["value"]):
        return "the plugin %s is not loaded (`%s`)" % (command["value"], name)
    return None


def judge_http(http, res):
    if res.get("status") == 200:
        return None
    return "%s answered %s (%s)" % (http["url"], res.get("status") or "nothing", to_text(res.get("msg") or "").strip())


def describe_changes(changes):
    """What the write changed, in words: a static pod's flags_changed dict, a list of keys, or text."""
    if isinstance(changes, dict):
        parts = ["%s %s" % (kind, ", ".join(to_text(n) for n in names))
                 for kind, names in changes.items() if names]
        return "flags " + "; ".join(parts) if parts else "no flag changed"
    if isinstance(changes, (list, tuple)):
        return "changed: " + ", ".join(to_text(c) for c in changes) if changes else "no key changed"
    return to_text(changes)


def log_lines_from_state(text, count):
    """The last log lines a pod state file (``<state_dir>/<component>.json``) keeps."""
    try:
        lines = json.loads(text).get("last_log_lines") or []
    except (ValueError, AttributeError):
        return []
    return [to_text(line) for line in lines][-count:]


def failure_message(component, paths, why, changes, restored, healthy_again, still_why, logs, log_source, timeout):
    """The message of a failed gate: what, why, what was restored, the outcome, the last log lines."""
    text = "%s failed its health gate after %s changed%s: %s." % (
        component, " and ".join(paths), "" if changes is None else " (%s)" % describe_changes(changes), why)
    text += " Rolled back: %s, and %s %s." % (
        "; ".join(restored) or "nothing to restore",
        component,
        "is healthy again" if healthy_again
        else "is STILL NOT HEALTHY within %d s, check the node (%s)" % (timeout, still_why))
    text += " Last log lines (%s): %s" % (log_source, " | ".join(logs) if logs else "not available")
    return text


class Gate(object):
    """One run of the gate; ``call(name, args)`` runs a module on the node and returns its result."""

    def __init__(self, args, call, sleep, clock):
        self.args = args
        self.call = call
        self.sleep = sleep
        self.clock = clock
        self.component = args["component"]
        self.static_pod = args.get("static_pod")
        self.unit = args.get("unit")
        self.steps = []  # what the gate did, for the result

    # -- node access --------------------------------------------------------------------------------------------
    def slurp(self, path):
        res = self.call("ansible.legacy.slurp", {"src": path})
        if res.get("failed") or "content" not in res:
            return None
        return base64.b64decode(res["content"])

    def processes(self, name):
        """{pid: argv} of the processes whose command line mentions ``name`` (pgrep -f), argv read exactly from
        /proc/PID/cmdline; processes that end in between are left out."""
        res = self.call("ansible.legacy.command", {"argv": ["pgrep", "-f", "--", name]})
        found = {}
        for token in to_text(res.get("stdout") or "").split():
            if not token.isdigit():
                continue
            data = self.slurp("/proc/%s/cmdline" % token)
            if data:
                found[int(token)] = parse_cmdline_bytes(data)
        return found

    def unit_state(self):
        res = self.call("ansible.legacy.systemd_service", {"name": self.unit["name"]})
        status = res.get("status") or {}
        try:
            pid = int(status.get("MainPID") or 0)
        except ValueError:
            pid = 0
        return to_text(status.get("ActiveState") or "unknown"), pid

    # -- the steps ----------------------------------------------------------------------------------------------
    def identify(self, command, old_pid):
        """(pid, None) for the process that must be judged, or (None, why not)."""
        if self.static_pod:
            return choose_process(self.processes(program_name(command)), command)
        state, pid = self.unit_state()
        if state != "active" or not pid:
            return None, "%s is %s" % (self.unit["name"], state)
        if old_pid and pid == old_pid:
            return None, "%s still runs the old process (PID %d)" % (self.unit["name"], pid)
        return pid, None

    def probe(self, commands):
        """None when every probe passes, else why the first one failed."""
        http = self.args.get("http")
        if http:
            uri = {"url": http["url"], "validate_certs": False, "timeout": 5, "status_code": [200]}
            if http.get("client_cert"):
                uri.update(client_cert=http["client_cert"], client_key=http["client_key"])
            why = judge_http(http, self.call("ansible.legacy.uri", uri))
            if why:
                return why
        for command in commands:
            why = judge_command(command, self.call("ansible.legacy.command", {"argv": command["argv"]}))
            if why:
                return why
        return None

    def wait_healthy(self, command, old_pid, commands):
        """Poll until the recognised process passes every probe or the timeout ends: (pid, None) or (None, why)."""
        deadline = self.clock() + self.args["timeout"]
        while True:
            pid, why = self.identify(command, old_pid)
            if pid is not None:
                why = self.probe(commands)
                if why is None:
                    return pid, None
            if self.clock() >= deadline:
                return None, why
            self.sleep(self.args["delay"])

    def restart(self):
        res = self.call("ansible.legacy.systemd_service", {"name": self.unit["name"], "state": "restarted"})
        if res.get("failed"):
            return "systemctl restart %s failed: %s" % (self.unit["name"], to_text(res.get("msg") or "").strip())
        return None

    def expected_command(self):
        text = self.slurp(self.static_pod["manifest"])
        if text is None:
            raise ValueError("cannot read %s" % self.static_pod["manifest"])
        return manifest_command(text, self.static_pod["manifest"])

    def gate(self):
        """(True, pid, None) or (False, None, why the gate failed, naming the step)."""
        command, old_pid = None, 0
        if self.static_pod:
            command = self.expected_command()
        elif self.unit["restart"]:
            old_pid = self.unit_state()[1]
            why = self.restart()
            self.steps.append("restarted %s" % self.unit["name"])
            if why:
                return False, None, why
        pid, why = self.wait_healthy(command, old_pid, self.args["commands"])
        if pid is None:
            return False, None, "not healthy within %d s: %s" % (self.args["timeout"], why)
        self.steps.append("healthy as PID %d" % pid)
        if self.args["stable_seconds"]:
            self.sleep(self.args["stable_seconds"])
        again, why = self.identify(command, 0)
        if again != pid:
            return False, None, "the process did not keep running: PID %d passed the probes, %s later %s" % (
                pid, "%d s" % self.args["stable_seconds"] if self.args["stable_seconds"] else "moments",
                "PID %d ran" % again if again else why)
        self.steps.append("still PID %d after %d s" % (pid, self.args["stable_seconds"]))
        if self.args["failed_checks"]:
            return False, None, "; ".join(self.args["failed_checks"])
        return True, pid, None

    def logs(self):
        """(lines, where from), read before the rollback restarts anything."""
        count = self.args["log_lines"]
        if self.unit:
            res = self.call("ansible.legacy.command", {"argv": [
                "journalctl", "-u", self.unit["name"], "-n", str(count), "--no-pager", "-o", "cat"]})
            return to_text(res.get("stdout") or "").splitlines()[-count:], "journalctl -u %s" % self.unit["name"]
        state_dir = self.static_pod.get("state_dir")
        if state_dir:
            path = posixpath.join(state_dir, "%s.json" % self.component)
            data = self.slurp(path)
            if data is not None:
                return log_lines_from_state(data, count), path
        return [], "no pod state file"

    def restore_files(self):
        """Put the backups back through owned_file (no backup: remove the file when it did not exist before)."""
        restored = []
        for item in self.args["restore"]:
            if item.get("backup"):
                data = self.slurp(item["backup"])
                if data is None:
                    raise ValueError("cannot read the backup %s" % item["backup"])
                write = dict(path=item["path"], content=to_text(data))
                write.update((k, item[k]) for k in ("mode", "owner", "group") if item.get(k))
                res = self.call("secure_cluster.k8s.owned_file", write)
                if res.get("failed"):
                    raise ValueError("cannot restore %s: %s" % (item["path"], to_text(res.get("msg"))))
                restored.append("%s was restored from %s" % (item["path"], item["backup"]))
            elif item.get("remove_without_backup"):
                res = self.call("ansible.legacy.file", {"path": item["path"], "state": "absent"})
                if res.get("failed"):
                    raise ValueError("cannot remove %s: %s" % (item["path"], to_text(res.get("msg"))))
                restored.append("the new %s was removed (there was none before)" % item["path"])
            else:
                restored.append("%s had no backup (its content did not change)" % item["path"])
        return restored

    def roll_back(self):
        """(restored, healthy again, why not)."""
        restored = self.restore_files()
        command = None
        if self.static_pod:
            command = self.expected_command()
        else:
            why = self.restart()
            if why:
                return restored, False, why
        commands = self.args.get("rollback_commands")
        pid, why = self.wait_healthy(command, 0, self.args["commands"] if commands is None else commands)
        return restored, pid is not None, why

    def run(self):
        """The result dict of the task."""
        try:
            ok, pid, why = self.gate()
        except ValueError as exc:  # the written manifest cannot be read back: roll back as well
            ok, pid, why = False, None, to_text(exc)
        if ok:
            return dict(changed=self.unit is not None and self.unit["restart"], healthy=True, pid=pid,
                        steps=self.steps, msg="%s is healthy (PID %d)" % (self.component, pid))
        logs, source = self.logs()
        try:
            restored, again, still_why = self.roll_back()
        except ValueError as exc:
            restored, again, still_why = ["the rollback failed: %s" % to_text(exc)], False, to_text(exc)
        paths = [item["path"] for item in self.args["restore"]] or [
            self.static_pod["manifest"] if self.static_pod else self.unit["name"]]
        return dict(failed=True, changed=True, healthy=False, rolled_back=restored, healthy_after_rollback=again,
                    reason=why, steps=self.steps, last_log_lines=logs,
                    msg=failure_message(self.component, paths, why, self.args.get("changes"), restored, again,
                                        still_why, logs, source, self.args["timeout"]))
