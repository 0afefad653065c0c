# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/role_docs.py: the README variables section rendered from meta/argument_specs.yml."""
from __future__ import annotations

import runpy
import types
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


# run_path compiles without writing __pycache__ next to the script.
rd = types.SimpleNamespace(**runpy.run_path(str(ROOT / "scripts" / "role_docs.py")))

SPECS = {"argument_specs": {
    "tuning": {"short_description": "Second entry point", "options": {}},
    "main": {
        "short_description": "Harden M(secure_cluster.k8s.static_pod_manifest) things",
        "options": {
            "demo_mode": {"description": ["How to run.", "V(strict) fails | V(loose) warns."], "type": "str",
                          "default": "strict", "choices": ["strict", "loose"]},
            "demo_paths": {"description": "Paths.", "type": "list", "elements": "path",
                           "default": ["/etc/kubernetes/a-rather-long-path.conf", "/etc/kubernetes/other.conf"]},
            "demo_key": {"description": "Secret key.", "type": "str", "required": True, "no_log": True},
            "demo_waivers": {"description": "Waivers.", "type": "list", "elements": "dict", "default": [],
                             "options": {"id": {"description": "Id.", "type": "str", "required": True},
                                         "hosts": {"description": "Hosts.", "type": "list", "elements": "str"}}},
        }},
}}


def write_role(roles, name, specs, readme=None):
    meta = roles / name / "meta"
    meta.mkdir(parents=True)
    (meta / "argument_specs.yml").write_text(yaml.safe_dump(specs, sort_keys=False), encoding="utf-8")
    if readme is not None:
        (roles / name / "README.md").write_text(readme, encoding="utf-8")
    return roles / name / "README.md"


@pytest.mark.parametrize("text, expected", [
    ("C(--profiling=false) and O(demo_mode=strict), RV(results[].missing)",
     "`--profiling=false` and `demo_mode=strict`, `results[].missing`"),
    ("see M(ansible.builtin.file), I(not) B(this)", "see `ansible.builtin.file`, *not* **this**"),
    ("L(the docs, https://example.org/x) or U(https://example.org)",
     "[the docs](https://example.org/x) or <https://example.org>"),
    ("V(f(x)) stays whole", "`f(x)` stays whole"),
    ("plain (parenthesised) text", "plain (parenthesised) text"),
    ("keys (*.key) in <dir>, C(<host>.json) as is", "keys (\\*.key) in &lt;dir&gt;, `<host>.json` as is"),
])
def test_markup(text, expected):
    assert rd.markup(text) == expected


def test_section_rows_required_choices_and_suboptions():
    section = rd.render_section("demo", SPECS)
    lines = section.splitlines()
    assert lines[0] == rd.BEGIN_MARKER and lines[-1] == rd.END_MARKER
    assert "Required: `demo_key`." in lines
    # Choices and descriptions are escaped so the pipe does not split the table cell.
    assert ('| `demo_mode` | str | `"strict"` | `"strict"`, `"loose"` | How to run. `strict` fails \\| `loose` warns. |'
            in lines)
    assert "| `demo_key` | str | required |  | Secret key. (secret: not logged) |" in lines
    assert "| `demo_waivers` | list of dict | `[]` |  | Waivers. |" in lines
    assert "| `demo_waivers.id` | str | required |  | Id. |" in lines
    assert "| `demo_waivers.hosts` | list of str |  |  | Hosts. |" in lines
    # Source order of the options is kept.
    order = [line.split("`")[1] for line in lines if line.startswith("| `")]
    assert order == ["demo_mode", "demo_paths", "demo_key", "demo_waivers", "demo_waivers.id", "demo_waivers.hosts"]


def test_long_default_goes_below_the_table_as_yaml():
    section = rd.render_section("demo", SPECS)
    assert "| `demo_paths` | list of path | see [below](#default-demo-paths) |" in section
    block = section.split('<a id="default-demo-paths"></a>Default of `demo_paths`:')[1]
    assert block.startswith("\n\n```yaml\n- /etc/kubernetes/a-rather-long-path.conf\n- /etc/kubernetes/other.conf\n```")


def test_main_entry_point_first_then_by_name():
    section = rd.render_section("demo", SPECS)
    assert section.index("### Entry point `main`") < section.index("### Entry point `tuning`")
    assert "Harden `secure_cluster.k8s.static_pod_manifest` things" in section
    assert section.split("### Entry point `tuning`")[1].startswith("\n\nSecond entry point\n\nNo variables.")


def test_update_keeps_hand_written_text_and_replaces_only_the_block():
    old = "# Title\n\nIntro.\n\n%s\nstale\n%s\n\nFooter kept.\n" % (rd.BEGIN_MARKER, rd.END_MARKER)
    new = rd.update_readme(old, "demo", "%s\nfresh\n%s\n" % (rd.BEGIN_MARKER, rd.END_MARKER))
    assert new == "# Title\n\nIntro.\n\n%s\nfresh\n%s\n\nFooter kept.\n" % (rd.BEGIN_MARKER, rd.END_MARKER)


def test_update_appends_the_block_when_markers_are_missing_and_refuses_a_lone_begin():
    section = "%s\nfresh\n%s\n" % (rd.BEGIN_MARKER, rd.END_MARKER)
    assert rd.update_readme("# Title\n\nText.\n\n\n", "demo", section) == "# Title\n\nText.\n\n" + section
    with pytest.raises(ValueError, match="no end marker"):
        rd.update_readme("# T\n\n%s\nhalf\n" % rd.BEGIN_MARKER, "demo", section)


def test_write_then_check_round_trip_is_stable(tmp_path, capsys):
    roles = tmp_path / "roles"
    kept = write_role(roles, "alpha", SPECS, "# alpha\n\nHand-written usage.\n")
    beta = {"argument_specs": {"main": {"short_description": "Beta role.", "options": {}}}}
    created = write_role(roles, "beta", beta)
    assert rd.main(["--check", "--roles-dir", str(roles)]) == 1
    out = capsys.readouterr()
    assert "+| `demo_mode` |" in out.out and "alpha, beta" in out.err
    assert rd.main(["--write", "--roles-dir", str(roles)]) == 0
    first = kept.read_text(encoding="utf-8"), created.read_text(encoding="utf-8")
    assert first[0].startswith("# alpha\n\nHand-written usage.\n\n" + rd.BEGIN_MARKER)
    assert first[1].startswith("# secure_cluster.k8s.beta\n\nBeta role.\n\n" + rd.BEGIN_MARKER)
    assert rd.main(["--check", "--roles-dir", str(roles)]) == 0
    assert rd.main(["--write", "--roles-dir", str(roles)]) == 0
    assert (kept.read_text(encoding="utf-8"), created.read_text(encoding="utf-8")) == first
    # A hand edit inside the block is drift.
    kept.write_text(first[0].replace("How to run.", "How to walk."), encoding="utf-8")
    assert rd.main(["--check", "--roles-dir", str(roles)]) == 1


def test_repository_readmes_are_current():
    stale = [role for role, _readme, current, expected in rd.role_readmes(ROOT / "roles") if current != expected]
    assert not stale, "run make docs: %s" % ", ".join(stale)
