"""The pitch stream: a tracked F0 sent beside the codes, as Codec2 and LPCNet send theirs.

A source-filter decoder's harmonics are only as right as the F0 that drives them. Predicted from the codes,
the shipped model's F0 was a median 83 cents off on dev speech; driven by the tracked F0, the same decoder
scored +0.13 PESQ-WB (``benchmarks/swap_test.py``). So a model with ``pitch_bits > 0`` sends it: one code
per bottom frame, 0 for unvoiced, else log F0 on a uniform grid (:mod:`vqcodec.pitch.quantize`), tracked at
encoding by Praat's autocorrelation tracker (:mod:`vqcodec.pitch.tracker`). No torch here: the light
runtime uses the same functions.
"""
