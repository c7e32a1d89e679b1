"""Write docs/guide/api.md, the API reference, from the docstrings of pmo_grad's public names.

The public names are the ``__all__`` lists of the subpackages in SECTIONS. Each gets its
signature and its docstring, converted from the numpy/reST style used in the code to
Markdown. Public methods and properties that a class defines itself, with a docstring of their
own, follow their class. The test suite regenerates the page and compares it with the
committed file, so a docstring change or a new export needs:

    python docs/tools/make_api_reference.py          # rewrite docs/guide/api.md
    python docs/tools/make_api_reference.py --check  # exit 1 if the file is out of date
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
OUTPUT = REPOSITORY / "docs" / "guide" / "api.md"

# Document the package of this checkout, not another installed copy.
sys.path.insert(0, str(REPOSITORY))

SECTIONS = (
    ("Algorithms, step rules and terminations", "pmo_grad.algorithms"),
    ("Gradient estimators", "pmo_grad.estimators"),
    ("Weightings and schedules", "pmo_grad.weighting"),
    ("Problems", "pmo_grad.problems"),
    ("Indicators", "pmo_grad.indicators"),
    ("Visualization", "pmo_grad.visualization"),
)

# Headers of docstring sections whose entries become a list of names.
_ENTRY_SECTIONS = {"Parameters", "Attributes", "Raises", "Returns", "Args", "Arguments"}
_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|obj):`~?([^`]+)`")
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_LIST_ITEM = re.compile(r"\s*[-*] ")


def _inline(text: str) -> str:
    """Convert reST roles and double backticks to Markdown code spans and math."""
    text = _MATH_ROLE.sub(lambda match: f"${match.group(1)}$", text)
    text = _ROLE.sub(lambda match: f"`{match.group(1)}`", text)
    return text.replace("``", "`")


def _entry_line(text: str) -> str | None:
    """Return the list item of a 'name: text' line, or None for other lines."""
    match = re.fullmatch(r"(\*{0,2}[A-Za-z_][\w.]*(?:, [A-Za-z_][\w.]*)*)\s*:\s*(.*)", text)
    if match is None or match.group(1) == "NOTE":
        return None
    names, rest = match.groups()
    item = ", ".join(f"`{name}`" for name in names.split(", "))
    return f"- {item}" + (f": {_inline(rest)}" if rest else ":")


def _continues_list(out: list[str]) -> bool:
    """Tell whether the last non-empty output line belongs to a list item."""
    for line in reversed(out):
        if line:
            return line.startswith("- ")
    return False


def _append_to_item(out: list[str], text: str) -> None:
    while out and not out[-1]:
        out.pop()
    out[-1] += " " + _inline(text)


def docstring_to_markdown(doc: str) -> str:
    """Convert a cleaned docstring to Markdown.

    Underlined headers (numpy style) and 'Raises:'-style headers (Google style) become bold
    lines. In their sections, 'name: text' entries become list items, and the more indented
    lines under an entry join it. Bullet lists keep their items, continuation lines included.
    A reST math directive becomes a math block. Other indented blocks, such as formulas,
    stay indented, which Markdown shows as code.
    """
    lines = doc.splitlines()
    out: list[str] = []
    section: str | None = None
    entry_indent = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""

        if stripped and indent == 0 and re.fullmatch(r"-{3,}", following):
            section, entry_indent = stripped, 0
            out += ["", f"**{stripped}**", ""]
            i += 2
            continue
        header = re.fullmatch(r"([A-Z][a-z]+):", stripped)
        if header and indent == 0 and header.group(1) in _ENTRY_SECTIONS:
            section, entry_indent = header.group(1), 4
            out += ["", f"**{header.group(1)}**", ""]
            i += 1
            continue
        if stripped == ".. math::":
            block = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                if lines[i].strip():
                    block.append(lines[i].strip())
                i += 1
            out += ["", "```math", *block, "```", ""]
            continue
        if not stripped:
            out.append("")
            i += 1
            continue

        if section is not None:
            entry = _entry_line(stripped) if indent == entry_indent else None
            if entry is not None:
                out.append(entry)
                i += 1
                continue
            if indent > entry_indent and _continues_list(out):
                _append_to_item(out, stripped)
                i += 1
                continue
            if indent > 0 and entry_indent > 0:
                out.append(_inline(stripped))
                i += 1
                continue
            section = None

        if _LIST_ITEM.match(line):
            out.append("- " + _inline(stripped[2:]))
        elif indent > 0 and _continues_list(out):
            _append_to_item(out, stripped)
        elif indent > 0:
            # A formula or other preformatted block: an indented code block needs a blank line before.
            if out and out[-1] and not out[-1].startswith("    "):
                out.append("")
            out.append("    " + line[min(indent, 4):] if indent < 4 else line)
        else:
            if out and out[-1].startswith("    "):
                out.append("")
            out.append(_inline(line[:-1] if line.endswith("::") else line))
        i += 1

    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _signature(name: str, obj) -> str:
    """Return ``name(parameters) -> return`` for a callable, without a leading self parameter."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return name
    parameters = list(signature.parameters.values())
    if parameters and parameters[0].name == "self":
        signature = signature.replace(parameters=parameters[1:])
    return f"{name}{signature}"


def _own_members(cls) -> list[tuple[str, object]]:
    """Return the public methods and properties that ``cls`` defines with a docstring of its own."""
    members = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        target = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
        if isinstance(value, property) or inspect.isfunction(target):
            if inspect.getdoc(value) and value.__doc__:
                members.append((name, value))
    return members


def _render_object(name: str, obj) -> list[str]:
    if inspect.isclass(obj):
        kind = "class"
    elif callable(obj):
        kind = "function"
    else:
        kind = "constant"
    lines = [f"### `{name}`", ""]
    if kind == "constant":
        if isinstance(obj, dict):
            lines += ["A mapping with the keys " + ", ".join(f"`{key}`" for key in obj) + ".", ""]
        else:
            lines += [f"Value: `{obj!r}`", ""]
        return lines
    lines += ["```python", _signature(name, obj), "```", ""]
    doc = inspect.getdoc(obj)
    if doc:
        lines += [docstring_to_markdown(doc), ""]
    if kind == "class":
        for member_name, member in _own_members(obj):
            if isinstance(member, property):
                lines += [f"#### `{name}.{member_name}` (property)", ""]
            else:
                lines += [f"#### `{name}.{member_name}`", "", "```python",
                          _signature(f"{name}.{member_name}", getattr(obj, member_name)), "```", ""]
            lines += [docstring_to_markdown(inspect.getdoc(member)), ""]
    return lines


def render() -> str:
    """Return the Markdown text of the API reference."""
    lines = [
        "# API reference",
        "",
        "Generated by `docs/tools/make_api_reference.py` from the docstrings; edit the docstrings,",
        "not this page, and rerun the script.",
        "",
    ]
    for title, module_name in SECTIONS:
        module = importlib.import_module(module_name)
        lines += [f"## {title}", "", f"`{module_name}`: {_inline(inspect.getdoc(module).splitlines()[0])}", ""]
        for name in module.__all__:
            lines += _render_object(name, getattr(module, name))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).rstrip() + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Write or check docs/guide/api.md.")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if the file is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date; run python docs/tools/make_api_reference.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
