"""mypy --strict over the complete programs in README.md and docs/*.md, as users copy them.

The docs' tests run every block; this checks the types a user's own `mypy --strict` would see
in them (an instrument used as a card without narrowing it, an id that may be None). Each
program is written to a file of its own in a temporary folder, named after where it starts.

    python scripts/typecheck_docs.py        # exit status: mypy's
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.docs._blocks import documents, python_blocks  # noqa: E402


def main() -> int:
    programs = [
        block for path in documents() for block in python_blocks(path) if block.kind == "program"
    ]
    with tempfile.TemporaryDirectory(prefix="docs-typecheck-") as folder:
        files = []
        for block in programs:
            name = re.sub(r"\W", "_", block.where) + ".py"
            file = Path(folder) / name
            file.write_text(block.code, encoding="utf-8")
            files.append(str(file))
        print(f"mypy --strict over {len(files)} programs of the docs", flush=True)
        done = subprocess.run(  # noqa: S603 (our interpreter, files we just wrote)
            [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *files], check=False
        )
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
