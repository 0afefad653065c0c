# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan the kube-apiserver EncryptionConfiguration so the key is never lost, never silently regenerated and the
same on every control-plane node.

Pure functions, standard library only; run on the controller by the ``encryption_config_plan`` filter. Public API::

    key_problem(provider, key) -> None | sentence       # base64 and length (aescbc 16/24/32, secretbox 32 bytes)
    key_name(key) -> "key-<8 hex>"                       # stable name derived from the key
    providers_of(doc) -> [provider dict, ...]            # the providers of the entry that covers secrets
    plan(existing, provider, user_key=None, generated_key=None, resources=None, kms=None, keep_old_keys=True)
        -> {config, source, key_name, rotated, errors}

Choice of the primary (write) provider, in order:

1. ``provider == "kms"``: a KMS v2 provider from ``kms`` (name, endpoint, timeout).
2. ``user_key`` (a value the user keeps in Ansible Vault): used as is; when the nodes already hold another key,
   that is a rotation and the old key stays as a secondary provider so existing data can still be read.
3. the key already on the control-plane nodes (``existing``: host -> file text or None); all nodes must agree.
4. ``generated_key`` (made once on the controller): only when no node has a key yet.

Keys already on the nodes other than the primary stay as secondary providers (``keep_old_keys``), ``identity``
comes last so data written before encryption was enabled can still be read. Nothing here is random: the same
inputs give the same configuration, so a rerun writes nothing.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import re

KEY_SIZES = {"aescbc": (16, 24, 32), "aesgcm": (16, 24, 32), "secretbox": (32,)}
KEY_PROVIDERS = tuple(KEY_SIZES)
PROVIDERS = ("aescbc", "secretbox", "kms")
_B64_RE = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def key_problem(provider, key):
    """None when ``key`` is a valid base64 secret for ``provider``; otherwise why not (without the key)."""
    sizes = KEY_SIZES.get(provider)
    if sizes is None:
        return "provider %s takes no key (one of %s does)" % (provider, ", ".join(KEY_PROVIDERS))
    text = str(key or "").strip()
    if not text:
        return "the %s key is empty" % provider
    if len(text) % 4 or not _B64_RE.match(text):
        return "the %s key is not base64 (standard alphabet, padded)" % provider
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return "the %s key is not base64 (standard alphabet, padded)" % provider
    if len(raw) not in sizes:
        return "the %s key is %d bytes long; %s needs %s bytes" % (
            provider, len(raw), provider, " or ".join(str(s) for s in sizes))
    return None


def key_name(key):
    """A name derived from the key: stable across runs and nodes, different for every key."""
    return "key-" + hashlib.sha256(str(key).strip().encode("ascii")).hexdigest()[:8]


def providers_of(doc):
    """The providers of the resources entry that covers secrets (else the first entry); [] when there is none."""
    if not isinstance(doc, dict):
        raise ValueError("not a YAML mapping")
    if doc.get("kind") != "EncryptionConfiguration":
        raise ValueError("kind is %r, not EncryptionConfiguration" % (doc.get("kind"),))
    entries = [r for r in doc.get("resources") or [] if isinstance(r, dict)]
    for entry in entries:
        if "secrets" in (entry.get("resources") or []):
            return [p for p in entry.get("providers") or [] if isinstance(p, dict)]
    return [p for p in (entries[0].get("providers") or []) if isinstance(p, dict)] if entries else []


def _kind(provider):
    for kind in ("kms",) + KEY_PROVIDERS + ("identity",):
        if kind in provider:
            return kind
    return None


def _primary(providers):
    """(kind, key dict) of the first provider that encrypts, or (None, None)."""
    for prov in providers:
        kind = _kind(prov)
        if kind in KEY_PROVIDERS:
            keys = (prov.get(kind) or {}).get("keys") or []
            if keys and isinstance(keys[0], dict):
                return kind, keys[0]
        elif kind == "kms":
            return kind, prov["kms"]
    return None, None


def _describe(kind, key):
    if kind is None:
        return "no encryption key"
    if kind == "kms":
        return "kms provider %s" % key.get("name")
    return "%s key %s" % (kind, key.get("name"))


def plan(existing, provider, user_key=None, generated_key=None, resources=None, kms=None, keep_old_keys=True,
         parse_yaml=None):
    """See the module docstring. ``existing`` maps host names to the text of their current file (None: no
    file); ``parse_yaml`` parses that text (PyYAML's safe_load on the controller)."""
    errors = []
    result = {"config": None, "source": None, "key_name": None, "rotated": False, "errors": errors}
    if provider not in PROVIDERS:
        errors.append("encryption provider %r is not one of %s" % (provider, ", ".join(PROVIDERS)))
        return result
    resources = list(resources or ["secrets"])
    if "secrets" not in resources:
        errors.append("the encrypted resources must include secrets (CIS 1.2.27)")

    current = {}  # host -> providers
    for host in sorted(existing or {}):
        text = existing[host]
        if text is None or not str(text).strip():
            continue
        try:
            doc = parse_yaml(text) if parse_yaml else None
            current[host] = providers_of(doc)
        # any parse problem is reported and nothing is written
        except Exception as exc:  # pylint: disable=broad-except
            errors.append("the encryption configuration on %s cannot be read: %s" % (host, exc))
    primaries = dict((host, _primary(provs)) for host, provs in current.items())
    signatures = dict((host, repr(sorted(p[1].items())) if p[1] else None) for host, p in primaries.items())
    if len(set(signatures.values())) > 1:
        errors.append("the control-plane nodes hold different encryption keys (%s); make them identical before "
                      "running this role (the API servers must all read what any of them wrote)"
                      % ", ".join("%s: %s" % (h, _describe(*primaries[h])) for h in sorted(primaries)))
    if errors:
        return result
    sample = sorted(current)[0] if current else None
    old_providers = current[sample] if sample else []
    old_kind, old_key = _primary(old_providers) if sample else (None, None)

    if provider == "kms":
        kms = dict(kms or {})
        missing = [k for k in ("name", "endpoint") if not kms.get(k)]
        if missing:
            errors.append("the kms provider needs %s" % " and ".join(missing))
            return result
        primary = {"kms": {"apiVersion": "v2", "name": kms["name"], "endpoint": kms["endpoint"],
                           "timeout": kms.get("timeout") or "3s"}}
        result["source"] = "kms"
        result["key_name"] = kms["name"]
        result["rotated"] = old_kind is not None and old_key != primary["kms"]
    else:
        if user_key:
            problem = key_problem(provider, user_key)
            if problem:
                errors.append(problem + " (apiserver_encryption_key)")
                return result
            secret = str(user_key).strip()
            if old_kind == provider and old_key.get("secret") == secret:
                key = dict(old_key)
            else:
                key = {"name": key_name(secret), "secret": secret}
                result["rotated"] = old_kind is not None
            result["source"] = "user"
        elif old_kind is not None:
            primary = copy.deepcopy(old_providers[[_kind(p) for p in old_providers].index(old_kind)])
            result.update(source="existing", key_name=old_key.get("name"))
            key = None
        else:
            problem = key_problem(provider, generated_key)
            if problem:
                errors.append(problem + " (generated key)")
                return result
            secret = str(generated_key).strip()
            key = {"name": key_name(secret), "secret": secret}
            result["source"] = "generated"
        if key is not None:
            primary = {provider: {"keys": [key]}}
            result["key_name"] = key["name"]

    providers = [primary]
    primary_kind = _kind(primary)
    primary_secret = (primary.get(primary_kind) or {}).get("keys", [{}])[0].get("secret") \
        if primary_kind in KEY_PROVIDERS else None
    if keep_old_keys:
        for prov in old_providers:
            kind = _kind(prov)
            if kind in (None, "identity") or prov == primary:
                continue
            if kind in KEY_PROVIDERS:
                keys = [k for k in (prov.get(kind) or {}).get("keys") or []
                        if isinstance(k, dict) and k.get("secret") != primary_secret]
                if not keys:
                    continue
                if kind == primary_kind:
                    providers[0][kind]["keys"].extend(k for k in keys if k not in providers[0][kind]["keys"])
                    continue
                prov = {kind: dict(prov[kind], keys=keys)}
            providers.append(prov)
    providers.append({"identity": {}})
    result["config"] = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [{"resources": resources, "providers": providers}],
    }
    return result
