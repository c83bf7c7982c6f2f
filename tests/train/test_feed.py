"""The pitch feed: the batches and pitch a step gets are those it would get without worker processes."""

import numpy as np
import pytest
import torch

pytest.importorskip("parselmouth")

from vqcodec.analysis.tracked_pitch import coded, track  # noqa: E402
from vqcodec.pitch.target import PitchSpec  # noqa: E402
from vqcodec.train.data import SegmentSampler  # noqa: E402
from vqcodec.train.feed import PitchFeed  # noqa: E402


def _clips(seconds: float = 3.0, sr: int = 16000) -> list[np.ndarray]:
    t = np.arange(int(seconds * sr)) / sr
    out = []
    for f0 in (110.0, 220.0):
        x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6)) * (t % 1.0 < 0.6)
        out.append((0.3 * x * 32767).astype(np.int16))
    return out


@pytest.mark.parametrize("bits", [7, 0])
def test_feed_matches_in_process_tracking(bits):
    spec = PitchSpec(16000, 320, bits, 2)
    feed = PitchFeed(SegmentSampler(_clips(), 16000, seed=3), 3, spec, workers=2, depth=1)
    plain = SegmentSampler(_clips(), 16000, seed=3)
    try:
        for _ in range(3):
            x, f0 = feed.next()
            want_x = plain.batch(3)
            want = coded(want_x, 16000, 320, bits, 2) if bits else track(want_x, 16000, 160)
            assert torch.equal(x, want_x)
            assert f0.shape == want.f0.shape == (3, 100)
            assert torch.allclose(f0, want.f0.float())
            assert (f0 > 0).any()
    finally:
        feed.close()


def test_feed_rejects_no_workers():
    with pytest.raises(ValueError):
        PitchFeed(SegmentSampler(_clips(), 16000), 2, PitchSpec(16000, 320, 7, 2), workers=0)


def test_close_leaves_no_traceback_at_exit(tmp_path):
    """A process that closes its feed mid-run exits cleanly: nothing on stderr, status 0."""
    import subprocess
    import sys

    script = tmp_path / "feed_exit.py"
    script.write_text(
        "import numpy as np\n"
        "from vqcodec.pitch.target import PitchSpec\n"
        "from vqcodec.train.data import SegmentSampler\n"
        "from vqcodec.train.feed import PitchFeed\n"
        "if __name__ == '__main__':\n"
        "    clip = (3000 * np.sin(np.arange(48000) * 0.05)).astype(np.int16)\n"
        "    sampler = SegmentSampler([clip], 16000, seed=1)\n"
        "    feed = PitchFeed(sampler, 2, PitchSpec(16000, 320, 7, 2), workers=1, depth=2)\n"
        "    feed.next()\n"
        "    feed.close()\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == ""
