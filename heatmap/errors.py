"""Errors a user can act on. Their message is shown as is, so it says what happened and what to do."""


class HeatmapError(Exception):
    """Base class: anything the CLI prints as one line and the app shows with st.error."""


class LocationError(HeatmapError):
    """A source or output location that is malformed, unusable, or overlapping."""


class StoreError(HeatmapError):
    """A store could not list, read or write (unreachable, access denied, no such bucket, ...)."""


class AlreadyExists(StoreError):
    """A create-only write found the key taken: another writer won, nothing was overwritten."""


class NotFound(StoreError):
    """The key does not exist in the store."""


class DataError(HeatmapError):
    """The data cannot answer the question (no rows for a page, a bad date range, ...)."""


class CropError(HeatmapError, ValueError):
    """The screenshot's crop leaves nothing to draw on: the designer's settings, not a bug."""


class FlowError(HeatmapError):
    """An Amazon AppFlow request failed after botocore's retries, or a flow cannot do what was asked."""


class FlowNotFound(FlowError):
    """No flow of that name in the account and region the app uses."""


class FlowAccessDenied(FlowError):
    """The app's AWS identity lacks an IAM permission; `action` names it (e.g. appflow:UpdateFlow)."""

    def __init__(self, message: str, action: str) -> None:
        super().__init__(message)
        self.action = action

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # picklable like the others (caches, threads)
        return (type(self), (str(self), self.action))


class FlowBusy(FlowError):
    """A run of the flow is already in progress: changing its date filter now would change that run's days."""


class FlowRangeError(FlowError):
    """A backfill range that cannot be right: reversed, in the future, or before the data can exist."""


class ConfigError(HeatmapError, ValueError):
    """A setting that cannot be used as written (a page template rule, for example)."""
