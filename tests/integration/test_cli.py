"""Every command answers --help completely and rejects bad options with a
clear message and exit status 2."""
import subprocess

import pytest

from conftest import FLOE

COMMANDS = ["demo", "emit", "agent", "firehose", "run", "task", "reconcile",
            "backfill", "runs"]


def run(*args):
    return subprocess.run([FLOE, *args], capture_output=True, text=True,
                          timeout=30)


def test_top_level_help_lists_commands():
    r = run("--help")
    assert r.returncode == 0
    for c in COMMANDS:
        assert f"  {c} " in r.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_subcommand_help(command):
    r = run(command, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Usage: floe " + command)
    assert "--help" in r.stdout


@pytest.mark.parametrize("command", ["demo", "emit", "firehose", "run",
                                     "reconcile", "backfill", "runs"])
def test_unknown_option_is_a_clear_error(command):
    r = run(command, "--no-such-option")
    assert r.returncode == 2
    assert "--no-such-option" in r.stderr


def test_unknown_command():
    r = run("frobnicate")
    assert r.returncode == 2 and "unknown command" in r.stderr


def test_backfill_needs_a_period_it_can_read(tmp_path):
    r = run("backfill", "--state-dir", str(tmp_path), "--lake", str(tmp_path))
    assert r.returncode == 2 and "--from" in r.stderr
    r = run("backfill", "--from", "2026-11-24T19", "--to", "yesterday",
            "--state-dir", str(tmp_path), "--lake", str(tmp_path))
    assert r.returncode == 2 and "'yesterday'" in r.stderr
    r = run("backfill", "--from", "2026-11-24T19", "--to", "2026-11-24T19",
            "--state-dir", str(tmp_path), "--lake", str(tmp_path))
    assert r.returncode == 2 and "later" in r.stderr
