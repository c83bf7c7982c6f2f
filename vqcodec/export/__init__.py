"""Exporting a trained model to ONNX for the light runtime (:mod:`vqcodec.runtime`); needs torch and onnx."""
