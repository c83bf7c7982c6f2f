"""Warm starts: a run that begins from a trained model (``vqcodec train --init``) whose config the recipe
changes in one of the ways a model can grow. Each surgery loads what the two models share and starts the new
parts where the model still decodes as the trained one did (a silent spectral input, identity decoder blocks,
a zero phase projection), so training picks up from the trained model rather than from a broken one.
"""

from __future__ import annotations

import dataclasses

from vqcodec.errors import UserError
from vqcodec.io.weights import load_model
from vqcodec.nn.model import VQCodecModel

TUNABLE = (
    "head",
    "name",
    "residual_fit",
    "residual_readout",
    "readout_from",
    "decoder_blocks",
    "pitch_bits",
    "output_gain_db",
    "encoder_mels",
    "phase_terms",
    "minimum_phase",
    "top_dropout",
    "bottom_dropout",
    "bypass",
    "rate_embedding",
)  # the fields a warm start may change (the dropouts and the bypass are training settings); every other one must match


def init_from(model: VQCodecModel, init: str) -> None:
    """Fine-tune: start ``model`` from a shipped model's weights (``init``: its name or stem, ``default``,
    ``sp16k``, ``ga24k``) or a model file (see :func:`load_into`); a file of that name wins."""
    from vqcodec import pretrained

    shipped = pretrained.named(init)  # None for a path; one line listing the names for neither
    source = load_model(shipped.weights if shipped is not None else init)
    try:
        load_into(model, source)
    except UserError as e:
        raise UserError(f"{init}: {e}") from None


def load_into(model: VQCodecModel, source: VQCodecModel) -> None:
    """Load ``source``'s weights into ``model``. The configs must match, except for the name, the decoder head (a new
    head starts from what the old one shares with it, see ``adopt``), the residual fit (a new latent scale is set by
    the first batch) or readout (it starts at zero), a pitch stream, more decoder blocks (the new ones start as
    identities, see :func:`grow_decoder`) or fewer (a smaller decoder to distil, see :func:`shrink_decoder`), a
    spectral input for the encoder (it starts silent, see :func:`add_spectral_input`), a harmonic head's phase (see
    :func:`add_phase`), rate vectors for the decoder (see :func:`add_rate_embedding`), the quantizer dropouts and
    bypass; one change per stage.

    Raises:
        UserError: the configs differ in another field, or the files do not line up.
    """
    c, s = model.config, source.config
    if dataclasses.replace(s, **{k: getattr(c, k) for k in TUNABLE}) != c:
        raise UserError("its model config differs from the recipe's")
    if c.encoder_mels != s.encoder_mels:
        add_spectral_input(model, source)
    elif c.decoder_blocks > s.decoder_blocks:
        grow_decoder(model, source)
    elif c.decoder_blocks < s.decoder_blocks:
        shrink_decoder(model, source)
    elif c.phase_terms != s.phase_terms:
        add_phase(model, source)
    elif c.rate_embedding != s.rate_embedding:
        add_rate_embedding(model, source)
    elif c.head == s.head:
        model.load_state_dict(
            source.state_dict(), strict=(s.residual_fit, s.residual_readout) == (c.residual_fit, c.residual_readout)
        )
    else:
        change_head(model, source)


def change_head(model: VQCodecModel, source: VQCodecModel) -> None:
    """Load ``source`` into ``model``, whose decoder head is of another kind: everything but the head loads, and
    the new head adopts what the old one shares with it."""
    state = {k: v for k, v in source.state_dict().items() if not k.startswith("decoder.head.")}
    model.load_state_dict(state, strict=False)
    model.decoder.head.adopt(source.decoder.head)


def add_spectral_input(model: VQCodecModel, source: VQCodecModel) -> None:
    """Load ``source`` into ``model``, whose encoder adds a spectral input that ``source``'s lacks: the input
    starts silent, so the model codes and decodes as ``source`` until training puts it to use."""
    c, s = model.config, source.config
    if s.encoder_mels or (c.head, c.decoder_blocks) != (s.head, s.decoder_blocks):
        raise UserError("add a spectral input to an encoder without one, in a stage of its own")
    missing, unexpected = model.load_state_dict(source.state_dict(), strict=False)
    if unexpected or not all(k.startswith("encoder.spectral.") for k in missing):
        raise UserError("could not add the spectral input: the model files do not line up")
    model.encoder.spectral.silence()


def add_phase(model: VQCodecModel, source: VQCodecModel) -> None:
    """Load ``source`` into ``model``, whose harmonic head owns its phase (``phase_terms``) where the source's
    did not: the phase projection starts at zero, so the model decodes as ``source`` until training moves it."""
    if source.config.phase_terms or source.config.head != "harmonic" or model.config.head != "harmonic":
        raise UserError("a head's phase can be added to a harmonic head without one, not changed")
    missing, unexpected = model.load_state_dict(source.state_dict(), strict=False)
    if unexpected or not all(k.startswith("decoder.head.phase.") for k in missing):
        raise UserError("could not add the head's phase: the model files do not line up")


def add_rate_embedding(model: VQCodecModel, source: VQCodecModel) -> None:
    """Load ``source`` into ``model``, whose decoder is told its rate where the source's was not: the rate
    vectors start at zero, so the model decodes as ``source`` until training moves them."""
    if source.config.rate_embedding:
        raise UserError("a decoder told its rate cannot unlearn it")
    missing, unexpected = model.load_state_dict(source.state_dict(), strict=False)
    if unexpected or not all(k.startswith(("decoder.rate_pre.", "decoder.rate_post.")) for k in missing):
        raise UserError("could not tell the decoder its rate: the model files do not line up")


def shrink_decoder(model: VQCodecModel, source: VQCodecModel) -> None:
    """Load ``source`` into ``model``, whose decoder has fewer blocks (same head): each half of the decoder keeps
    evenly spaced blocks of the source's half, its last among them (each block adds to a residual stream, so
    the smaller decoder starts near the trained one, not equal to it); everything else loads as it is. Training
    then recovers what the dropped blocks did, with the codes frozen if the recipe says so."""
    c, s = model.config, source.config
    if s.head != c.head:
        raise UserError("shrink the decoder and change its head in separate stages")
    state = source.state_dict()
    halves = (("pre", s.decoder_blocks // 2, c.decoder_blocks // 2),)
    halves += (("post", s.decoder_blocks - s.decoder_blocks // 2, c.decoder_blocks - c.decoder_blocks // 2),)
    for half, have, keep in halves:
        blocks = {k: v for k, v in state.items() if k.startswith(f"decoder.{half}.")}
        for k in blocks:
            del state[k]
        for new, old in enumerate(kept_blocks(have, keep)):
            prefix = f"decoder.{half}.{old}."
            moved = {k[len(prefix) :]: v for k, v in blocks.items() if k.startswith(prefix)}
            state.update({f"decoder.{half}.{new}.{k}": v for k, v in moved.items()})
    model.load_state_dict(state)


def kept_blocks(have: int, keep: int) -> list[int]:
    """Which of ``have`` blocks a half shrunk to ``keep`` keeps: evenly spaced, ending with the last."""
    return sorted({round(have - 1 - i * have / keep) for i in range(keep)}) if keep else []


def grow_decoder(model: VQCodecModel, source: VQCodecModel) -> None:
    """Load ``source`` into ``model``, whose decoder has more blocks (same head): each half of the decoder
    (before and after its upsampling) keeps the source's blocks first, and the new ones start as identities."""
    if source.config.head != model.config.head:
        raise UserError("grow the decoder and change its head in separate stages")
    n = source.config.decoder_blocks
    old = {f"decoder.pre.{i}." for i in range(n // 2)} | {f"decoder.post.{i}." for i in range(n - n // 2)}
    missing, unexpected = model.load_state_dict(source.state_dict(), strict=False)
    grown = all(k.startswith(("decoder.pre.", "decoder.post.")) and not k.startswith(tuple(old)) for k in missing)
    if unexpected or not grown:
        raise UserError("could not grow the decoder: the model files do not line up")
    model.decoder.grown_from(n)
