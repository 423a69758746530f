"""kine-style storage: one revision counter, current rows + history log, watch from revision.

`open_store(url)` picks the backend from the datastore URL (sqlite:///path or postgresql://...).
"""

from apiserver.storage.interface import (
    CompactedError,
    ConflictError,
    Event,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    StorageError,
    Store,
    Watcher,
    WatcherDroppedError,
)

__all__ = [
    "CompactedError",
    "ConflictError",
    "Event",
    "KeyExistsError",
    "KeyNotFoundError",
    "KeyValue",
    "StorageError",
    "Store",
    "Watcher",
    "WatcherDroppedError",
]
