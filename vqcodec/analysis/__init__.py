"""Looking at a model and its codes: ``vqcodec eval`` (evaluate: the command; quality: every file through every
coder; scoring; report; vqcodec_coder and reference_codecs: the coders compared), the files it runs on
(references), metrics, code statistics (stats), inspection and linear probes, plots, the listening page, tracked
pitch in torch's shapes, and a synthetic speech-like signal. Nothing here imports training."""
