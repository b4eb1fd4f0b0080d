"""Reading the hand-written YAML inputs strictly, with the line of every value.

PyYAML reads YAML 1.1, where an unquoted `017` is the octal number 15, `1:30`
is the number 90 (base 60), `yes`, `no`, `on` and `off` are booleans, and a key
given twice silently keeps the last value. A curator's editor (yaml-language-server)
reads YAML 1.2, where `017` is 17, `1:30` and `yes` are text. So this loader:

- parses with libyaml (fast, keeps line marks) and resolves plain scalars by the
  YAML 1.2 core schema (null, true/false, decimal/0o/0x integers, floats);
- rejects a plain scalar that YAML 1.1 reads differently (the file means
  different things to different readers), except a date or time, which is read
  as the text it is (as YAML 1.2 does);
- rejects a key given twice in one mapping, naming both lines;
- rejects aliases (`*name`) and merge keys: every value is written where it is used;
- rejects tags outside the core schema (no `!!python/...`, `!!binary`, `!!set`);
- records the 1-based line of every mapping (`__line__`), of each of its keys
  (`__lines__`), and of every value by its key path (for error messages).

All the problems of a file are reported together (`InputErrors`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..common import ROOT, BuildError

_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

TAG = "tag:yaml.org,2002:"
NULL, BOOL, INT, FLOAT, STR = (TAG + t for t in ("null", "bool", "int", "float", "str"))
MAP, SEQ = TAG + "map", TAG + "seq"
TIMESTAMP = TAG + "timestamp"

# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1023-core-schema).
CORE = [
    (NULL, re.compile(r"~|null|Null|NULL|")),
    (BOOL, re.compile(r"true|True|TRUE|false|False|FALSE")),
    (INT, re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")),
    (FLOAT, re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                       r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")),
]


def core_value(text: str):
    """A plain scalar's value under the YAML 1.2 core schema."""
    for tag, pattern in CORE:
        if pattern.fullmatch(text):
            return core_construct(tag, text)
    return text


def core_construct(tag: str, text: str):
    if tag == NULL:
        return None
    if tag == BOOL:
        return text.lower() == "true"
    if tag == INT:
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)
    if tag == FLOAT:
        lowered = text.lower()
        if lowered.endswith(".inf"):
            return -math.inf if lowered.startswith("-") else math.inf
        if lowered == ".nan":
            return math.nan
        return float(text)
    return text


_YAML11 = yaml.resolver.Resolver()
_YAML11_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def yaml11_value(node: ScalarNode):
    """What PyYAML's default (YAML 1.1) reading makes of a plain scalar, and its tag."""
    tag = _YAML11.resolve(ScalarNode, node.value, (True, False))
    construct = _YAML11_CONSTRUCTOR.yaml_constructors.get(tag)
    if construct is None:  # e.g. `<<` (merge) or `=` (value) as a plain value
        return tag, node.value
    try:
        return tag, construct(_YAML11_CONSTRUCTOR, node)
    except (ValueError, TypeError, OverflowError, yaml.YAMLError):
        return tag, node.value


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _shown(value) -> str:
    if value is None:
        return "null (no value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


@dataclass
class Problem:
    """One thing wrong in an input file, printed as `path:line: where: what`."""

    path: Path
    line: int | None
    where: str  # key path such as measures[2].places, or "" for the whole file
    what: str

    def __str__(self):
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        at = f"{shown}:{self.line}" if self.line else f"{shown}"
        return f"{at}: {self.where}: {self.what}" if self.where else f"{at}: {self.what}"


class InputErrors(BuildError):
    """Every problem found in one or more input files, one line each."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (str(p.path), p.line or 0))
        first = self.problems[0]
        super().__init__(first.path, first.what, first.line)

    def __str__(self):
        return "\n".join(str(p) for p in self.problems)

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


def key_path(path: tuple) -> str:
    """('measures', 2, 'places') -> 'measures[2].places'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class Loaded:
    """A YAML document's data plus the line of each key path (path tuple -> line)."""

    data: object
    lines: dict = field(default_factory=dict)

    def line(self, path: tuple) -> int | None:
        """The line of `path`, else of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


class _Builder:
    def __init__(self, path: Path, with_lines: bool):
        self.path, self.with_lines = path, with_lines
        self.problems: list[Problem] = []
        self.lines: dict[tuple, int] = {}
        self.seen: set[int] = set()

    def problem(self, line, where, what):
        self.problems.append(Problem(self.path, line, key_path(where), what))

    def build(self, node, where: tuple, line: int):
        if id(node) in self.seen:
            self.problem(line, where, "a YAML alias (*name) repeats a value written elsewhere; "
                         "write the value out here instead")
            return None
        self.seen.add(id(node))
        self.lines.setdefault(where, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            return self.mapping(node, where)
        if isinstance(node, SequenceNode):
            if node.tag != SEQ:
                self.problem(node.start_mark.line + 1, where, f"tag {node.tag} is not allowed")
            return [self.build(item, where + (i,), item.start_mark.line + 1) for i, item in enumerate(node.value)]
        return self.scalar(node, where)

    def mapping(self, node: MappingNode, where: tuple) -> dict:
        if node.tag != MAP:
            self.problem(node.start_mark.line + 1, where, f"tag {node.tag} is not allowed")
        result: dict = {}
        key_lines: dict = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                self.problem(line, where, "a key must be plain text, not a list or a mapping")
                continue
            if key_node.value == "<<" and key_node.style in (None, ""):
                self.problem(line, where, "merge keys (<<) are not allowed; write the keys out")
                continue
            key = self.scalar(key_node, where)
            if not isinstance(key, str):
                self.problem(line, where, f"key {key_node.value} is read as {_shown(key)}, not text; quote it")
                key = key_node.value
            if key.startswith("__"):
                self.problem(line, where, f"key {key!r} is reserved")
                continue
            if key in result:
                self.problem(line, where + (key,), f"key {key!r} given twice in one mapping "
                             f"(lines {key_lines[key]} and {line}); keep one")
                continue
            key_lines[key] = line
            self.lines[where + (key,)] = line
            result[key] = self.build(value_node, where + (key,), line)
        if self.with_lines:
            result["__line__"] = node.start_mark.line + 1
            result["__lines__"] = key_lines
        return result

    def scalar(self, node: ScalarNode, where: tuple):
        line = node.start_mark.line + 1
        text = node.value
        if node.style not in (None, ""):  # quoted or block scalar: always text (libyaml marks plain as "")
            if node.tag != STR:
                self.problem(line, where, f"tag {node.tag} is not allowed")
            return text
        implicit = next((tag for tag, pattern in CORE if pattern.fullmatch(text)), STR)
        old_tag, old = yaml11_value(node)
        if node.tag != old_tag:  # an explicit tag such as !!str 017 (libyaml resolves the rest as YAML 1.1)
            if node.tag == STR:
                return text
            if node.tag in (NULL, BOOL, INT, FLOAT) and node.tag == implicit:
                return core_construct(node.tag, text)
            self.problem(line, where, f"tag {node.tag} is not allowed here (value {text!r})")
            return text
        value = core_construct(implicit, text)
        if old_tag != TIMESTAMP and not _same(old, value):
            self.problem(line, where, f"unquoted {text} means {_shown(value)} in YAML 1.2 (editors) but "
                         f"{_shown(old)} in YAML 1.1; write {_suggest(value, old, text)}")
        return value


def _suggest(value, old, text: str) -> str:
    if isinstance(value, bool) or isinstance(old, bool):
        return f"true or false for a flag, or \"{text}\" (quoted) for text"
    if isinstance(value, int) and re.fullmatch(r"[-+]?0[0-9]+", text):
        return f"{value} for the number, or \"{text}\" (quoted) for text"
    return f"\"{text}\" (quoted) for text"


def load(path: Path, with_lines: bool = False, text: str | None = None) -> Loaded:
    """The document in `path` (or `text`, read as if from `path`), strictly; raises InputErrors."""
    path = Path(path)
    if text is None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise InputErrors([Problem(path, None, "", "file not found")]) from None
        except IsADirectoryError:
            raise InputErrors([Problem(path, None, "", "is a folder, not a file")]) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise InputErrors([Problem(path, line, "", f"not valid UTF-8 ({exc.reason} at byte {exc.start})")]) from None
    if text.startswith("\ufeff"):
        raise InputErrors([Problem(path, 1, "", "starts with a byte order mark (BOM); save as UTF-8 without BOM")])
    loader = _PARSER(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = " ".join(str(getattr(exc, "problem", None) or exc).split())
        context = getattr(exc, "context", None)
        if context:
            reason = f"{reason} ({' '.join(context.split())})"
        raise InputErrors([Problem(path, mark.line + 1 if mark else None, "", f"not valid YAML: {reason}")]) from None
    finally:
        loader.dispose()
    if node is None:
        return Loaded(None, {})
    builder = _Builder(path, with_lines)
    data = builder.build(node, (), node.start_mark.line + 1)
    if builder.problems:
        raise InputErrors(builder.problems)
    return Loaded(data, builder.lines)


def strip_lines(data):
    """A copy of loaded data without the `__line__`/`__lines__` bookkeeping keys."""
    if isinstance(data, dict):
        return {k: strip_lines(v) for k, v in data.items() if k not in ("__line__", "__lines__")}
    if isinstance(data, list):
        return [strip_lines(v) for v in data]
    return data
