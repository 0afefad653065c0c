"""The stand-ins' command line: spf13/pflag's parsing and refusals (unknown flag, shorthands, a flag without its
argument, typed values with strconv's messages), for the flags k8s_flags gives the node's version.

The collection's own reader of command lines, plugins/module_utils/k8s_args.py, is deliberately lenient (it
reads whatever a node runs); this one must refuse what the real binaries refuse, with their wording. See
tests/testbed/README.md, "The stand-ins".
"""

from __future__ import annotations

import re

from .core import (
    go_csv_split, go_parse_bool, go_parse_duration, go_parse_float, go_parse_int, go_quote, parse_typed, UsageError,
)

# --------------------------------------------------------------------------------------------------------------
# pflag-compatible command line parsing
# --------------------------------------------------------------------------------------------------------------


def _normalize_type(typ):
    typ = (typ or "bool").strip()
    typ = re.sub(r"\[=.*\]$", "", typ)  # "version[=true]"
    low = typ.lower()
    if low in ("bool", "boolean"):
        return "bool"
    if low in ("strings", "stringslice", "[]string"):
        return "strings"
    if low in ("stringarray",):
        return "stringArray"
    if low == "level":
        return "int32"
    if low == "version":
        return "version"
    return typ


class FlagSet:
    """Parsed command line: values keep every occurrence in order (pflag semantics applied by the getters)."""

    SHORTHANDS = {"v": "v", "h": "help"}

    def __init__(self, component, spec):
        self.component = component
        self.spec = {name: _normalize_type(typ) for name, typ in spec.items()}
        self.spec.setdefault("help", "bool")
        self.spec.setdefault("version", "version")
        self.values = {}
        self.args = []

    # -- parsing ------------------------------------------------------------------------------------------------
    def is_bool(self, name):
        return self.spec.get(name) in ("bool", "version")

    @staticmethod
    def normalize(name):
        return name.replace("_", "-")  # cliflag.WordSepNormalizeFunc

    def flag_label(self, name):
        for short, long_name in self.SHORTHANDS.items():
            if long_name == name and name in self.spec:
                return f"-{short}, --{name}"
        return f"--{name}"

    def _set(self, name, value):
        typ = self.spec[name]
        if typ == "version":
            if value not in ("raw",):
                try:
                    go_parse_bool(value)
                except ValueError as exc:
                    raise UsageError(f"invalid argument {go_quote(value)} for {go_quote(self.flag_label(name))} "
                                     f"flag: {exc}") from None
        elif typ in ("strings", "stringArray"):
            pass
        else:
            try:
                parse_typed(typ, value)
            except ValueError as exc:
                raise UsageError(f"invalid argument {go_quote(value)} for {go_quote(self.flag_label(name))} "
                                 f"flag: {exc}") from None
        self.values.setdefault(name, []).append(value)

    def parse(self, argv):
        args = list(argv)
        while args:
            s = args.pop(0)
            if len(s) == 0 or s[0] != "-" or len(s) == 1:
                self.args.append(s)
                continue
            if s[1] == "-":
                if len(s) == 2:  # "--" terminates the flags
                    self.args.extend(args)
                    break
                self._parse_long(s, args)
            else:
                self._parse_short(s, args)
        return self

    def _parse_long(self, s, args):
        body = s[2:]
        if not body or body[0] in "-=":
            raise UsageError(f"bad flag syntax: {s}")
        name, eq, value = body.partition("=")
        name = self.normalize(name)
        if name not in self.spec:
            raise UsageError(f"unknown flag: --{name}")
        if eq:
            self._set(name, value)
        elif self.is_bool(name):
            self._set(name, "true")
        elif args:
            self._set(name, args.pop(0))
        else:
            raise UsageError(f"flag needs an argument: {s}")

    def _parse_short(self, s, args):
        shorthands = s[1:]
        while shorthands:
            c = shorthands[0]
            name = self.SHORTHANDS.get(c)
            if name is None or name not in self.spec:
                raise UsageError(f"unknown shorthand flag: {c!r} in -{shorthands}".replace("'", "'"))
            if len(shorthands) > 2 and shorthands[1] == "=":
                self._set(name, shorthands[2:])
                return
            if self.is_bool(name):
                self._set(name, "true")
                shorthands = shorthands[1:]
                continue
            if len(shorthands) > 1:
                self._set(name, shorthands[1:])
                return
            if args:
                self._set(name, args.pop(0))
                return
            raise UsageError(f"flag needs an argument: {c!r} in -{shorthands}")

    # -- getters ------------------------------------------------------------------------------------------------
    def changed(self, name):
        return name in self.values

    def raw(self, name, default=None):
        vals = self.values.get(name)
        return vals[-1] if vals else default

    def get_str(self, name, default=""):
        return self.raw(name, default)

    def get_bool(self, name, default=False):
        raw = self.raw(name)
        return default if raw is None else go_parse_bool(raw)

    def get_int(self, name, default=0):
        raw = self.raw(name)
        return default if raw is None else go_parse_int(raw)

    def get_float(self, name, default=0.0):
        raw = self.raw(name)
        return default if raw is None else go_parse_float(raw)

    def get_duration(self, name, default=0.0):
        raw = self.raw(name)
        return default if raw is None else go_parse_duration(raw)

    def get_list(self, name, default=None):
        vals = self.values.get(name)
        if not vals:
            return list(default or [])
        if self.spec.get(name) == "stringArray":
            return list(vals)
        out = []
        for v in vals:
            out.extend(go_csv_split(v))
        return out

    def get_map(self, name):
        out = {}
        for item in self.get_list(name):
            if not item:
                continue
            key, dummy, value = item.partition("=")
            out[key.strip()] = value.strip()
        return out
