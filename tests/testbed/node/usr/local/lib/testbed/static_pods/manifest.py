"""A static Pod manifest as the kubelet's file source reads it: decoding, the Pod validation the runner
applies, the object hash that decides a restart, and the directory scan with the duplicate-name filter.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import socket

try:
    import yaml
except ImportError:  # pragma: no cover
    yaml = None


# --------------------------------------------------------------------------------------------------------------
# manifests
# --------------------------------------------------------------------------------------------------------------

DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class Manifest:
    """One file of the manifest directory, decoded."""

    def __init__(self, path, data):
        self.path = path
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.pod = None
        self.error = None
        self.name = None
        self.uid = None
        try:
            self._decode(data)
        except ValueError as exc:
            self.error = str(exc)
        if self.name is None:
            base = os.path.basename(path)
            self.name = base.split(".", 1)[0] or base

    def _decode(self, data):
        if yaml is None:  # pragma: no cover
            raise ValueError("PyYAML is not installed")
        try:
            obj = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise ValueError(f"{self.path}: couldn't parse as pod(yaml: {where}{problem}), please check config "
                             "file") from None
        if not isinstance(obj, dict):
            raise ValueError(f"{self.path}: couldn't parse as pod(Object 'Kind' is missing in "
                             f"'{json.dumps(obj, default=str)[:100]}'), please check config file")
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        if isinstance(meta.get("name"), str) and meta.get("name"):
            self.name = meta["name"]
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if not kind:
            raise ValueError(f"{self.path}: couldn't parse as pod(Object 'Kind' is missing), please check config "
                             "file")
        if kind != "Pod" or api_version != "v1":
            raise ValueError(f"{self.path}: couldn't parse as pod(no kind {json.dumps(kind)} is registered for "
                             f"version {json.dumps(api_version)}), please check config file"
                             if kind != "Pod" else
                             f"{self.path}: invalid pod: apiVersion {json.dumps(api_version)} is not v1")
        errs = []
        name = meta.get("name")
        if not name:
            errs.append("metadata.name: Required value: name or generateName is required")
        elif not isinstance(name, str) or not DNS_SUBDOMAIN.fullmatch(name) or len(name) > 253:
            errs.append(f"metadata.name: Invalid value: {json.dumps(name)}: a lowercase RFC 1123 subdomain must "
                        "consist of lower case alphanumeric characters, '-' or '.'")
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            errs.append("spec: Required value")
            spec = {}
        containers = spec.get("containers")
        if not isinstance(containers, list) or not containers:
            errs.append("spec.containers: Required value")
            containers = []
        volumes = {}
        for i, vol in enumerate(spec.get("volumes") or []):
            if not isinstance(vol, dict) or not vol.get("name"):
                errs.append(f"spec.volumes[{i}].name: Required value")
                continue
            if vol["name"] in volumes:
                errs.append(f"spec.volumes[{i}].name: Duplicate value: {json.dumps(vol['name'])}")
            volumes[vol["name"]] = vol
            hp = vol.get("hostPath")
            if hp is not None and (not isinstance(hp, dict) or not hp.get("path")):
                errs.append(f"spec.volumes[{i}].hostPath.path: Required value")
        for i, ctr in enumerate(containers):
            if not isinstance(ctr, dict):
                errs.append(f"spec.containers[{i}]: Invalid value")
                continue
            if not ctr.get("name"):
                errs.append(f"spec.containers[{i}].name: Required value")
            if not ctr.get("image"):
                errs.append(f"spec.containers[{i}].image: Required value")
            for field in ("command", "args"):
                value = ctr.get(field)
                if value is not None and (not isinstance(value, list) or
                                          not all(isinstance(v, (str, int, float)) for v in value)):
                    errs.append(f"spec.containers[{i}].{field}: Invalid value: must be a list of strings")
            for j, mount in enumerate(ctr.get("volumeMounts") or []):
                if not isinstance(mount, dict):
                    continue
                if mount.get("name") not in volumes:
                    errs.append(f"spec.containers[{i}].volumeMounts[{j}].name: Not found: "
                                f"{json.dumps(mount.get('name'))}")
                if not mount.get("mountPath"):
                    errs.append(f"spec.containers[{i}].volumeMounts[{j}].mountPath: Required value")
        policy = spec.get("restartPolicy", "Always")
        if policy not in ("Always", "OnFailure", "Never"):
            errs.append(f"spec.restartPolicy: Unsupported value: {json.dumps(policy)}: supported values: "
                        "\"Always\", \"OnFailure\", \"Never\"")
        if errs:
            detail = errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]"
            raise ValueError(f"{self.path}: invalid pod: " + detail)
        if not containers[0].get("command"):
            raise ValueError(f"{self.path}: testbed: containers[0].command is empty; the testbed runs the command "
                             "as a host process and has no image entrypoint to fall back to")
        self.pod = obj
        canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
        self.uid = hashlib.md5(f"{canonical}host:{socket.gethostname()}file:{self.path}".encode()).hexdigest()

    @property
    def valid(self):
        return self.pod is not None


def scan(directory):
    """(valid manifests by name, invalid manifests by name, duplicate notes by name) in kubelet order."""
    paths = []
    if os.path.isfile(directory):
        paths = [directory]
    elif os.path.isdir(directory):
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            names = []
        for name in names:
            if name.startswith("."):
                continue
            path = os.path.join(directory, name)
            if os.path.isdir(path):
                continue
            paths.append(path)
    valid, invalid, duplicates = {}, {}, collections.defaultdict(list)
    for path in paths:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        manifest = Manifest(path, data)
        if not manifest.valid:
            invalid.setdefault(manifest.name, manifest)
            continue
        if manifest.name in valid:
            duplicates[manifest.name].append(path)
            continue
        valid[manifest.name] = manifest
    return valid, invalid, duplicates
