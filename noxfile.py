"""The only way tests, lint, type checks, the sync-facade check and benchmarks are run.

`nox` runs the default sessions (what CI runs); `nox -s benchmarks` runs the benchmarks.
Sessions use the Python that runs nox, so no other interpreter needs to be installed.
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "sync", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_external_run = True

RUFF = "ruff>=0.17,<0.18"
MYPY = "mypy>=2.4,<3"


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    session.install(RUFF)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package and the scripts."""
    session.install("-e", ".[test]", MYPY)
    session.run("mypy", "--strict")


@nox.session
def sync(session: nox.Session) -> None:
    """Fail when the generated sync facade differs from what the generator writes now."""
    session.install("-e", ".", RUFF)  # the generator leaves the layout to ruff
    session.run("python", "scripts/generate_sync.py", "--check")


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (pytest, warnings are errors), spread over the machine's cores."""
    session.install("-e", ".[test]", RUFF)  # the generator's tests run it, and it runs ruff
    session.run("pytest", "--numprocesses", "auto", *session.posargs)


@nox.session
def benchmarks(session: nox.Session) -> None:
    """Every benchmark in benchmarks/, printing the figures recorded in benchmarks/README.md."""
    session.install("-e", ".[test]")
    for script in sorted(Path("benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
