"""Progress shows on a terminal and stays quiet when piped."""
import io
import time

from archsim.commands._common import progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_and_silent_when_piped():
    tty, pipe = _Tty(), io.StringIO()
    with progress("simulating", tty, interval_s=0.01) as p:
        time.sleep(0.05)
        p.update("still simulating")
    with progress("simulating", pipe, interval_s=0.01):
        time.sleep(0.03)
    out = tty.getvalue()
    assert out.startswith("simulating ...") and " s" in out and "still simulating" in out
    assert out.endswith("\r\033[K")                      # the line is cleared when the work ends
    assert pipe.getvalue() == ""


def test_run_help_says_what_fidelity_costs(capsys):
    from archsim.cli import main

    assert main(["run", "--help"]) == 0
    assert "10-100x slower" in capsys.readouterr().out.replace("\n", " ").replace("  ", " ")
