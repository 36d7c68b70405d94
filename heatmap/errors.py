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
