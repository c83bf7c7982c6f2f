"""Bytes and files: the .vqc container and its bit packing, model weights, audio files, manifests, atomic
writes and the limits every header is checked against. Nothing here computes codes."""
