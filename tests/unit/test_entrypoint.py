"""The `kubelite` dispatcher: help, unknown commands."""

from kubelite.main import main


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for cmd in ("server", "agent", "up", "down", "kubectl", "runtime"):
        assert cmd in out


def test_unknown_command_fails(capsys):
    assert main(["nope"]) == 2
    assert "unknown command" in capsys.readouterr().err
