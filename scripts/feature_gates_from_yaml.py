#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the "gates" entries of plugins/module_utils/data/k8s_feature_gates.json from a Kubernetes versioned feature list.

Usage: scripts/feature_gates_from_yaml.py versioned_feature_list.yaml [more lists ...] > gates.txt

The input is kubernetes/kubernetes test/compatibility_lifecycle/reference/versioned_feature_list.yaml (or the
older test/featuregates_linter/test_data/ copy) of the newest release the data should cover. Each gate becomes
"Name": "<minor><stage><default>[L] ...", stage a/b/g/d for Alpha/Beta/GA/Deprecated, default 0/1, L for
lockToDefault. Names listed twice (several inputs) keep the first list's specs. The lines are in the file's canonical
form (k8s_flag_data.dumps: sorted, one a line): paste them into "gates", move gates that left the list to
"gone_gates", set "data_minor" to the newest minor in the specs, and review the adjustments k8s_flags.py describes.
"""

from __future__ import annotations

import json
import sys

import yaml

STAGES = {"Alpha": "a", "Beta": "b", "GA": "g", "Deprecated": "d"}
# The list names a gate by its Go constant where that differs from the gate's name.
RENAMES = {"CPUCFSQuotaPeriod": "CustomCPUCFSQuotaPeriod"}


def token(spec):
    version = str(spec["version"]) or "1.0"  # the unversioned list has no version
    return "%s%s%d%s" % (version, STAGES[spec["preRelease"]], 1 if spec["default"] else 0,
                         "L" if spec.get("lockToDefault") else "")


def gate_lines(paths):
    seen = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for gate in yaml.safe_load(handle) or []:
                name = RENAMES.get(gate["name"], gate["name"])
                if name not in seen:
                    seen[name] = " ".join(token(spec) for spec in gate["versionedSpecs"])
    return ["    %s: %s," % (json.dumps(name), json.dumps(seen[name])) for name in sorted(seen)]


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    print("\n".join(gate_lines(argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
