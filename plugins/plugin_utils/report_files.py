# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report files of the audits, on the controller: one naming rule and one atomic writer for cis_audit's
``report_dir`` and cis_report's fleet reports (a dashboard or a CI step reading the directory never sees half a
file)."""
from __future__ import annotations

import json
import os
import re
import tempfile

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_report


def safe_name(host):
    """The file name stem of a host's reports."""
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", str(host)) or "host"


def json_text(data):
    return json.dumps(data, indent=2, default=to_text) + "\n"


def write(path, text):
    """Replace ``path`` with ``text`` (mode 0644) through a temporary file beside it and a rename."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_host_reports(report_dir, evaluation, formats=("json", "junit")):
    """``<host>.json`` (kube-bench's shape) and ``<host>.junit.xml`` of one evaluation; returns their paths."""
    os.makedirs(report_dir, exist_ok=True)
    stem = os.path.join(report_dir, safe_name(evaluation.get("host")))
    paths = {}
    if "json" in formats:
        paths["json"] = stem + ".json"
        write(paths["json"], json_text(cis_report.to_kube_bench(evaluation)))
    if "junit" in formats:
        paths["junit"] = stem + ".junit.xml"
        write(paths["junit"], cis_report.to_junit([evaluation]))
    return paths
