"""Tests for the streaming loader (vqcodec.train.data.StreamingSegments / StreamSampler) and manifest reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from vqcodec.io.corpus import AudioEntry, read_manifest, write_manifest
from vqcodec.resample import resampled_length
from vqcodec.train.data import StreamingSegments, StreamSampler, list_audio, list_entries, load_corpus

SEGMENT = 1280


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four files (rates 16, 22.05, 8 and 48 kHz; one stereo, one FLAC), one of them silent, and a manifest."""
    root = tmp_path_factory.mktemp("stream")
    rng = np.random.default_rng(0)
    rows = []
    for i, (rate, channels, seconds, ext) in enumerate(
        [(16000, 1, 0.6, "wav"), (22050, 2, 0.5, "flac"), (8000, 1, 0.7, "wav"), (48000, 1, 0.4, "wav")]
    ):
        n = int(rate * seconds)
        x = 0.1 * rng.standard_normal(n) * (0.3 + np.abs(np.sin(np.arange(n) / rate * 7)))
        if i == 2:
            x = np.zeros(n)  # silent: never chosen while the others are loud
        name = f"spk{i}/u{i}.{ext}"
        (root / name).parent.mkdir()
        sf.write(root / name, np.stack([x] * channels, axis=1).astype(np.float32), rate)
        rows.append({"path": name, "split": "train" if i != 3 else "valid", "speaker": f"spk{i}"})
    rows.append({"path": "spk3/u3.wav", "split": "train", "speaker": "spk3"})  # also in train
    write_manifest(root / "manifest.csv", rows)
    return root


def _stream(corpus: Path, seed: int = 0, rank: int = 0, batch: int = 3) -> StreamingSegments:
    return StreamingSegments(list_entries(corpus, "train"), SEGMENT, 16000, batch, seed=seed, rank=rank)


def test_manifest_reading(corpus: Path) -> None:
    entries = list_entries(corpus / "manifest.csv", "train")  # a manifest path, lengths from the headers
    assert [e.path.name for e in entries] == ["u0.wav", "u1.flac", "u2.wav", "u3.wav"]
    assert [(e.sample_rate, e.frames) for e in entries] == [(16000, 9600), (22050, 11025), (8000, 5600), (48000, 19200)]
    assert list_audio(corpus / "manifest.csv", "valid") == [corpus / "spk3" / "u3.wav"]
    assert list_audio(corpus, "valid") == [corpus / "spk3" / "u3.wav"]
    assert len(list_audio(corpus / "manifest.csv")) == 5  # no split: every row
    # no split column: every row, whatever split is asked for; durations stand in for frames
    (corpus / "plain.csv").write_text("path,sr,duration_s\nspk0/u0.wav,16000,0.6\n")
    assert read_manifest(corpus / "plain.csv", "train") == [AudioEntry(corpus / "spk0" / "u0.wav", "", "", 16000, 9584)]
    assert list_audio(corpus / "spk0" / "u0.wav") == [corpus / "spk0" / "u0.wav"]  # one audio file


def test_stream_is_deterministic_and_normalised(corpus: Path) -> None:
    a, b = _stream(corpus), _stream(corpus)
    first = [x for _, x in zip(range(3), iter(a), strict=False)]
    again = [x for _, x in zip(range(3), iter(b), strict=False)]
    assert [k for k, _ in first] == [0, 1, 2]
    for (_, x), (_, y) in zip(first, again, strict=True):
        assert x.shape == (3, 1, SEGMENT) and x.dtype == torch.float32 and torch.equal(x, y)
    assert not torch.equal(first[0][1], first[1][1])
    assert not torch.equal(_stream(corpus, seed=1).batch_at(0), first[0][1])
    assert not torch.equal(_stream(corpus, rank=1).batch_at(0), first[0][1])
    for _, x in first:  # loud segments only, each scaled into the gain range
        rms_db = 10 * torch.log10(x.pow(2).mean(dim=-1))
        assert ((rms_db > -32.5) & (rms_db < -15.5)).all(), rms_db


def test_stream_reads_what_whole_file_resampling_gives(corpus: Path) -> None:
    stream = _stream(corpus)
    whole = load_corpus([stream.paths[1]], 16000)[0].astype(np.float32) / 32768  # 22.05 kHz stereo file
    assert stream.lengths[1] <= resampled_length(11025, 22050, 16000)
    x = stream._read(1, 2000, SEGMENT)
    np.testing.assert_allclose(x, whole[2000 : 2000 + SEGMENT], atol=2e-4)  # int16 rounding apart


def test_two_workers_draw_different_segments_in_order(corpus: Path) -> None:
    one = StreamSampler(_stream(corpus), num_workers=0)
    two = StreamSampler(_stream(corpus), num_workers=2)
    a = [one.batch(3) for _ in range(4)]
    b = [two.batch(3) for _ in range(4)]
    two.close()
    for x, y in zip(a, b, strict=True):  # batch k is the same whichever worker made it
        assert torch.equal(x, y)
    segments = torch.cat(b).squeeze(1)  # batches 0, 2 from worker 0; 1, 3 from worker 1
    assert len({tuple(s[:64].tolist()) for s in segments}) == len(segments)  # no segment twice
    assert not torch.equal(b[0], b[1])


def test_stream_state_resumes_exactly(corpus: Path) -> None:
    straight = StreamSampler(_stream(corpus))
    batches = [straight.batch(3) for _ in range(4)]
    first = StreamSampler(_stream(corpus))
    first.batch(3)
    first.batch(3)
    state = first.state()
    assert state == {"loader": "stream", "next_batch": 2}
    resumed = StreamSampler(_stream(corpus))
    resumed.set_state(state)
    assert torch.equal(resumed.batch(3), batches[2]) and torch.equal(resumed.batch(3), batches[3])
    with pytest.raises(ValueError):
        resumed.set_state({"bit_generator": "PCG64"})  # the memory sampler's state
    with pytest.raises(ValueError):
        resumed.batch(5)


def test_stream_skips_short_and_unreadable_files(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really")
    entries = [*list_entries(corpus, "train"), AudioEntry(bad, sample_rate=16000, frames=20000)]
    stream = StreamingSegments(entries, SEGMENT, 16000, 4, seed=0)
    for k in range(3):
        assert torch.isfinite(stream.batch_at(k)).all()
    assert capsys.readouterr().err.count("skipping unreadable") == 1  # reported once
    with pytest.raises(ValueError, match="at least"):
        StreamingSegments(entries[:1], 10**6, 16000, 2)
