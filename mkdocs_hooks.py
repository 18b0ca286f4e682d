"""mkdocs hooks of the documentation site: generated pages, links, and the docstring check.

- `index.md` is README.md, `benchmarks.md` benchmarks/README.md, `changelog.md` CHANGELOG.md;
  `examples.md` shows each program of examples/ with its docstring, and `reference.md` the API
  reference of every public module. Links between those files are rewritten to the pages.
- A public name (in `__all__` of a public module) without a docstring is a warning, which
  `mkdocs build --strict` turns into a failed build. The `#:` comment lines right above a
  constant are its docstring (`HashColonComments`, the convention of Sphinx the code uses).
"""

from __future__ import annotations

import ast
import logging
import posixpath
import re
from pathlib import Path
from typing import Any

import griffe
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

REPO_ROOT = Path(__file__).resolve().parent
PUBLIC_MODULES = (
    "checkout_customers",
    "checkout_customers.migration",
    "checkout_customers.emulator",
)
# Repository file -> the page of the site that shows it.
PAGES = {
    "README.md": "index.md",
    "benchmarks/README.md": "benchmarks.md",
    "CHANGELOG.md": "changelog.md",
    "examples": "examples.md",
}

# The site's navigation: these pages in this order, every other page of docs/ after the guides.
GUIDES = [("Overview", "index.md"), ("Bulk migration", "migration.md"), ("Emulator", "emulator.md")]
TRAILER = [
    ("Examples", "examples.md"),
    ("API reference", "reference.md"),
    ("Benchmarks", "benchmarks.md"),
    ("Changelog", "changelog.md"),
]

log = logging.getLogger("mkdocs.hooks.checkout_customers")


class HashColonComments(griffe.Extension):
    """Read the `#:` comment lines right above an attribute as its docstring."""

    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs: Any) -> None:
        if attr.docstring is not None or attr.lineno is None or attr.filepath is None:
            return
        if isinstance(attr.filepath, list):
            return
        lines = _source_lines(Path(attr.filepath))
        comment: list[str] = []
        number = attr.lineno - 2  # the line above, 0-based
        while number >= 0 and lines[number].lstrip().startswith("#:"):
            comment.insert(0, lines[number].lstrip()[2:].strip())
            number -= 1
        if comment:
            attr.docstring = griffe.Docstring(" ".join(comment), parent=attr)


_SOURCES: dict[Path, list[str]] = {}


def _source_lines(path: Path) -> list[str]:
    if path not in _SOURCES:
        _SOURCES[path] = path.read_text(encoding="utf-8").splitlines()
    return _SOURCES[path]


_LINK = re.compile(r"\]\((?P<target>[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")


def _site_target(source: str, target: str) -> str | None:
    """The page a link of repository file `source` to `target` goes to, or None to keep it."""
    if "://" in target or target.startswith("mailto:"):
        return None
    path = posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).rstrip("/")
    if path in PAGES:
        return PAGES[path]
    if path.startswith("docs/") and path.endswith(".md"):
        return path.removeprefix("docs/")
    if path.startswith("examples/") and path.endswith(".py"):
        return "examples.md#" + Path(path).stem.replace("_", "-")
    return None


def rewrite_links(source: str, markdown: str) -> str:
    """Links between repository files, pointed at the site's pages (all at its top level)."""

    def replace(match: re.Match[str]) -> str:
        page = _site_target(source, match["target"])
        if page is None:
            return match[0]
        if "#" in page:
            return f"]({page})"
        return f"]({page}{match['anchor'] or ''})"

    return _LINK.sub(replace, markdown)


def _examples_page() -> str:
    parts = [
        "# Examples\n\nEach program runs as its docstring says; the test suite runs every one",
        " of them against the emulator (`tests/docs/test_examples.py`).\n",
    ]
    for path in sorted((REPO_ROOT / "examples").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(source)) or ""
        summary, _, rest = docstring.partition("\n")
        parts.append(f"\n## {path.stem.replace('_', '-')}\n\n`examples/{path.name}`: {summary}\n")
        if rest.strip():
            parts.append(f"\n```text\n{rest.strip()}\n```\n")
        parts.append(f"\n```python\n{source}```\n")
    return "".join(parts)


def _reference_page() -> str:
    parts = [
        "# API reference\n\nEvery public name, with its docstring. The modules' own pages",
        " (overview, migration, emulator) say how they fit together.\n",
    ]
    for module in PUBLIC_MODULES:
        parts.append(f"\n::: {module}\n")
    resources = resource_classes(_load_package())
    if resources:
        parts.append(
            "\n## Resources\n\nThe objects reached through a client's attributes, such as "
            "`cko.customers`.\n"
        )
        for path in resources:
            parts.append(f"\n::: {path}\n    options:\n      heading_level: 3\n")
    return "".join(parts)


def _load_package() -> griffe.Module:
    loader = griffe.GriffeLoader(
        search_paths=[str(REPO_ROOT)], extensions=griffe.load_extensions(HashColonComments)
    )
    package = loader.load("checkout_customers")
    loader.resolve_aliases(external=False, implicit=False)
    assert isinstance(package, griffe.Module)
    return package


def resource_classes(package: griffe.Module) -> list[str]:
    """Classes that are not exported but are what an exported class's public attribute holds
    (`AsyncClient.customers = AsyncCustomers(...)`): users call their methods all the time."""
    exported: list[griffe.Object | griffe.Alias] = [
        package.members[name].final_target
        for name in package.exports or ()
        if name in package.members
    ]
    exported_paths = {target.path for target in exported}
    found: list[str] = []
    for target in exported:
        if not isinstance(target, griffe.Class):
            continue
        for member_name, member in target.members.items():
            value = getattr(member, "value", None)
            kind = value.function if isinstance(value, griffe.ExprCall) else None
            kind = kind or getattr(member, "annotation", None)
            path = getattr(kind, "canonical_path", "")
            if member_name.startswith("_") or not path.startswith(package.path + "._"):
                continue
            if path not in exported_paths and path not in found:
                found.append(path)
    return found


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem.replace("-", " ").capitalize()


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Set the navigation: the known pages, then any other page of docs/ by its title."""
    known = {page for _, page in GUIDES + TRAILER}
    others = [
        (_title(path), path.name)
        for path in sorted(Path(config.docs_dir).glob("*.md"))
        if path.name not in known
    ]
    config.nav = [{title: page} for title, page in GUIDES + others + TRAILER]
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the pages generated from files outside docs/."""
    generated = {
        "index.md": rewrite_links("README.md", (REPO_ROOT / "README.md").read_text("utf-8")),
        "benchmarks.md": rewrite_links(
            "benchmarks/README.md", (REPO_ROOT / "benchmarks/README.md").read_text("utf-8")
        ),
        "changelog.md": (REPO_ROOT / "CHANGELOG.md").read_text("utf-8"),
        "examples.md": _examples_page(),
        "reference.md": _reference_page(),
    }
    for name, content in generated.items():
        files.append(File.generated(config, name, content=content))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Links of the pages of docs/ to README, examples and benchmarks go to their pages."""
    if page.file.generated_by is None:
        return rewrite_links(f"docs/{page.file.src_uri}", markdown)
    return markdown


def undocumented_public_names() -> list[str]:
    """Public names (in `__all__` of a public module, and the public members of resource
    classes) whose object has no docstring."""
    package = _load_package()
    missing = []
    for module_path in PUBLIC_MODULES:
        module: Any = (
            package if module_path == package.path else package[module_path.split(".", 1)[1]]
        )
        if not module.docstring:
            missing.append(module_path)
        for name in module.exports or ():
            member = module.members.get(name)
            target = member.final_target if member is not None and member.is_alias else member
            if target is None or not (target.docstring and target.docstring.value.strip()):
                missing.append(f"{module_path}.{name}")
    for path in resource_classes(package):
        resource: Any = package[path.removeprefix(package.path + ".")]
        for name, member in resource.members.items():
            if not name.startswith("_") and not (member.docstring and member.docstring.value):
                missing.append(f"{path}.{name}")
    return missing


def on_pre_build(config: MkDocsConfig) -> None:
    """Warn (failing a strict build) for each public name without a docstring."""
    for name in undocumented_public_names():
        log.warning("public name without a docstring: %s", name)
