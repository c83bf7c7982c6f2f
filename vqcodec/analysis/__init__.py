"""Looking at a model and its codes: quality evaluation, metrics, reference codecs, code statistics,
inspection plots, linear probes and pitch tracking."""
