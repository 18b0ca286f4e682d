"""The only way tests, lint, type checks, the sync-facade check, the docs and benchmarks are run.

`nox` runs the default sessions (what CI runs): lint, typecheck, sync, the tests on every
supported Python that is installed (3.10 to 3.13; one that is missing is skipped with a
message, so a machine with a single Python works too) and the documentation site.
`nox -s tests` runs only the tests, `nox -s tests-3.12` one Python, `nox -s docs` the site,
`nox -s benchmarks` the benchmarks.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

nox.options.sessions = ["lint", "typecheck", "sync", "tests", "docs"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_external_run = True
# A supported Python that is not installed is skipped ("Python interpreter 3.x not found"),
# not an error: a user with one Python can run the README's command as it is.
nox.options.error_on_missing_interpreters = False

RUFF = "ruff>=0.17,<0.18"
MYPY = "mypy>=2.4,<3"


def _pyenv_interpreter_folders() -> list[str]:
    """The `bin` folders of pyenv's builds of the supported Pythons, newest patch release first.

    pyenv's shims answer `python3.10` only for the version that is selected, so nox would not
    find the other installed versions through PATH; their own folders are found directly.
    """
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    folders = []
    for version in PYTHONS:
        builds = [
            path
            for path in root.glob(f"{version}.*")
            if re.fullmatch(rf"{re.escape(version)}\.\d+", path.name)
            and (path / "bin" / f"python{version}").is_file()
        ]
        builds.sort(key=lambda path: int(path.name.rsplit(".", 1)[1]), reverse=True)
        if builds:
            folders.append(str(builds[0] / "bin"))
    return folders


# Ahead of the shims, so that `python3.x` means an installed build whatever pyenv selects.
os.environ["PATH"] = os.pathsep.join([*_pyenv_interpreter_folders(), os.environ.get("PATH", "")])


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    session.install(RUFF)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package and the scripts, and on the docs' programs."""
    session.install("-e", ".[test,speedups]", MYPY)  # orjson ships its types
    session.run("mypy", "--strict")
    session.run("python", "scripts/typecheck_docs.py")


@nox.session
def sync(session: nox.Session) -> None:
    """Fail when the generated sync facade differs from what the generator writes now."""
    session.install("-e", ".", RUFF)  # the generator leaves the layout to ruff
    session.run("python", "scripts/generate_sync.py", "--check")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite (pytest, warnings are errors) on one Python, over the machine's cores.

    The newest Python runs it with the `speedups` extra (orjson), the others without, so both
    ways of reading answers are tested in every default run.
    """
    extras = "test,speedups" if session.python == PYTHONS[-1] else "test"
    session.install("-e", f".[{extras}]", RUFF)  # the generator's tests run ruff
    session.run("pytest", "--numprocesses", "auto", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into build/site; warnings and undocumented names fail it."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session
def benchmarks(session: nox.Session) -> None:
    """Every benchmark in benchmarks/, printing the figures recorded in benchmarks/README.md."""
    session.install("-e", ".[test]")
    for script in sorted(Path("benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
