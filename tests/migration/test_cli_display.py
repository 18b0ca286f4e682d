"""What `checkout-customers migrate` shows: the problem rows at the end, and the progress line
on a real terminal (a pseudo-terminal), a dumb one, and after Ctrl-C."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from checkout_customers.cli import main
from checkout_customers.emulator import RunningEmulator

from .conftest import UNTHROTTLED, cli_command, cli_env, write_csv

ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07)")


def test_the_problem_rows_are_listed_with_line_email_status_and_reason(
    account: RunningEmulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The new user: two invalid rows and a duplicate printed only their counts.
    source = tmp_path / "in.csv"
    source.write_text(
        "email,name\n"
        "a@example.com,A\n"
        "not-an-email,X\n"
        "b@example.com,B\n"
        "A@example.com,Again\n"
        ",Nobody\n",
        encoding="utf-8",
    )
    assert main(["migrate", str(source), *UNTHROTTLED]) == 1
    out = capsys.readouterr().out
    problems = out[out.index("3 problem rows:") :].splitlines()
    assert problems[1].split() == ["line", "email", "status", "reason"]
    assert problems[2].split()[:3] == ["3", "not-an-email", "invalid"]
    assert problems[3].split()[:3] == ["5", "a@example.com", "duplicate"]
    assert "same email as line 2" in problems[3]
    assert problems[4].split()[:3] == ["6", "-", "invalid"]
    assert "email" in problems[4].split(maxsplit=3)[3]  # the reason names the field
    assert len(problems) == 5  # all of them, and no "... more" line


def test_more_than_ten_problems_point_to_the_report_or_to_the_option(
    account: RunningEmulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = [["good@example.com", "Good"]] + [[f"bad{n}", "Bad"] for n in range(12)]
    source = write_csv(tmp_path / "in.csv", rows)
    journal = tmp_path / "journal.sqlite3"
    args = ["migrate", str(source), "--journal", str(journal), *UNTHROTTLED]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "12 problem rows, the first 10 by line:" in out
    listed = re.findall(r"^ +(\d+) +bad\d+ +invalid ", out, flags=re.MULTILINE)
    assert listed == [str(line) for line in range(3, 13)]
    assert out.rstrip().endswith(
        "... and 2 more: rerun with --report PATH to get every row with its reason"
    )
    report = tmp_path / "report.jsonl"
    assert main([*args, "--report", str(report)]) == 1
    out = capsys.readouterr().out
    assert out.rstrip().endswith(f"... and 2 more: see the report {report}")


def test_a_rerun_with_nothing_left_says_so(
    account: RunningEmulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [[f"n{n}@example.com", "N"] for n in range(20)])
    assert main(["migrate", str(source), *UNTHROTTLED]) == 0
    capsys.readouterr()
    assert main(["migrate", str(source), *UNTHROTTLED]) == 0
    out, err = capsys.readouterr()
    assert ": nothing to do, every row was done by an earlier run" in out.splitlines()[0]
    last = err.splitlines()[-1]
    assert last.startswith("progress: 20/20 rows  100%  nothing to do: every row was done")
    assert "rows/s" not in last


class Terminal:
    """A command run on a pseudo-terminal of `columns` columns, its output read as it comes."""

    def __init__(self, command: list[str], env: Mapping[str, str], columns: int) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        self.process = subprocess.Popen(
            command,
            env={**env, "COLUMNS": str(columns)},
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
        )
        os.close(slave)
        self._master = master
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: the command ended and the terminal closed
                break
            if not chunk:
                break
            self._chunks.append(chunk)

    def wait(self, timeout: float = 60) -> tuple[int, str]:
        try:
            status = self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._reader.join(10)
            os.close(self._master)
        return status, b"".join(self._chunks).decode("utf-8")


def screen_lines(output: str) -> list[str]:
    """Each state of each line the terminal showed, without escape codes."""
    return [piece for line in ESCAPE.sub("", output).split("\n") for piece in line.split("\r")]


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_on_a_terminal_the_live_line_and_the_tables_fit_its_width(
    emulator: RunningEmulator, tmp_path: Path, columns: int
) -> None:
    rows = [[f"t{n}@example.com", "T"] for n in range(600)] + [["not-an-email", "X"]]
    source = write_csv(tmp_path / "in.csv", rows)
    env = {**cli_env(emulator), "TERM": "xterm-256color"}
    command = cli_command("migrate", str(source), "--write-rate", "600", "--read-rate", "600")
    status, output = Terminal(command, env, columns).wait()
    assert status == 1, output
    assert "\x1b[" in output  # drawn live
    lines = screen_lines(output)
    assert all(len(line) <= columns for line in lines), max(lines, key=len)
    frames = [line for line in lines if "/601" in line]
    assert len(frames) > 3  # redrawn in place while the rows went
    assert "601/601" in frames[-1]
    assert "100%" in frames[-1]
    assert re.search(r"elapsed 0:0\d", frames[-1])
    for frame in frames:  # whole numbers: the count is never cut
        assert re.search(r"(^|  )\d{1,3}(,\d{3})?/601( rows)?(  |$)", frame), frame
    assert "─" in output  # the tables drawn by rich
    assert re.search(r"created\s+600", ESCAPE.sub("", output))
    assert re.search(r"^ *602\s+not-an-email\s+invalid\s", ESCAPE.sub("", output), re.M)


def test_on_a_dumb_terminal_no_escape_code_is_written(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [[f"d{n}@example.com", "D"] for n in range(50)])
    env = {**cli_env(emulator), "TERM": "dumb"}
    status, output = Terminal(cli_command("migrate", str(source), *UNTHROTTLED), env, 80).wait()
    assert status == 0, output
    assert "\x1b" not in output
    assert "progress: 50/50 rows  100%" in output
    assert re.search(r"created\s+50", output)


@pytest.mark.slow
def test_after_ctrl_c_the_bar_stays_where_the_run_stopped(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [[f"c{n}@example.com", "C"] for n in range(1000)])
    env = {**cli_env(emulator), "TERM": "xterm-256color"}
    command = cli_command("migrate", str(source), "--write-rate", "100", "--read-rate", "100")
    terminal = Terminal(command, env, 100)
    try:
        _wait_for(lambda: len(emulator.customers()) >= 50, "50 customers")
    finally:
        terminal.process.send_signal(signal.SIGINT)
    status, output = terminal.wait()
    assert status == 130, output
    created = len(emulator.customers())
    assert 50 <= created < 1000
    frames = [line for line in screen_lines(output) if "/1,000" in line]
    last = frames[-1]
    assert f"{created:,}/1,000" in last
    assert f"not started {1000 - created:,}" in last
    assert "stopped" in last
    assert "1,000/1,000" not in output
    bar = re.match(r"(━*)(─*)  ", last)
    assert bar is not None
    filled, empty = bar.groups()
    assert len(filled) == int(created / 1000 * (len(filled) + len(empty)))
    summary = ESCAPE.sub("", output)
    assert re.search(rf"not_started\s+{1000 - created}\b", summary)
    assert re.search(r"failed\s+0\b", summary)


def test_a_run_refused_before_any_row_prints_no_progress(
    account: RunningEmulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [["a@example.com", "A"]])
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not sqlite" * 100)
    assert main(["migrate", str(source), "--journal", str(garbage)]) == 2
    out, err = capsys.readouterr()
    assert "not a migration journal" in err
    assert "progress" not in err
    assert out == ""


def test_a_resume_reports_the_pace_of_its_own_rows(
    account: RunningEmulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # 300 rows done by a first run, 60 new ones at 40 creates/s: the rerun's rate is its own
    # (~40 rows/s), not the 360 rows it read divided by its time (~200 rows/s).
    rows = [[f"r{n}@example.com", "R"] for n in range(360)]
    source = write_csv(tmp_path / "in.csv", rows[:300])
    assert main(["migrate", str(source), *UNTHROTTLED]) == 0
    write_csv(source, rows)
    capsys.readouterr()
    paced = ("--write-rate", "40", "--read-rate", "40", "--settle-seconds", "0.2")
    assert main(["migrate", str(source), *paced]) == 0
    out, err = capsys.readouterr()
    headline = re.fullmatch(r".* finished in 0:0\d \((\d+\.\d) rows/s\)", out.splitlines()[0])
    assert headline is not None, out
    assert 20 <= float(headline.group(1)) <= 60
    last = err.splitlines()[-1]
    assert last.startswith("progress: 360/360 rows  100%"), last
    shown = re.search(r"  (\d+\.\d) rows/s", last)
    assert shown is not None, last
    assert 20 <= float(shown.group(1)) <= 60
    assert "300 rows were already done by an earlier run" in out
