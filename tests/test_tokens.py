"""vqcodec.tokens and `vqcodec tokens`: exact batched extraction, resume, rank split, sequences, dataset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import vqcodec
from vqcodec.cli import main
from vqcodec.io.audio import read_audio
from vqcodec.tokens import (
    TokenDataset,
    collect,
    flatten,
    iter_utterances,
    load_shard,
    read_errors,
    read_index,
    tokens_per_frame,
    unflatten,
    vocab_size,
)

GOOD = {
    "a": (16000, 1, 0.30),
    "spk1/b": (16000, 2, 0.12),
    "spk1/c": (22050, 1, 0.41),
    "spk2/d": (8000, 1, 0.05),
    "spk2/e": (16000, 1, 0.23),
    "spk2/f": (16000, 1, 0.9),
}
BAD = ("broken", "empty", "nan")


def _signal(sr: int, channels: int, seconds: float, seed: int) -> np.ndarray:
    """[T, C] float32: a tone plus noise, different per file and channel."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    x = [
        0.3 * np.sin(2 * np.pi * (180 + 70 * c + 13 * seed) * t) + 0.02 * rng.standard_normal(t.size)
        for c in range(channels)
    ]
    return np.stack(x, 1).astype(np.float32)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Six good files (mono, stereo, 8/16/22.05 kHz, in sub-folders, one longer than the 250-frame default
    window) and a corrupt, an empty and a NaN one."""
    root = tmp_path_factory.mktemp("corpus")
    for seed, (uid, (sr, ch, sec)) in enumerate(GOOD.items()):
        (root / uid).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / f"{uid}.wav", _signal(sr, ch, sec, seed), sr)
    (root / "broken.wav").write_bytes(b"RIFF\x00\x00not really a wave file" * 10)
    (root / "empty.wav").write_bytes(b"")
    x = _signal(16000, 1, 0.2, 9)
    x[500] = np.nan
    sf.write(root / "nan.wav", x, 16000, subtype="FLOAT")
    return root


@pytest.fixture(scope="module")
def good(corpus, tmp_path_factory) -> Path:
    """The good files only."""
    root = tmp_path_factory.mktemp("good")
    for uid in GOOD:
        (root / uid).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(corpus / f"{uid}.wav", root / f"{uid}.wav")
    return root


def _tokens(tiny_model_file: str, *args: str) -> int:
    return main(["tokens", "-q", "-m", tiny_model_file, *map(str, args)])


def _arrays(outdir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for shard in sorted(outdir.glob("shard-*.npz")):
        out.update(load_shard(shard))
    return out


@pytest.fixture(scope="module")
def extracted(corpus, tiny_model_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tokens") / "out"
    assert _tokens(tiny_model_file, corpus, "-o", out, "--batch-size", "3", "--shard-size", "2", "-b", "1e6") == 3
    return out


def test_cli_output_and_failures(corpus, tiny_model_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert _tokens(tiny_model_file, corpus, "-o", out, "--shard-size", "2") == 3
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all("Traceback" not in line for line in err)
    for name in BAD:
        assert sum(f"{name}.wav" in line for line in err) == 1
    index = read_index(out)
    assert [r["id"] for r in index] == sorted(GOOD)
    assert sorted(Path(e["path"]).name for e in read_errors(out)) == [f"{n}.wav" for n in BAD]
    shards = sorted(p.name for p in out.glob("shard-*.npz"))
    assert shards == [f"shard-00000-0000{i}.npz" for i in range(3)]
    assert all((out / s.replace(".npz", ".index.jsonl")).exists() for s in shards)
    codec = vqcodec.load(tiny_model_file)
    for r in index:
        sr, ch, sec = GOOD[r["id"]]
        assert (r["sample_rate"], r["channels"], r["num_samples"]) == (sr, ch, int(sr * sec))
        assert r["duration"] == pytest.approx(sec, abs=1e-4)
        assert (r["model"], r["model_hash"], r["codebook_size"]) == ("tiny", codec.hash.hex(), 16)
        assert r["bottom_frames"] == 2 * r["top_frames"] and (r["n_top"], r["n_bottom"]) == (2, 1)  # 3 kbps: lowest
        top, bottom = load_shard(out / r["shard"])[r["id"]]
        assert top.dtype == np.int16 and top.shape == (ch, 2, r["top_frames"])
        assert bottom.shape == (ch, 1, r["bottom_frames"])


def test_tokens_equal_encode_alone_and_batch_size_does_not_matter(good, tiny_model_file, extracted, tmp_path):
    """Every file's tokens equal codec.encode of it, whether coded 1, 3 or 8 at a time."""
    codec = vqcodec.load(tiny_model_file)
    alone, batched = tmp_path / "b1", tmp_path / "b8"
    assert _tokens(tiny_model_file, good, "-o", alone, "--batch-size", "1", "-b", "1e6") == 0
    assert _tokens(tiny_model_file, good, "-o", batched, "--batch-size", "8", "-b", "1e6") == 0
    runs = [_arrays(d) for d in (alone, batched, extracted)]
    assert all(sorted(r) == sorted(GOOD) for r in runs)
    for uid in GOOD:
        codes = codec.encode(*read_audio(good / f"{uid}.wav"), bitrate=1e6)
        for run in runs:
            np.testing.assert_array_equal(run[uid][0], codes.top.numpy())
            np.testing.assert_array_equal(run[uid][1], codes.bottom.numpy())


def test_both_runtimes_give_the_same_tokens(good, tiny_onnx, tmp_path):
    """Tokens are codes: the tiny model's export on onnxruntime gives its weights' tokens on torch, file for file
    (other rates, stereo, a window split, batches of 3), and the same index records."""
    manifest = tiny_onnx["istft"]
    models = {"onnx": manifest, "torch": manifest.with_name("tiny.safetensors")}
    runs, records = {}, {}
    for runtime, model in models.items():
        out = tmp_path / runtime
        argv = ["tokens", "-q", "-m", model, good, "-o", out, "--batch-size", "3", "-b", "1e6"]
        assert main([str(a) for a in argv]) == 0
        runs[runtime], records[runtime] = _arrays(out), read_index(out)
    assert sorted(runs["onnx"]) == sorted(runs["torch"]) == sorted(GOOD)
    for uid in GOOD:
        for got, want in zip(runs["onnx"][uid], runs["torch"][uid], strict=True):
            np.testing.assert_array_equal(got, want)
    assert records["onnx"] == records["torch"]


def test_a_runtime_the_device_or_model_cannot_take_is_one_line(good, tiny_model_file, tmp_path, capsys):
    argv = ["tokens", str(good), "-o", str(tmp_path / "out"), "-m", tiny_model_file, "--runtime", "onnx"]
    assert main(argv) == 1
    assert main([*argv, "--device", "cuda"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "takes an exported model" in err[0] and "runs on the CPU" in err[1]


def test_resume_skips_done_and_never_duplicates(good, tiny_model_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert _tokens(tiny_model_file, good, "-o", out, "--shard-size", "2") == 0
    first, shards = (out / "index.jsonl").read_text(), sorted(out.glob("shard-*"))
    main(["tokens", "-m", tiny_model_file, str(good), "-o", str(out), "--shard-size", "2"])
    assert "0 extracted, 6 already done, 0 failed" in capsys.readouterr().out
    assert (out / "index.jsonl").read_text() == first and sorted(out.glob("shard-*")) == shards
    # a run killed between a shard's codes and its index: that shard is redone, nothing duplicated
    last = max(out.glob("shard-*.index.jsonl"))
    lost = {r["id"] for r in map(json.loads, last.read_text().splitlines())}
    last.unlink()
    main(["tokens", "-m", tiny_model_file, str(good), "-o", str(out), "--shard-size", "2"])
    assert f"{len(lost)} extracted, {6 - len(lost)} already done" in capsys.readouterr().out
    ids = [r["id"] for r in read_index(out)]
    assert ids == sorted(GOOD) and len(set(ids)) == len(ids)
    assert sum(len(load_shard(p)) for p in out.glob("shard-*.npz")) == 6


def test_refuses_another_rate_in_the_same_folder(good, tiny_model_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert _tokens(tiny_model_file, good, "-o", out) == 0
    finished = {p.name: p.read_bytes() for p in out.iterdir()}
    assert _tokens(tiny_model_file, good, "-o", out, "-b", "1e6") == 1
    assert "use another output folder" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == finished  # rank-00000.done included


def test_rank_split_then_merge(corpus, tiny_model_file, tmp_path):
    """Two ranks cover every file once; the last to finish merges, and only it reports the failures."""
    out = tmp_path / "out"
    everything = sorted([*GOOD, *BAD])
    assert _tokens(tiny_model_file, corpus, "-o", out, "--rank", "1", "--world-size", "2") == 0  # it failed "broken"
    assert not (out / "index.jsonl").exists()  # rank 0 has not finished
    assert _tokens(tiny_model_file, corpus, "-o", out, "--rank", "0", "--world-size", "2") == 3
    for rank in (0, 1):
        got = set().union(*(load_shard(p) for p in out.glob(f"shard-{rank:05d}-*.npz")))
        assert got == set(everything[rank::2]) - set(BAD)
    assert [r["id"] for r in read_index(out)] == sorted(GOOD)
    assert sorted(e["id"] for e in read_errors(out)) == sorted(BAD)
    (out / "index.jsonl").unlink()
    assert main(["tokens", "-q", "--merge", str(out)]) == 3  # some files failed
    assert [r["id"] for r in read_index(out)] == sorted(GOOD)


def test_manifests_and_duplicate_ids(good, tiny_model_file, tmp_path, capsys):
    (tmp_path / "list.csv").write_text(f"path,split\n{good}/a.wav,train\n{good}/spk1/b.wav,dev\nmissing.wav,x\n")
    (tmp_path / "list.txt").write_text(f"# comment\n\n{good}/spk2/d.wav\n")
    items, rejected = collect([tmp_path / "list.csv", tmp_path / "list.txt", good / "spk2"])
    assert sorted(it.path.name for it in items) == ["a.wav", "b.wav", "d.wav", "e.wav", "f.wav", "missing.wav"]
    assert not rejected  # spk2/d.wav reached twice is kept once
    assert [it.id for it in collect([good / "spk1" / "b.wav"])[0]] == [f"{str(good).lstrip('/')}/spk1/b"]
    assert _tokens(tiny_model_file, tmp_path / "list.csv", tmp_path / "list.txt", "-o", tmp_path / "o") == 3
    assert "missing.wav: no such file" in capsys.readouterr().err
    ids = [r["id"] for r in read_index(tmp_path / "o")]
    assert ids == sorted([f"{str(good).lstrip('/')}/{u}" for u in ("a", "spk1/b", "spk2/d")])
    (tmp_path / "ids.csv").write_text("path,id\nd.wav,same\nother.wav,same\n")
    items, rejected = collect([tmp_path / "ids.csv"])
    assert [it.id for it in items] == ["same"] and "duplicate id 'same'" in rejected[0][1]


def test_usage_errors(tiny_model_file, tmp_path, capsys):
    for argv in (
        ["tokens", str(tmp_path / "nope"), "-o", str(tmp_path / "o")],
        ["tokens", str(tmp_path)],
        ["tokens", str(tmp_path), "-o", str(tmp_path / "o")],  # no audio in it
        ["tokens", "--merge", str(tmp_path / "o"), str(tmp_path)],
    ):
        assert main([argv[0], "-m", tiny_model_file, *argv[1:]]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("vqcodec: ")


# ---------------------------------------------------------------- sequences


def test_flatten_patterns_by_hand():
    top = torch.tensor([[1, 2], [3, 4]])  # n_top 2, T_t 2
    bottom = torch.tensor([[5, 6, 7, 0]])  # n_bottom 1, ratio 2
    # K = 10: top codebook q -> 10 q + code, bottom codebook 0 -> 20 + code
    assert flatten(top, bottom, 10).tolist() == [1, 13, 25, 26, 2, 14, 27, 20]
    assert flatten(top, bottom, 10, "flat").tolist() == [1, 13, 2, 14, 25, 26, 27, 20]
    assert vocab_size(2, 1, 10) == 30 and tokens_per_frame(2, 1, 2) == 4


@settings(max_examples=60, deadline=None)
@given(
    n_top=st.integers(1, 4),
    n_bottom=st.integers(1, 5),
    ratio=st.integers(1, 4),
    frames=st.integers(0, 7),
    k=st.integers(1, 1024),
    pattern=st.sampled_from(["hierarchical", "flat"]),
    seed=st.integers(0, 2**16),
)
def test_unflatten_inverts_flatten(n_top, n_bottom, ratio, frames, k, pattern, seed):
    g = torch.Generator().manual_seed(seed)
    top = torch.randint(k, (n_top, frames), generator=g)
    bottom = torch.randint(k, (n_bottom, frames * ratio), generator=g)
    seq = flatten(top, bottom, k, pattern)
    assert seq.dtype == torch.int64 and seq.shape == (frames * tokens_per_frame(n_top, n_bottom, ratio),)
    assert seq.numel() == 0 or 0 <= seq.min() <= seq.max() < vocab_size(n_top, n_bottom, k)
    t, b = unflatten(seq, n_top, n_bottom, ratio, k, pattern)
    assert torch.equal(t, top) and torch.equal(b, bottom)


def test_unflatten_refuses_what_flatten_cannot_make():
    seq = flatten(torch.zeros(2, 3, dtype=torch.long), torch.zeros(1, 6, dtype=torch.long), 4)
    with pytest.raises(ValueError):
        unflatten(seq[:-1], 2, 1, 2, 4)
    with pytest.raises(ValueError):
        unflatten(seq + 4, 2, 1, 2, 4)  # top tokens moved into the next codebook's range
    with pytest.raises(ValueError):
        flatten(torch.zeros(2, 3), torch.zeros(1, 5), 4)  # bottom not a multiple of top
    with pytest.raises(ValueError):
        flatten(torch.full((2, 3), 4), torch.zeros(1, 6), 4)  # code out of range


# ---------------------------------------------------------------- reading back


def test_dataset_and_iter_utterances(extracted):
    index = read_index(extracted)
    stored = {u.id: u for u in iter_utterances(extracted)}
    assert sorted(stored) == [r["id"] for r in index]
    ds = TokenDataset(extracted)
    assert len(ds) == len(index) and ds.vocab_size == (2 + 3) * 16 and ds.ratio == 2
    for i, r in enumerate(index):
        seq = ds[i]
        assert seq.dtype == torch.int64 and seq.shape == (r["top_frames"] * ds.per_frame,)
        top, bottom = unflatten(seq, ds.n_top, ds.n_bottom, ds.ratio, ds.codebook_size)
        assert np.array_equal(top.numpy(), stored[r["id"]].top[0])
        assert np.array_equal(bottom.numpy(), stored[r["id"]].bottom[0])
    assert len(TokenDataset(extracted, channels="all")) == sum(r["channels"] for r in index)
    cut = TokenDataset(extracted, pattern="flat", max_len=3 * ds.per_frame + 1, random_crop=True)
    assert all(len(cut[i]) == min(3, r["top_frames"]) * ds.per_frame for i, r in enumerate(index))
    loader = torch.utils.data.DataLoader(ds, batch_size=2, collate_fn=list)
    assert sum(len(b) for b in loader) == len(ds)
