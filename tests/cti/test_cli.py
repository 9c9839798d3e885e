"""Every `cti` subcommand answers bad arguments with one line on stderr and a non-zero status."""

import pytest

from cti.cli import COMMANDS, main

BAD_ARGUMENTS = [
    ["server"],
    ["server", "--config", "/nonexistent/cti.toml"],
    ["sim"],
    ["sim", "csta"],
    ["sim", "csta", "--listen", "1.2.3"],
    ["sim", "serial", "--listen", "nowhere"],
    ["monitor"],
    ["monitor", "foo://x", "--devices", "1"],
    ["monitor", "csta://127.0.0.1:1", "--devices", "abc"],
    ["demo", "--api", "nonsense"],
    ["simulate"],
    ["simulate", "--agents", "x", "--rate", "1", "--aht", "1"],
    ["erlang", "--rate", "1"],
    ["smdr", "parse", "/nonexistent/file.txt"],
    ["smdr", "parse", "x", "--format", "nope"],
    ["admin"],
    ["db"],
    ["db", "seed"],
    ["desktop", "--screenshot"],
    ["bench"],
    ["bench", "nope"],
    ["bench", "acd", "--agents", "x"],
    ["no-such-command"],
]


@pytest.mark.parametrize("argv", BAD_ARGUMENTS, ids=" ".join)
def test_bad_arguments_give_one_line_and_a_non_zero_status(argv, capsys):
    status = main(argv)
    err = capsys.readouterr().err
    assert status != 0
    assert err.startswith("cti: error: ")
    assert err.count("\n") == 1, err


def test_every_command_is_covered_above():
    assert {argv[0] for argv in BAD_ARGUMENTS} >= set(COMMANDS)


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)
