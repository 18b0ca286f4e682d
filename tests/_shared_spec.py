"""Where the official API reference is found: `shared/reference/` beside the repository.

The reference is never copied into the repository. This project's CI has it beside the clone; a
user's fresh clone usually does not, so the tests that need it skip there, naming the missing
file (`CKO_SHARED_REFERENCE=DIR` names another folder). `.ci/run` sets
`CKO_REQUIRE_SHARED_SPEC=1`: then these tests always run, and a missing file fails them, because
a contract test that silently skips in CI proves nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# From a git worktree, say: `shared/` is beside the main clone, not beside the worktree.
SHARED_REFERENCE = Path(
    os.environ.get("CKO_SHARED_REFERENCE") or REPO_ROOT.parent / "shared" / "reference"
)
OPENAPI_SPEC = SHARED_REFERENCE / "checkout-customers-openapi.yaml"
INSTRUMENTS_SPEC = SHARED_REFERENCE / "checkout-instruments-openapi.yaml"

_REQUIRED = os.environ.get("CKO_REQUIRE_SHARED_SPEC", "") not in ("", "0")


def needs_shared_file(path: Path) -> pytest.MarkDecorator:
    """Skip a test or module (as `pytestmark`) when `path` is missing, unless CI requires it."""
    return pytest.mark.skipif(
        not _REQUIRED and not path.is_file(),
        reason=f"needs {path} (the official reference, beside the repository in its CI)",
    )


needs_openapi_spec = needs_shared_file(OPENAPI_SPEC)
needs_instruments_spec = needs_shared_file(INSTRUMENTS_SPEC)
