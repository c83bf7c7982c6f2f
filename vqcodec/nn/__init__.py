"""The model's parts, torch only (nothing of files or training): layers, encoders, decoders and their
heads, excitation signals, quantizers, the VQ-VAE-2 hierarchy, the model and its config."""
