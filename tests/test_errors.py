"""Tests for vqcodec.errors.run_main: every way in turns a user's mistake into one line and an exit status."""

from __future__ import annotations

import pytest

from vqcodec.errors import Terminated, UserError, VQCodecError, run_main
from vqcodec.io.container import ContainerError


def _raises(e: BaseException):
    def fn():
        raise e

    return fn


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (UserError("no such rung"), 1, "vqcodec: no such rung"),
        (VQCodecError("bad weights in m.safetensors"), 1, "vqcodec: bad weights in m.safetensors"),
        (ContainerError("bad checksum"), 1, "vqcodec: in.vqc: bad checksum"),  # the stream's file is added
        (FileNotFoundError(2, "No such file or directory", "x.wav"), 1, "vqcodec: x.wav: No such file or directory"),
        (Terminated(), 143, "vqcodec: terminated"),
        (KeyboardInterrupt(), 130, "vqcodec: interrupted"),
        (
            ModuleNotFoundError("no pesq", name="pesq"),
            1,
            "vqcodec: eval needs pesq, which is not installed: pip install 'vqcodec[eval]'",
        ),
    ],
)
def test_one_line_and_the_exit_status(capsys, error, code, line) -> None:
    assert run_main(_raises(error), "eval", "in.vqc") == code
    assert capsys.readouterr().err == line + "\n"


def test_a_result_passes_through_and_an_unknown_missing_module_is_a_bug(capsys) -> None:
    assert run_main(lambda: None, "x") == 0 and run_main(lambda: 3, "x") == 3
    with pytest.raises(ModuleNotFoundError):
        run_main(_raises(ModuleNotFoundError("gone", name="not_an_extra")), "x")
