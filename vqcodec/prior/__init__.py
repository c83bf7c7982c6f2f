"""The VQ-VAE-2 prior: autoregressive models of the codes (top, and bottom given top) that measure how
predictable the codes are and generate new ones (needs torch: behind the torch extra).

    vqcodec train-prior tokens/train --dev tokens/dev -o prior.safetensors   # vqcodec.prior.train
    vqcodec sample -o out.wav --seconds 5 --seed 1                          # vqcodec.prior.sample

Parts: ``config`` (PriorConfig), ``model`` (LevelPrior, Prior), ``data`` (token shards via the tokens API),
``train``, ``sample``, ``weights`` (safetensors, the shipped ``default.prior.safetensors``).
"""
