# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The minor of a Kubernetes (or etcd) version: the one parser every table of the collection keys on.

Standard library only: node-side modules (etcd_env_file, static_pod_manifest) import it through their module_utils.

Public API (docs/dev/contracts.md)::

    SUPPORTED_MINORS                                the Kubernetes minors the collection supports
    minor(version, supported=SUPPORTED_MINORS, product="Kubernetes") -> "1.33"
    minor_key("1.33") -> (1, 33)                    sort key of a minor; ValueError unless exactly "N.N"

``minor`` reads what the tools print and what users write: "v1.33.4", "1.33.4", "1.33", "v1.35.0-rc.1",
"1.33.4+k3s1", "Kubernetes v1.33.5" (``kubelet --version``), "v3.5.21-0" (etcd's image tag), surrounding blanks.
Anything else -- None, a number, "latest", "1", "v1.x", "1.33.4.5" -- is a ValueError, as is a minor outside
``supported`` (pass ``supported=None`` to accept any).
"""

from __future__ import annotations

import re

SUPPORTED_MINORS = ("1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37")

# major.minor[.patch][-pre-release][+build], as semver and the Kubernetes release tags write them
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+][0-9A-Za-z.+-]+)?$")
_MINOR_RE = re.compile(r"^(\d+)\.(\d+)$")


def minor(version, supported=SUPPORTED_MINORS, product="Kubernetes"):
    """The "major.minor" of ``version`` (see the module docstring); ValueError when it is not a version of
    ``product`` or its minor is not in ``supported`` (None: any)."""
    if not isinstance(version, str):
        raise ValueError("%s version must be a string such as '1.33' or 'v1.33.4', got %r" % (product, version))
    text = version.strip()
    if text.startswith(product + " "):  # "Kubernetes v1.33.5", as kubelet --version prints it
        text = text[len(product) + 1:].strip()
    match = _VERSION_RE.match(text)
    if not match:
        raise ValueError("not a %s version: %r (expected e.g. '1.33', '1.33.4' or 'v1.33.4')" % (product, version))
    result = "%d.%d" % (int(match.group(1)), int(match.group(2)))
    if supported is not None and result not in supported:
        raise ValueError("%s %s is not supported (supported minors: %s)" % (product, result, ", ".join(supported)))
    return result


def minor_key(text):
    """(major, minor) of a minor written exactly "N.N", to sort and compare minors; ValueError otherwise."""
    match = _MINOR_RE.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError("%r is not a minor such as 1.33" % (text,))
    return int(match.group(1)), int(match.group(2))
