"""Reading and writing contract files: clear errors in, atomic writes out."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from iopsched.instance import Instance, InstanceProblems, Problem
from iopsched.levels import level_range_text, plan_contradicts_level
from iopsched.solution import Solution

log = logging.getLogger("iopsched")
M = TypeVar("M", bound=BaseModel)


class InputError(Exception):
    """Bad input: which file, and every problem found in it (field path and message)."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(self.render())

    def render(self, limit: int = 20) -> str:
        """One screen: the file, then one line per problem."""
        n = len(self.problems)
        lines = [f"{self.source}: {n} problem{'s' if n != 1 else ''}"]
        lines += [f"  {p.path}: {p.message}" for p in self.problems[:limit]]
        if n > limit:
            lines.append(f"  ... and {n - limit} more")
        return "\n".join(lines)


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a field path, e.g. ``participants[3].availability[0].end``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def problems_of(error: ValidationError) -> list[Problem]:
    """Flatten a pydantic error into problems, expanding our cross-entity checks."""
    out: list[Problem] = []
    for err in error.errors(include_url=False):
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, InstanceProblems):
            prefix = field_path(err["loc"])
            for p in cause.problems:
                path = p.path if prefix == "(top level)" else f"{prefix}.{p.path}"
                out.append(Problem(path=path, message=p.message))
            continue
        out.append(Problem(path=field_path(err["loc"]), message=_plain(err)))
    return out


# pydantic's error types in the words of the file's author
_PLAIN = {
    "extra_forbidden": "unknown field",
    "missing": "is required",
    "model_type": "should be an object ({...})",
    "model_attributes_type": "should be an object ({...})",
    "dict_type": "should be an object ({...})",
    "list_type": "should be a list ([...])",
    "int_type": "should be a whole number",
    "int_parsing": "should be a whole number",
    "int_from_float": "should be a whole number",
    "float_type": "should be a number",
    "float_parsing": "should be a number",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "string_type": "should be text",
    "date_type": "should be a date (YYYY-MM-DD)",
    "date_parsing": "should be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "should be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "should be a date (YYYY-MM-DD) with no time of day",
}


def _plain(err: Any) -> str:
    """One pydantic error as a short message, with the value found where that helps."""
    kind = err["type"]
    message = _PLAIN.get(kind, err["msg"])
    if message.startswith("Value error, "):
        return message[len("Value error, ") :]
    if message.startswith("Input should be "):
        message = "should be " + message[len("Input should be ") :]
    if kind in ("extra_forbidden", "missing") or kind.startswith(("value_error", "assertion")):
        return message
    return f"{message}; got {_shown(err.get('input'))}"


def _shown(value: Any) -> str:
    """A value as JSON would spell it, cut short; lists and objects only by their kind."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    plain = value is None or isinstance(value, (str, int, float, bool))
    text = json.dumps(value) if plain else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(path), [Problem(path="(file)", message="no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), [Problem(path="(file)", message=str(exc))]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            str(path),
            [Problem(path=f"line {exc.lineno} column {exc.colno}", message=f"not JSON: {exc.msg}")],
        ) from None


def parse_model(model: type[M], data: Any, source: str) -> M:
    """Validate data into a contract model, or raise InputError naming every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(source, problems_of(exc)) from None


def load_instance(path: str | os.PathLike[str]) -> Instance:
    """Read and check an instance file; log a warning for plans that contradict their level."""
    path = Path(path)
    instance = parse_model(Instance, _read_json(path), str(path))
    for message in plan_warnings(instance):
        log.warning("%s: %s", path, message)
    return instance


def load_solution(path: str | os.PathLike[str]) -> Solution:
    """Read and check the shape of a solution file."""
    path = Path(path)
    return parse_model(Solution, _read_json(path), str(path))


def plan_warnings(instance: Instance) -> list[str]:
    """Plans whose weekly hours contradict their level of care (legitimate, but worth a look)."""
    out = []
    for i, p in enumerate(instance.participants):
        level = p.plan.level
        if level and plan_contradicts_level(level, p.plan.min_hours, p.plan.max_hours):
            out.append(
                f"participants[{i}] ({p.id}): plan {p.plan.min_hours:g}-{p.plan.max_hours:g} h "
                f"is outside level {level} ({level_range_text(level)})"
            )
    return out


def dump_model(model: BaseModel) -> dict[str, Any]:
    """JSON-ready dict of a contract model (defaults kept, None fields dropped)."""
    return model.model_dump(mode="json", exclude_none=True)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write to a temp file beside ``path``, fsync, then rename over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # an ordinary file, not mkstemp's private 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    """Write JSON atomically (see :func:`write_bytes_atomic`)."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"))
