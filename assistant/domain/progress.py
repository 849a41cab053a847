"""Progress callbacks: `progress(done, total)`, and `progress(done, total, stage=...)` for callbacks that
take a `stage` keyword, so a caller written for one stage (embedding) keeps working when a file also goes
through another (OCR) first."""
from __future__ import annotations

import inspect

OCR = "ocr"  # pages of a scan being read
EMBED = "embed"  # clauses being embedded


def takes_stage(callback) -> bool:
    try:
        parameters = inspect.signature(callback).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "stage" or p.kind is p.VAR_KEYWORD for p in parameters)


def report(callback, done: int, total: int, stage: str) -> None:
    if callback is None:
        return
    if takes_stage(callback):
        callback(done, total, stage=stage)
    else:
        callback(done, total)
