"""Policy assistant for 集团化办学 documents: clause-aware retrieval and grounded, cited answers."""
from assistant import config as _config  # noqa: F401  (privacy env defaults before heavy imports)
from assistant.domain.values import Answer, Citation

__all__ = ["Assistant", "Answer", "Citation"]


def __getattr__(name):
    if name == "Assistant":  # lazy: importing the package stays cheap for the CLI's --help
        from assistant.interfaces.facade import Assistant

        return Assistant
    raise AttributeError(name)
