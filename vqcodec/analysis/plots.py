"""PNG figures of ``vqcodec eval`` and ``vqcodec inspect``.

matplotlib is optional (``pip install 'vqcodec[eval]'`` or ``'vqcodec[inspect]'``) and imported inside
each function. Figures are drawn on ``matplotlib.figure.Figure`` objects, which render with the Agg canvas
when saved: pyplot, its global figure list and the process-wide backend are never touched.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from vqcodec.errors import UserError


def require_matplotlib(hint: str = "inspect") -> None:
    """Fail in one line when matplotlib is missing (``hint`` names the extra that installs it)."""
    try:
        _import_matplotlib()
    except ImportError:
        raise UserError(f"plots need matplotlib: pip install 'vqcodec[{hint}]'") from None


def _import_matplotlib() -> None:
    """Import matplotlib (and build its font list) with its config folder in a temporary folder, removed at
    exit, unless the user chose one (``MPLCONFIGDIR``): by default it writes ``~/.config/matplotlib`` and
    ``~/.cache/matplotlib/fontlist-*.json``, and no command of ours writes outside its outputs. The font
    list is rebuilt each run (about 0.2 s of CPU)."""
    if "matplotlib" in sys.modules or "MPLCONFIGDIR" in os.environ:
        import matplotlib.font_manager  # noqa: F401

        return
    folder = tempfile.mkdtemp(prefix="vqcodec-matplotlib-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ["MPLCONFIGDIR"] = folder
    try:
        import matplotlib.font_manager  # noqa: F401  (reads MPLCONFIGDIR once, here)
    finally:
        del os.environ["MPLCONFIGDIR"]


def _figure(width: float, height: float, **kwargs):
    require_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained", **kwargs)


def _save(fig, path: Path, dpi: int = 110) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)  # Agg, whatever backend the process uses
    fig.savefig(path, dpi=dpi)


def rate_quality_plot(rows: Sequence, path: Path, title: str = "") -> None:
    """PESQ-WB and STOI against real kbps, one curve per codec (rows: :class:`vqcodec.analysis.scoring.Row`)."""
    fig = _figure(12, 4.8)
    axes = fig.subplots(1, 2)
    codecs = list(dict.fromkeys(r.codec for r in rows))
    markers = {"vqcodec": "o", "opus": "s", "codec2": "^"}
    for name in codecs:
        mine = sorted((r for r in rows if r.codec == name), key=lambda r: r.real_kbps)
        for ax, metric in zip(axes, ("pesq_wb", "stoi"), strict=True):
            pts = [(r.real_kbps, getattr(r, metric), r.setting) for r in mine if getattr(r, metric) is not None]
            if not pts:
                continue
            x, y, _ = zip(*pts, strict=True)
            ax.plot(x, y, marker=markers.get(name, "D"), label=name)
            for xi, yi, label in pts:
                short = label.split(" (")[-1].rstrip(")") if name == "vqcodec" else label.replace(" kbps", "")
                ax.annotate(short, (xi, yi), textcoords="offset points", xytext=(4, -10), fontsize=7, alpha=0.8)
    for ax, ylabel in zip(axes, ("PESQ-WB (1 to 4.64)", "STOI (0 to 1)"), strict=True):
        ax.set_xlabel("real kbps (headers included)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.suptitle(f"Rate and quality: {title}" if title else "Rate and quality")
    _save(fig, path)


def codebook_plot(counts: Mapping[str, torch.Tensor], path: Path, title: str = "") -> None:
    """Code frequencies: per level, a codebook x code-id map of log10 counts (dead codes blank) and the
    rank-frequency curve of each codebook against the uniform 1/K."""
    from matplotlib import colormaps

    fig = _figure(14, 1.0 + 3.2 * len(counts))
    axes = fig.subplots(len(counts), 2, squeeze=False, gridspec_kw={"width_ratios": (3, 2)})
    for (level, table), (ax_map, ax_rank) in zip(counts.items(), axes, strict=True):
        c = table.double().numpy()
        n_q, k = c.shape
        shown = np.ma.masked_where(c <= 0, np.log10(np.maximum(c, 1)))
        im = ax_map.imshow(
            shown, aspect="auto", interpolation="nearest", cmap="viridis", extent=(-0.5, k - 0.5, n_q - 0.5, -0.5)
        )
        ax_map.set_facecolor("white")
        ax_map.set_yticks(range(n_q))
        ax_map.set_xlabel("code id")
        ax_map.set_ylabel(f"{level} codebook")
        ax_map.set_title(f"{level}: log10 count per code (blank: never used)", fontsize=10)
        fig.colorbar(im, ax=ax_map, pad=0.01, label="log10 count")
        cmap = colormaps["viridis"]
        for j in range(n_q):
            total = c[j].sum()
            if total <= 0:
                continue
            p = np.sort(c[j] / total)[::-1]
            ax_rank.semilogy(
                np.arange(1, k + 1), np.where(p > 0, p, np.nan), color=cmap(j / max(1, n_q - 1)), label=f"{j}", lw=1
            )
        ax_rank.axhline(1 / k, color="k", ls="--", lw=0.8, label="1/K")
        ax_rank.set_xlabel("rank")
        ax_rank.set_ylabel("probability")
        ax_rank.set_title(f"{level}: sorted code probabilities per codebook", fontsize=10)
        ax_rank.legend(fontsize=7, ncol=2 if n_q > 6 else 1, title="codebook", title_fontsize=7)
        ax_rank.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    _save(fig, path)


def tokens_plot(
    audio: np.ndarray,
    sample_rate: int,
    top: np.ndarray,
    bottom: np.ndarray,
    top_hop: int,
    hop: int,
    codebook_size: int,
    path: Path,
    title: str = "",
    max_seconds: float = 12.0,
) -> None:
    """A spectrogram with the top and bottom code ids under it on the same time axis.

    Args:
        audio: mono ``[T]`` at ``sample_rate`` (the model's rate).
        top: ``[n_top, T_top]`` code ids; frame ``t`` covers samples ``[t * top_hop, (t + 1) * top_hop)``.
        bottom: ``[n_bottom, T_bottom]`` code ids; frame ``t`` covers ``[t * hop, (t + 1) * hop)``.
        max_seconds: only the first ``max_seconds`` are drawn.
    """
    seconds = min(len(audio) / sample_rate, max_seconds)
    audio = audio[: int(seconds * sample_rate)]
    top = top[:, : -(-len(audio) // top_hop)]
    bottom = bottom[:, : -(-len(audio) // hop)]
    n_fft, step = 512, max(1, sample_rate // 200)
    spec = torch.stft(
        torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)),
        n_fft,
        step,
        window=torch.hann_window(n_fft),
        return_complex=True,
    ).abs()
    db = 20 * np.log10(spec.numpy() + 1e-7)
    heights = (3.0, max(0.8, 0.3 * top.shape[0]), max(1.2, 0.3 * bottom.shape[0]))
    fig = _figure(max(8.0, min(16.0, 3 + 1.2 * seconds)), 1.0 + sum(heights))
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": heights})
    axes[0].imshow(
        db,
        origin="lower",
        aspect="auto",
        cmap="magma",
        vmin=db.max() - 80,
        vmax=db.max(),
        extent=(0, len(audio) / sample_rate, 0, sample_rate / 2000),
    )
    axes[0].set_ylabel("kHz")
    axes[0].set_title(title or "spectrogram and codes", fontsize=10)
    for ax, codes, frame, level in ((axes[1], top, top_hop, "top"), (axes[2], bottom, hop, "bottom")):
        im = ax.imshow(
            codes,
            aspect="auto",
            interpolation="nearest",
            cmap="nipy_spectral",
            vmin=0,
            vmax=codebook_size - 1,
            extent=(0, codes.shape[1] * frame / sample_rate, codes.shape[0] - 0.5, -0.5),
        )
        ax.set_yticks(range(codes.shape[0]))
        ax.set_ylabel(f"{level}\ncodebook")
        rate = sample_rate / frame
        ax.set_title(f"{level} codes ({rate:g} frames/s; colour = code id)", fontsize=9, loc="left")
        if codes.shape[1] <= 40:  # few frames: print the ids in the cells
            for (j, t), v in np.ndenumerate(codes):
                ax.text(
                    (t + 0.5) * frame / sample_rate,
                    j,
                    str(v),
                    ha="center",
                    va="center",
                    fontsize=6,
                    clip_on=True,
                    color="white",
                    bbox={"boxstyle": "square,pad=0.1", "fc": "black", "alpha": 0.35, "lw": 0},
                )
    fig.colorbar(im, ax=axes[1:], pad=0.01, label="code id")
    axes[2].set_xlim(0, len(audio) / sample_rate)
    axes[2].set_xlabel("time (s)")
    _save(fig, path)


def spectrogram_stack(
    signals: Mapping[str, np.ndarray], sample_rate: int, path: Path, title: str = "", max_seconds: float = 4.0
) -> None:
    """Log-magnitude spectrograms (n_fft 1024, hop 128; dB relative to the first signal's peak), one panel
    per signal, top to bottom in order; at most the first ``max_seconds``. Harmonics, smearing and noise
    in pauses show at a glance."""
    n = int(max_seconds * sample_rate)
    window = torch.hann_window(1024)
    specs = {}
    for name, x in signals.items():
        spec = torch.stft(
            torch.as_tensor(np.asarray(x[:n], dtype=np.float32)), 1024, 128, window=window, return_complex=True
        ).abs()
        specs[name] = 20 * torch.log10(spec + 1e-6).numpy()
    top = max(specs[next(iter(specs))].max(), -100.0)
    fig = _figure(10, 1.7 * len(specs) + 0.4)
    axes = np.atleast_1d(fig.subplots(len(specs), 1, sharex=True))
    for ax, (name, db) in zip(axes, specs.items(), strict=True):
        extent = (0, db.shape[1] * 128 / sample_rate, 0, sample_rate / 2000)
        ax.imshow(db, origin="lower", aspect="auto", extent=extent, vmin=top - 80, vmax=top, cmap="magma")
        ax.set_ylabel("kHz")
        ax.set_title(name, fontsize=9, loc="left")
    axes[-1].set_xlabel("seconds")
    if title:
        fig.suptitle(title, fontsize=10)
    _save(fig, path, dpi=72)  # a panel per codec: keep the file small enough to commit
