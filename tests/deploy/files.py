"""Readers for the deployment files, so the tests check them without a Docker engine.

Small, strict parsers for just what bachbot's files use: Dockerfile
instructions (line continuations, comments, ``ARG`` defaults in ``FROM``),
``.dockerignore`` patterns with Docker's "last match wins" and parent-directory
rules, the setting names listed in ``.env.example``, and compose's
``${VAR}``/``${VAR:?message}``/``${VAR:-default}`` interpolation.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE_SCHEMA = Path(__file__).with_name("compose_spec.json")


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        """The ``ENV`` values this stage sets (``KEY=value`` form)."""
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for pair in shlex.split(instruction.args):
                key, sep, value = pair.partition("=")
                if not sep:
                    raise ValueError(f"line {instruction.line}: use ENV KEY=value, not {pair!r}")
                values[key] = value
        return values


def read_instructions(text: str) -> list[Instruction]:
    """Dockerfile instructions with continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped by Docker
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        keyword, _, args = " ".join(pending).partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start))
        pending = []
    if pending:
        raise ValueError("Dockerfile ends inside a continued instruction")
    return instructions


def read_stages(path: Path = DOCKERFILE) -> tuple[dict[str, str], list[Stage]]:
    """Global ``ARG`` defaults and the build stages, with ``FROM`` images resolved."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for instruction in read_instructions(path.read_text(encoding="utf-8")):
        if instruction.keyword == "FROM":
            words = instruction.args.split()
            image = re.sub(
                r"\$\{?(\w+)\}?", lambda m: global_args.get(m.group(1), m.group(0)), words[0]
            )
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image=image, name=name))
        elif not stages:
            if instruction.keyword != "ARG":
                raise ValueError(f"line {instruction.line}: only ARG may precede FROM")
            key, _, value = instruction.args.partition("=")
            global_args[key.strip()] = value.strip()
        else:
            stages[-1].instructions.append(instruction)
    return global_args, stages


def exec_form(instruction: Instruction, prefix: str = "") -> list[str]:
    """The JSON argument list of an exec-form ``CMD`` or ``HEALTHCHECK ... CMD``."""
    args = instruction.args
    if prefix:
        args = args[args.index(prefix) + len(prefix) :]
    value = json.loads(args.strip())
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ValueError(f"line {instruction.line}: not an exec-form list: {args}")
    return value


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


def dockerignore_rules(path: Path = DOCKERIGNORE) -> list[tuple[bool, re.Pattern[str]]]:
    """``(excludes, regex)`` per pattern, in file order."""
    rules = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.removeprefix("!").strip().strip("/")
        rules.append((not negate, _ignore_regex(pattern)))
    return rules


def is_ignored(relpath: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether Docker leaves ``relpath`` out of the build context.

    A pattern matches a path or any of its parent directories; the last
    matching pattern decides.
    """
    parts = relpath.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for excludes, regex in rules:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            ignored = excludes
    return ignored


ASSIGNMENT = re.compile(r"^(?P<commented>#)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


@dataclass
class EnvLine:
    name: str
    value: str
    commented: bool
    line: int
    comment_above: str


def read_env_example(path: Path = ENV_EXAMPLE) -> list[EnvLine]:
    """Assignments in ``.env.example``: ``NAME=value`` lines and ``#NAME=`` ones.

    A commented assignment (``#`` directly followed by the name) lists a
    setting whose default cannot be written as a value (it depends on the
    machine); prose comments have a space after ``#``.
    """
    entries = []
    previous = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = ASSIGNMENT.match(raw.strip())
        if match:
            entries.append(
                EnvLine(
                    name=match["name"],
                    value=match["value"],
                    commented=bool(match["commented"]),
                    line=number,
                    comment_above=previous,
                )
            )
        previous = raw.strip()
    return entries


INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[?-])(?P<arg>[^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ``${VAR}`` substitution for the forms bachbot's compose file uses."""

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        current = variables.get(name)
        if op in {":?", "?"} and (current is None or (op == ":?" and current == "")):
            raise KeyError(f"{name}: {arg}")
        if op in {":-", "-"} and (current is None or (op == ":-" and current == "")):
            return arg
        return current or ""

    return INTERPOLATION.sub(substitute, value)


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a mapping")
    return data


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's ``environment`` as a mapping, whichever syntax it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}
