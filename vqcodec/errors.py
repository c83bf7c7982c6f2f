"""The errors vqcodec raises on purpose, all under :class:`VQCodecError`, each also a standard type, so a
caller can catch ours alone or catch them as ``ValueError``. The CLI prints their message as one line and
exits non-zero."""


class VQCodecError(Exception):
    """Base of every error vqcodec raises on purpose."""


class UserError(VQCodecError, ValueError):
    """A mistake in what the user asked for or gave us (missing file, not audio, existing output...)."""


class ConfigError(UserError):
    """A model config or a recipe with an unknown field, a value of the wrong type, or a value no model can
    use; the message names the field."""
