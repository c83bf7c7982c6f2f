"""Training: the loop, warm starts from a trained model (``--init``), recipes (train config), data loading, corpus
preparation, losses, discriminators, distributed setup and validation. ``python -m vqcodec.train`` is
``vqcodec train`` (both take the arguments of :mod:`vqcodec.train.command`)."""
