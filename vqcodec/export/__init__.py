"""Exporting a trained model to ONNX for the onnxruntime backend (:mod:`vqcodec.backends.onnxruntime`); needs
torch and onnx."""
