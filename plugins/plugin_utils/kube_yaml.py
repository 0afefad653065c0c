# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""YAML written back to Kubernetes files in the look of sigs.k8s.io/yaml (what kubeadm and kubectl write), for the
action plugins that edit on the controller: static pod manifests, the kubeadm ClusterConfiguration."""

from __future__ import annotations

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False

if HAS_YAML:
    class KubeDumper(yaml.SafeDumper):
        """Block style, "- " level with the parent key, double quotes where quoting is needed, no line folding,
        no anchors."""

        def choose_scalar_style(self):
            style = super(KubeDumper, self).choose_scalar_style()
            return '"' if style == "'" else style

        def ignore_aliases(self, data):
            return True


def dump(document):
    """YAML text of a document, keys in their existing order."""
    return yaml.dump(document, Dumper=KubeDumper, default_flow_style=False, sort_keys=False, width=1 << 30,
                     allow_unicode=True)
