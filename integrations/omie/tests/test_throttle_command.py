import pytest
from django.core.management import CommandError, call_command

from integrations.omie.throttle import get_throttle


def test_ops_can_pause_see_and_resume_a_method(capsys):
    call_command("omie_throttle", "pause", "FaturarOS", "--seconds", "600")
    assert "FaturarOS paused until" in capsys.readouterr().out
    assert any(s.call == "FaturarOS" and s.paused_until for s in get_throttle().state())

    call_command("omie_throttle", "status")
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("FaturarOS"))
    assert "PAUSED" in line

    call_command("omie_throttle", "resume", "FaturarOS")
    assert not any(s.call == "FaturarOS" and s.paused_until for s in get_throttle().state())


def test_an_unknown_method_is_refused():
    with pytest.raises(CommandError, match="Unknown Omie method"):
        call_command("omie_throttle", "pause", "FaturarTudo", "--seconds", "1")
