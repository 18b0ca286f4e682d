"""Import cost: `import checkout_customers` against `import aiohttp`, each in a fresh interpreter.

    python benchmarks/bench_import.py [--rounds R]

Each round starts one interpreter per contender, in an order that flips every round, and has it
time its own import (CPU with `time.process_time`, and wall time), so that interpreter start-up
does not count. The package imports aiohttp itself, so the ratio says what the SDK adds on top
of the library any aiohttp client pays for. Medians of the per-round ratios, with the middle
half of the rounds (the noise). Target: <= 1.3x.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from _measure import Sample, load_average, spread

TARGET = 1.3
MODULES = ("aiohttp", "checkout_customers")
_TIMED_IMPORT = """
import json, time
cpu, wall = time.process_time(), time.perf_counter()
import {module}
print(json.dumps([time.process_time() - cpu, time.perf_counter() - wall]))
"""


def timed_import(module: str) -> Sample:
    done = subprocess.run(
        [sys.executable, "-c", _TIMED_IMPORT.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    cpu, wall = json.loads(done.stdout)
    return Sample(cpu, wall)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=21, help="alternating rounds")
    options = parser.parse_args()
    for module in MODULES:  # warm the file-system cache and the bytecode
        timed_import(module)
    load_before = load_average()
    samples: dict[str, list[Sample]] = {module: [] for module in MODULES}
    for round_number in range(options.rounds):
        for module in MODULES if round_number % 2 == 0 else MODULES[::-1]:
            samples[module].append(timed_import(module))
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load_before} "
        f"before / {load_average()} after; {options.rounds} alternating rounds, fresh "
        "interpreters"
    )
    print(f"{'import':<20}{'CPU ms':>20}{'wall ms':>20}")
    for module, figures in samples.items():
        cpu = spread([one.cpu * 1e3 for one in figures])
        wall = spread([one.wall * 1e3 for one in figures])
        print(f"{module:<20}{cpu:>20.0f}{wall:>20.0f}")
    pairs = list(zip(samples["checkout_customers"], samples["aiohttp"], strict=True))
    for what, ratio in (
        ("CPU", spread([mine.cpu / base.cpu for mine, base in pairs])),
        ("wall", spread([mine.wall / base.wall for mine, base in pairs])),
    ):
        verdict = "met" if ratio.median <= TARGET else "NOT MET"
        print(f"checkout_customers/aiohttp, {what}: {ratio:.2f}x, target <= {TARGET}x: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
