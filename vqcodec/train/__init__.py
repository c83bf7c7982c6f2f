"""Training: the loop, recipes (train config), data loading, corpus preparation, losses, discriminators,
distributed setup and validation. ``python -m vqcodec.train`` is ``vqcodec train``."""
