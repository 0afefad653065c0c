#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the variables section of every roles/<role>/README.md from the role's meta/argument_specs.yml.

Usage: scripts/role_docs.py --write | --check [--roles-dir roles]

Only the text between BEGIN_MARKER and END_MARKER is generated; the rest of a README is kept as written. A README
without the markers gets the section appended; a role without a README gets one with a heading. --check prints a
diff and exits 1 when a README is not what --write would produce.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

import yaml

BEGIN_MARKER = "<!-- BEGIN generated: variables (scripts/role_docs.py from meta/argument_specs.yml; run make docs) -->"
END_MARKER = "<!-- END generated: variables -->"
# Defaults longer than this are shown as YAML below the table instead of inside it.
INLINE_DEFAULT_MAX = 60
COLLECTION = "secure_cluster.k8s"

_MARKUP = re.compile(r"\b(RV|[CVOMIBUEP])\(([^()]*(?:\([^()]*\)[^()]*)*)\)|\bL\(([^,()]*),\s*([^()]*)\)")


def markup(text):
    """Ansible doc markup (C(), O(), M(), L(), ...) as Markdown."""
    def repl(match):
        if match.group(3) is not None:
            return "[%s](%s)" % (match.group(3), match.group(4).strip())
        kind, value = match.group(1), match.group(2)
        if kind == "I":
            return "*%s*" % value
        if kind == "B":
            return "**%s**" % value
        if kind == "U":
            return "<%s>" % value
        return "`%s`" % value
    out, pos = [], 0
    for match in _MARKUP.finditer(text):
        out += [_escape(text[pos:match.start()]), repl(match)]
        pos = match.end()
    return "".join(out + [_escape(text[pos:])])


def _escape(plain):
    """Plain text that Markdown would read as emphasis or an HTML tag, made literal."""
    return plain.replace("*", "\\*").replace("<", "&lt;").replace(">", "&gt;")


def _paragraphs(value):
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [" ".join(str(p).split()) for p in value]


def _cell(text):
    return text.replace("|", "\\|")


def _type(spec):
    kind = spec.get("type", "str")
    if kind == "list" and spec.get("elements"):
        return "list of %s" % spec["elements"]
    return kind


def _value(value):
    return json.dumps(value, ensure_ascii=False)


def _flatten(options, prefix=""):
    """(dotted name, spec) for each option and, after it, its suboptions, in source order."""
    for name, spec in (options or {}).items():
        spec = spec or {}
        yield prefix + name, spec
        yield from _flatten(spec.get("options"), prefix + name + ".")


def render_entry_point(name, entry):
    lines = ["### Entry point `%s`" % name, ""]
    short = entry.get("short_description")
    if short:
        lines += [markup(" ".join(short.split())), ""]
    options = list(_flatten(entry.get("options")))
    if not options:
        return lines + ["No variables.", ""]
    required = [n for n, s in options if s.get("required") and "." not in n]
    lines += ["Required: %s." % (", ".join("`%s`" % n for n in required) if required else "none"), ""]
    lines += ["| variable | type | default | choices | description |", "| --- | --- | --- | --- | --- |"]
    long_defaults = []
    for opt, spec in options:
        if spec.get("required"):
            default = "required"
        elif "default" not in spec:
            default = ""
        else:
            shown = _value(spec["default"])
            if len(shown) > INLINE_DEFAULT_MAX:
                long_defaults.append((opt, spec["default"]))
                default = "see [below](#default-%s)" % _anchor(opt)
            else:
                default = "`%s`" % shown
        choices = ", ".join("`%s`" % _value(c) for c in spec.get("choices") or [])
        desc = " ".join(markup(p) for p in _paragraphs(spec.get("description")))
        if spec.get("no_log"):
            desc += " (secret: not logged)"
        lines.append("| `%s` | %s | %s | %s | %s |" % (opt, _type(spec), _cell(default), _cell(choices), _cell(desc)))
    lines.append("")
    for opt, value in long_defaults:
        lines += ['<a id="default-%s"></a>Default of `%s`:' % (_anchor(opt), opt), "",
                  "```yaml", yaml.safe_dump(value, default_flow_style=False, sort_keys=False, width=100,
                                            allow_unicode=True).rstrip("\n"), "```", ""]
    return lines


def _anchor(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def render_section(role, specs):
    """The generated block (markers included) for one role's argument_specs mapping."""
    lines = [BEGIN_MARKER, "## Variables", "",
             "Every variable of `%s.%s`, from `meta/argument_specs.yml` (the source of truth; unknown variables "
             "are rejected). `ansible-doc -t role %s.%s` shows the same." % (COLLECTION, role, COLLECTION, role), ""]
    entries = (specs or {}).get("argument_specs") or {}
    for name in sorted(entries, key=lambda n: (n != "main", n)):
        lines += render_entry_point(name, entries[name] or {})
    while lines[-1] == "":
        lines.pop()
    return "\n".join(lines + [END_MARKER]) + "\n"


def new_readme(role, specs):
    """A README for a role that has none: heading, the role's short description (hand-editable), the section."""
    entries = (specs or {}).get("argument_specs") or {}
    main_entry = entries.get("main") or next(iter(entries.values()), None) or {}
    intro = markup(" ".join(str(main_entry.get("short_description") or "").split()))
    return "# %s.%s\n\n%s%s" % (COLLECTION, role, intro.rstrip(".") + ".\n\n" if intro else "", render_section(role, specs))


def update_readme(current, role, section):
    """The README text with its generated block replaced (or appended)."""
    # Any begin marker counts, even one whose trailing text was edited, so the block is never duplicated.
    match = re.search(r"<!-- BEGIN generated: variables\b.*?-->", current)
    if not match:
        return current.rstrip("\n") + "\n\n" + section
    end = current.find(END_MARKER, match.start())
    if end == -1:
        raise ValueError("%s: README has the begin marker of the generated section but no end marker" % role)
    tail = current[end + len(END_MARKER):].lstrip("\n")
    return current[:match.start()] + section + ("\n" + tail if tail else "")


def role_readmes(roles_dir):
    """(role, README path, expected text) for every role with meta/argument_specs.yml, sorted by role."""
    for spec_file in sorted(Path(roles_dir).glob("*/meta/argument_specs.y*ml")):
        role_dir = spec_file.parent.parent
        readme = role_dir / "README.md"
        current = readme.read_text(encoding="utf-8") if readme.exists() else None
        specs = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
        role = role_dir.name
        yield role, readme, current, (new_readme(role, specs) if current is None
                                      else update_readme(current, role, render_section(role, specs)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite stale READMEs")
    mode.add_argument("--check", action="store_true", help="exit 1 with a diff when a README is stale")
    parser.add_argument("--roles-dir", default=str(Path(__file__).resolve().parent.parent / "roles"))
    args = parser.parse_args(argv)
    stale = []
    for role, readme, current, expected in role_readmes(args.roles_dir):
        if current == expected:
            continue
        stale.append(role)
        if args.write:
            readme.write_text(expected, encoding="utf-8")
            print("wrote %s" % readme)
        else:
            sys.stdout.writelines(difflib.unified_diff((current or "").splitlines(True), expected.splitlines(True),
                                                       str(readme), str(readme) + " (generated)"))
    if args.check and stale:
        print("role READMEs out of date (%s): run make docs" % ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
