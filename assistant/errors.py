"""Errors whose message is shown to users as is (one line, Simplified Chinese)."""


class AssistantError(Exception):
    """Base class: str(error) is a user-facing Chinese message."""


class CorpusError(AssistantError):
    pass


class IndexMismatchError(AssistantError):
    pass


class IndexLockedError(AssistantError):
    pass


class QuestionError(AssistantError):
    pass


class EmbedderError(AssistantError):
    pass


class CharterError(AssistantError):
    pass


class ConfigError(AssistantError):
    pass


class IngestError(AssistantError):
    """A file that cannot be added to the corpus; nothing was changed."""


class VersionError(AssistantError):
    """Two versions that cannot be compared (no newer version, the same document twice)."""


class DocumentNotFoundError(AssistantError):
    pass


class IndexChangedError(AssistantError):
    """Another process rebuilt the index after this one loaded it (its Chroma collection was replaced)."""


class StorageError(AssistantError):
    """A directory that cannot be written (read-only, no permission) or a disk without space; nothing was changed."""


class IndexCorruptError(AssistantError):
    """A file of the index (the vector store's database) cannot be read; `index build --rebuild` recreates it."""
