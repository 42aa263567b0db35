"""One exception hierarchy for everything Quantdesk raises on purpose.

Every message is written for the person at the screen: it says what happened and what to
do next. Pages catch :class:`QuantdeskError` and show ``str(err)``; anything else is a bug.
"""


class QuantdeskError(Exception):
    """Base class of all expected, user-facing errors."""


class DataSourceError(QuantdeskError):
    """A market-data or news source could not deliver (network down, unknown symbol...)."""


class UnknownSymbolError(DataSourceError):
    """No source knows the requested symbol."""


class SourceUnreachableError(DataSourceError):
    """The network or the remote service could not be reached (a fallback may serve)."""


class DataValidationError(QuantdeskError):
    """Input data break the OHLCV contract in a way that cannot be repaired safely."""


class InsufficientDataError(DataValidationError):
    """Fewer bars than the requested computation needs."""


class ArtifactIntegrityError(QuantdeskError):
    """A model file is missing, or its sha256 differs from the one the registry recorded."""


class NotTrainedError(QuantdeskError):
    """A model was asked to predict before it was fitted or before an artifact exists."""


class TrainingInProgressError(QuantdeskError):
    """Another training run holds the single-flight lock."""


class ModelUnavailableError(QuantdeskError):
    """An optional model (e.g. FinBERT) cannot be loaded here; the message says why."""
