"""The `schemathesis run` a user would type against a running emulator, for the contract tests.

Every check runs except `positive_data_acceptance`: the references keep some limits in prose
(metadata pairs, known ids, unused tokens), so a body their schemas allow may rightly get the
422 they document.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

#: Cases per operation and phase, and the seed, as the issues' measurements used them.
CASES_PER_OPERATION = 50
SEED = 1
PHASES = ("examples", "coverage", "fuzzing", "stateful")


def run_schemathesis(
    spec: Path, tmp_path: Path, base_url: str, key: str, *selection: str, name: str = "run"
) -> Any:
    """Run schemathesis on `spec` (the operations `selection` picks); return its JSON report."""
    report = tmp_path / f"schemathesis-{name}.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            str(spec),
            "--url",
            base_url,
            "--header",
            f"Authorization: Bearer {key}",
            *selection,
            "--seed",
            str(SEED),
            "--max-examples",
            str(CASES_PER_OPERATION),
            "--phases",
            ",".join(PHASES),
            "--exclude-checks",
            "positive_data_acceptance",
            "--continue-on-failure",
            "--generation-database",
            "none",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    return json.loads(report.read_text())


def assert_clean(summary: Any, operations: int) -> None:
    """No failure and no error, on `operations` operations with the cases asked for."""
    assert summary["failures"] == []
    assert summary["errors"] == []
    assert summary["test_cases"]["unique_failures"] == 0
    assert summary["operations"]["tested"] == operations
    assert summary["test_cases"]["generated"] >= operations * CASES_PER_OPERATION
