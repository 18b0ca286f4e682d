"""The ```python blocks of README.md and docs/*.md, with where each starts and how it is run.

A block is a complete program unless the line before it (blank lines aside) is a marker:
`<!-- doc-test: pytest -->` for a user's pytest test file, `<!-- doc-test: fragment -->` for a
knowingly partial block, whose text must say it is a fragment.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

REPO_ROOT = Path(__file__).resolve().parents[2]
KINDS = ("program", "pytest", "fragment")

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")
_MARKER = re.compile(r"^\s*<!--\s*doc-test:\s*(?P<kind>[\w-]+)\s*-->\s*$")


@attrs.frozen
class DocBlock:
    """One fenced python block: `path` relative to the repository, `line` of its opening fence."""

    path: str
    line: int
    kind: str
    code: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def documents() -> list[Path]:
    """README.md and every docs/*.md, the files whose python blocks must run."""
    return [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


def python_blocks(path: Path, root: Path = REPO_ROOT) -> list[DocBlock]:
    """The python blocks of one Markdown file, in order; a misplaced or unknown marker is a
    `ValueError` naming its line."""
    relative = path.relative_to(root).as_posix()
    blocks: list[DocBlock] = []
    marker: tuple[str, int] | None = None
    lines = path.read_text(encoding="utf-8").splitlines()
    number = 0
    while number < len(lines):
        text = lines[number]
        number += 1
        found = _MARKER.match(text)
        if found:
            if found["kind"] not in KINDS[1:]:
                raise ValueError(
                    f"{relative}:{number}: unknown marker doc-test: {found['kind']} "
                    f"(known: {', '.join(KINDS[1:])})"
                )
            marker = (found["kind"], number)
            continue
        fence = _FENCE.match(text)
        if not fence:
            if text.strip() and marker is not None:
                raise ValueError(f"{relative}:{marker[1]}: the marker is not followed by a block")
            continue
        start, closing = number, fence["fence"]
        body: list[str] = []
        while number < len(lines) and not lines[number].strip().startswith(closing):
            body.append(lines[number][len(fence["indent"]) :])
            number += 1
        number += 1  # the closing fence
        if fence["info"].lower() in ("python", "py", "python3"):
            kind = marker[0] if marker else "program"
            blocks.append(DocBlock(relative, start, kind, "\n".join(body) + "\n"))
        elif marker is not None:
            raise ValueError(f"{relative}:{marker[1]}: the marker is not before a python block")
        marker = None
    if marker is not None:
        raise ValueError(f"{relative}:{marker[1]}: the marker is not followed by a block")
    return blocks


def all_blocks() -> list[DocBlock]:
    return [block for path in documents() for block in python_blocks(path)]


_TOML_BLOCK = re.compile(r"^```toml\n(.*?)^```", flags=re.DOTALL | re.MULTILINE)


def user_pytest_config() -> str | None:
    """The first ```toml block of the docs that configures pytest: what users are told to put
    in their own pyproject.toml. None when the docs give no such block."""
    for path in documents():
        for block in _TOML_BLOCK.findall(path.read_text(encoding="utf-8")):
            if "[tool.pytest.ini_options]" in block:
                return str(block)
    return None
