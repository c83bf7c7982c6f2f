"""The light runtime: compress and decompress with onnxruntime, numpy, soundfile and soxr, without torch."""
