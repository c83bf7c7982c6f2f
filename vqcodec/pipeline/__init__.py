"""The pipeline, written once for every backend (:mod:`vqcodec.backends`): audio -> windows -> codes -> bytes ->
files, and back. No torch here.

    sources.py   audio in, block by block          sinc.py      the one resampler
    windows.py   window arithmetic                 coder.py     the window loop: audio <-> codes
    rates.py     the rate ladder                   checks.py    what decoding checks first
    streams.py   codes <-> .vqc bytes, pipes       files.py     the file twins (and load())
    folders.py   a tree in one process             commands.py  compress / decompress for the CLI
"""
