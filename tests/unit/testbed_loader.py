# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test node's own code (tests/testbed/node/usr/local/lib/testbed/) loaded as modules, for unit tests that
want kubeadm's real files (node_init's generators) rather than hand-written copies."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

TESTBED_LIB = Path(__file__).resolve().parents[1] / "testbed/node/usr/local/lib/testbed"


def load(name):
    """Import TESTBED_LIB/<name>.py once, as module ``testbed_<name>``, without writing __pycache__ there."""
    module_name = "testbed_" + name
    if module_name in sys.modules:
        return sys.modules[module_name]
    if str(TESTBED_LIB) not in sys.path:  # the scripts import each other, as they do when run on the node
        sys.path.append(str(TESTBED_LIB))
    spec = importlib.util.spec_from_file_location(module_name, TESTBED_LIB / (name + ".py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look the module up by name
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # the directory is an image build input
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    finally:
        sys.dont_write_bytecode = saved
    return module


node_init = load("node_init")
