"""The generated sync facade speaks sync: no example in its docstrings awaits or opens an
`AsyncClient`, and `help()` on a blocking method shows blocking code."""

from __future__ import annotations

import ast
import inspect

import pytest

from checkout_customers import Client
from checkout_customers._sync_client import Customers
from checkout_customers.migration import migrate_sync

from .conftest import REPO_ROOT

GENERATED = ["checkout_customers/_sync_client.py", "checkout_customers/migration/_sync.py"]


def docstrings(path: str) -> list[tuple[str, str]]:
    tree = ast.parse((REPO_ROOT / path).read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            text = ast.get_docstring(node)
            if text:
                found.append((getattr(node, "name", path), text))
    return found


def example_lines(text: str) -> list[str]:
    """The indented lines of a docstring: its code examples."""
    return [line for line in text.splitlines() if line.startswith("    ")]


@pytest.mark.parametrize("path", GENERATED)
def test_no_generated_example_awaits_or_opens_an_async_client(path: str) -> None:
    found = docstrings(path)
    assert len(found) >= 2  # the module and its twins
    for name, text in found:
        for line in example_lines(text):
            assert "await " not in line, (name, line)
            assert "async " not in line, (name, line)
            assert "AsyncClient" not in line, (name, line)


def test_help_on_blocking_code_shows_blocking_examples() -> None:
    migrate_doc = inspect.getdoc(migrate_sync) or ""
    assert "with Client() as cko:" in migrate_doc
    assert "report = migrate(cko, " in migrate_doc
    assert "await" not in migrate_doc
    create_doc = inspect.getdoc(Customers.create) or ""
    assert "look it up by email" in create_doc
    assert "Async" not in create_doc
    assert "with Client(" in (inspect.getdoc(Client) or "")
