"""Every ```python block of README.md and docs/*.md runs as a user would paste it.

A program block runs with `python` in a fresh folder holding the files the docs name
(`customers.csv`, `customers.jsonl`), with `CKO_SECRET_KEY` and `CKO_BASE_URL` set to a fresh
emulator, as the docs tell users to set them. A `<!-- doc-test: pytest -->` block runs as the
test file of a throwaway user project (its own pyproject.toml, pytest-asyncio installed). A
`<!-- doc-test: fragment -->` block must say it is a fragment and compile. Failures name the
file and line of the block.
"""

from __future__ import annotations

import ast
import itertools
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from checkout_customers.emulator import RunningEmulator

from ._blocks import REPO_ROOT, DocBlock, all_blocks, python_blocks, user_pytest_config

EXAMPLES = REPO_ROOT / "examples"
SAMPLE_ROWS = 20  # of the example files, so that a migration block runs in well under a second
TIMEOUT_S = 120


def _blocks_or_error() -> list[object]:
    try:
        blocks = all_blocks()
    except ValueError as exc:  # a misplaced marker: one failing test naming where
        return [pytest.param(str(exc), id="markers")]
    # A user's pytest starts with every plugin installed (schemathesis, hypothesis): seconds.
    return [
        pytest.param(
            block, id=block.where, marks=[pytest.mark.slow] if block.kind == "pytest" else []
        )
        for block in blocks
    ]


def user_environment(emulator: RunningEmulator) -> dict[str, str]:
    """The environment of a user who followed the docs, pointed at `emulator`."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CKO_", "PYTEST_", "COV_"))
    }
    environment["CKO_SECRET_KEY"] = emulator.secret_key
    environment["CKO_BASE_URL"] = emulator.base_url
    return environment


def _first_lines(source: Path, target: Path, count: int) -> None:
    with source.open(encoding="utf-8", newline="") as stream:
        lines = list(itertools.islice(stream, count))
    target.write_text("".join(lines), encoding="utf-8", newline="")


def _run(block: DocBlock, command: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    output = f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
    assert result.returncode == 0, (
        f"{block.where}: the python block exited {result.returncode}\n{output}"
    )
    for sign in ("Traceback", "Unclosed", "Task was destroyed", "Warning"):
        assert sign not in result.stderr, f"{block.where}: {sign!r} on stderr\n{output}"
    return result.stdout


def run_program(block: DocBlock, folder: Path, env: dict[str, str]) -> None:
    try:
        compile(block.code, block.where, "exec")
    except SyntaxError as exc:
        pytest.fail(
            f"{block.where}: not a complete program (line {(exc.lineno or 0) + block.line} of "
            f"the file: {exc.msg}); wrap async code in `asyncio.run(main())`"
        )
    # Header line plus SAMPLE_ROWS customers; the JSONL file has no header.
    _first_lines(EXAMPLES / "customers.csv", folder / "customers.csv", SAMPLE_ROWS + 1)
    _first_lines(EXAMPLES / "customers.jsonl", folder / "customers.jsonl", SAMPLE_ROWS)
    (folder / "example.py").write_text(block.code, encoding="utf-8")
    _run(block, [sys.executable, "-W", "error", "example.py"], folder, env)


def run_user_test_file(block: DocBlock, folder: Path, env: dict[str, str]) -> None:
    # A user's project as it would be: its own configuration, pytest and pytest-asyncio
    # installed, the checkout_customers plugin registered by installing the package.
    # The pytest configuration is the one the docs tell users to write, if they give one.
    config = user_pytest_config() or ""
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "shop"\nversion = "1.0"\n\n{config}', encoding="utf-8"
    )
    (folder / "test_example.py").write_text(block.code, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error"]
    _run(block, [*command, "--junitxml=results.xml", "test_example.py"], folder, env)
    suite = ElementTree.parse(folder / "results.xml").getroot().find("testsuite")
    assert suite is not None
    counts = {key: int(suite.get(key, "0")) for key in ("tests", "failures", "errors", "skipped")}
    assert counts["tests"] > 0, f"{block.where}: the block holds no test"
    assert counts["failures"] == counts["errors"] == counts["skipped"] == 0, (
        f"{block.where}: {counts}"
    )


def check_fragment(block: DocBlock) -> None:
    assert "fragment" in block.code.lower(), (
        f"{block.where}: a fragment block must say it is a fragment"
    )
    try:
        compile(block.code, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError as exc:
        pytest.fail(f"{block.where}: the fragment does not compile: {exc}")


@pytest.mark.parametrize("block", _blocks_or_error())
def test_the_python_block_runs_as_written(
    block: DocBlock | str, checkout_emulator: RunningEmulator, tmp_path: Path
) -> None:
    if isinstance(block, str):
        pytest.fail(block)
    env = user_environment(checkout_emulator)
    if block.kind == "program":
        run_program(block, tmp_path, env)
    elif block.kind == "pytest":
        run_user_test_file(block, tmp_path, env)
    else:
        check_fragment(block)


def test_every_document_is_searched_and_each_kind_is_found() -> None:
    blocks = all_blocks()
    paths = {block.path for block in blocks}
    assert {"README.md", "docs/emulator.md", "docs/migration.md"} <= paths
    assert {block.kind for block in blocks} >= {"program", "pytest"}


def test_docs_with_async_pytest_examples_tell_users_how_to_configure_pytest_asyncio() -> None:
    pytest_blocks = [block for block in all_blocks() if block.kind == "pytest"]
    assert pytest_blocks, "the docs show users no test file"
    async_tests = [block.where for block in pytest_blocks if "async def test" in block.code]
    if async_tests:
        config = user_pytest_config()
        assert config is not None, f"{async_tests}: no ```toml block with [tool.pytest.ini_options]"
        # pytest-asyncio warns (an error under -W error) when the loop scope is left unset.
        assert "asyncio_default_fixture_loop_scope" in config


def test_markers_apply_to_the_next_python_block_and_misplaced_ones_are_named(
    tmp_path: Path,
) -> None:
    document = tmp_path / "guide.md"
    document.write_text(
        "# Guide\n\n```python\nprint(1)\n```\n\n<!-- doc-test: pytest -->\n\n"
        "```python\ndef test_one(): ...\n```\n\n```sh\nls\n```\n",
        encoding="utf-8",
    )
    first, second = python_blocks(document, root=tmp_path)
    assert (first.where, first.kind, first.code) == ("guide.md:3", "program", "print(1)\n")
    assert (second.where, second.kind) == ("guide.md:9", "pytest")

    document.write_text("<!-- doc-test: fragment -->\n```sh\nls\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"guide\.md:1: the marker is not before a python block"):
        python_blocks(document, root=tmp_path)
    document.write_text("<!-- doc-test: maybe -->\n```python\nx = 1\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"guide\.md:1: unknown marker doc-test: maybe"):
        python_blocks(document, root=tmp_path)
