"""HTML for the web app: answers with citation cards, comparison tables, charter checklists, the
document viewer. Every piece of document, model or user text goes through `html.escape` before it
enters HTML, so markup inside a policy or a question shows as text."""
from __future__ import annotations

import html
import re
import time
from collections.abc import Iterable
from urllib.parse import quote

from typing import TYPE_CHECKING

from assistant.domain.values import NOT_SPECIFIED_LABEL, PATH_SEPARATOR, Answer, Citation, status_label
from assistant.domain.versions import IN_FORCE, state_label

if TYPE_CHECKING:  # values handed over by the facade; only their attributes are read here
    from assistant.answering.compare import Comparison, Matrix
    from assistant.charter.check import CharterReport, RequirementResult
    from assistant.chunking.diff import VersionDiff
    from assistant.corpus.plan import DocumentInfo, Preview

_MARKER = re.compile(r"\[(\d{1,3})\]")


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _entity_lines(text: str) -> str:
    """Escaped text with its line breaks as character references: the chat renders messages as Markdown, where
    a blank line would end the HTML block in the middle of the message."""
    return esc(text).replace("\r", "").replace("\n", "&#10;")


def _lines(text: str) -> str:
    """Escaped text with line breaks, and never a blank line (which would end an HTML block in Markdown)."""
    return "<br>".join(esc(line) for line in str(text).splitlines() if line.strip())


def _markers(escaped: str, key: str, known: set[int]) -> str:
    """[n] in already escaped text → a link that opens citation card n of this answer."""
    def link(m: re.Match) -> str:
        n = int(m.group(1))
        if n not in known:
            return m.group(0)
        return (f'<a class="pa-ref" href="#cite-{key}-{n}" data-cite="cite-{key}-{n}" '
                f'title="查看引用条款 {n}">[{n}]</a>')
    return _MARKER.sub(link, escaped)


def highlight(text: str, quote: str) -> str:
    """The full clause, escaped, with the quoted sentence wrapped in <mark> (escape first, then wrap)."""
    body, q = esc(text), esc(quote.strip()) if quote else ""
    if q and q in body:
        body = body.replace(q, f"<mark>{q}</mark>", 1)
    return body.replace("\n", "<br>")


def badge(status: str) -> str:
    if status == "official":
        return ""
    return f'<span class="pa-badge pa-badge-{esc(status)}">{esc(status_label(status))}</span>'


def force_badge(force: str | None) -> str:
    """A label for a version that is not in force (已修正, 已废止, 征求意见稿（已定稿）…); nothing otherwise."""
    if not force or force in IN_FORCE:
        return ""
    return f'<span class="pa-badge pa-badge-outdated">{esc(state_label(force))}</span>'


def citation_card(c: Citation, key: str, open_: bool = False) -> str:
    number = f'<span class="pa-docno">{esc(c.doc_number)}</span>' if c.doc_number else ""
    return (f'<details class="pa-card" id="cite-{key}-{c.n}" data-n="{c.n}"{" open" if open_ else ""}>'
            f'<summary><span class="pa-n">{c.n}</span>'
            f'<span class="pa-title">《{esc(c.title)}》</span>{number}'
            f'<span class="pa-city">{esc(c.city)}</span>{level_badge(c)}{badge(c.status)}{force_badge(c.force)}</summary>'
            f'<div class="pa-clause">{esc(c.clause)}</div>'
            f'<div class="pa-text">{highlight(c.text, c.quote)}</div>'
            f'<div class="pa-card-foot">{reader_link(c.doc_id, c.chunk_id)}</div></details>')


def level_badge(c: Citation) -> str:
    """The clause's layer of government (市级, 省级, 国家级…), so a provincial rule cited for a city school is
    seen as such."""
    level = c.place_label[len(c.city) + 1:] if c.place_label != c.city else ""
    return f'<span class="pa-level">{esc(level)}</span>' if level else ""


def reader_link(doc_id: str, chunk_id: str) -> str:
    """A link that opens the clause in the 文档库 reader (views.JS handles the click). The target rides in the
    href: the chat's sanitizer drops data-* attributes."""
    target = f"{quote(doc_id, safe='')}/{quote(chunk_id, safe='')}"
    return f'<a class="pa-open-doc" href="#pa-doc/{esc(target)}">在文档库中查看原文 ›</a>'


def answer_html(answer: Answer, key: str, note: str = "") -> str:
    """One chat answer: the text with clickable [n] markers, notices, then numbered citation cards.
    `key` makes the card ids unique on the page (one per chat turn)."""
    key = re.sub(r"[^A-Za-z0-9]", "", key) or "a"
    parts = [f'<div class="pa-answer" id="answer-{key}">']
    if note:
        parts.append(f'<div class="pa-note">{esc(note)}</div>')
    known = {c.n for c in answer.citations}
    conclusion = [line for line in (answer.conclusion or "").splitlines() if line.strip()]
    if conclusion and not answer.abstained:
        lines = "".join(f'<div class="pa-conclusion-line">{_markers(esc(line), key, known)}</div>'
                        for line in conclusion)
        parts.append(f'<div class="pa-conclusion"><span class="pa-conclusion-head">结论</span>{lines}</div>')
    if answer.abstained:
        parts.append(f'<div class="pa-abstain"><strong>未找到依据</strong>'
                     f'<div>{_lines(answer.answer)}</div></div>')
    else:
        parts.append(f'<div class="pa-text-answer">{_markers(_lines(answer.answer), key, known)}</div>')
    for notice in answer.notices:
        parts.append(f'<div class="pa-notice">⚠️ {esc(notice)}</div>')
    if answer.mode == "llm" and answer.unverified:
        parts.append(f'<div class="pa-notice">{answer.unverified} 句未能在引用条款中逐字核实，已标注“未核实”。</div>')
    if answer.citations:
        parts.append(f'<div class="pa-cites-head">引用条款（{len(answer.citations)}）</div>')
        parts.extend(citation_card(c, key, open_=(i == 0)) for i, c in enumerate(answer.citations))
    # the text the copy button copies sits hidden in the message (data-* attributes do not survive the chat)
    parts.append(f'<div class="pa-actions"><button type="button" class="pa-copy">复制本条回答（含引用）</button>'
                 f'<span class="pa-plain">{_entity_lines(answer_plain(answer))}</span></div></div>')
    return "".join(parts)


def pending_html(text: str) -> str:
    """A turn still running: what it is doing, in Chinese, with a spinner."""
    return f'<div class="pa-pending"><span class="pa-spinner" aria-hidden="true"></span>{_lines(text)}</div>'


def answer_plain(answer: Answer) -> str:
    """The answer with its citations as plain text, for the clipboard."""
    lines = [f"结论：{line}" for line in (answer.conclusion or "").splitlines() if line.strip()
             and not answer.abstained]
    lines.append(("未找到依据：" if answer.abstained else "") + answer.answer)
    lines += [f"提示：{n}" for n in answer.notices]
    if answer.citations:
        lines += ["", "引用条款："]
        for c in answer.citations:
            number = f"（{c.doc_number}）" if c.doc_number else ""
            tag = "" if c.status == "official" else f"【{status_label(c.status)}】"
            lines.append(f"[{c.n}] {c.place_label}｜《{c.title}》{number}{tag}｜{c.clause}")
            lines.append(f"    「{c.quote or c.text}」")
    return "\n".join(lines)


def message_html(text: str, kind: str = "error") -> str:
    return f'<div class="pa-{esc(kind)}">{_lines(text)}</div>'


# ---------------------------------------------------------------- comparison
def comparison_html(comparison: Comparison) -> str:
    cells = comparison.cells
    key = "cmp"
    head = "".join(f"<th>{esc(c.city)}</th>" for c in cells)
    rule, figures = [], []
    for cell in cells:
        if not cell.specified:
            rule.append(f'<td class="pa-silent"><span class="pa-badge pa-badge-silent">{NOT_SPECIFIED_LABEL}</span>'
                        f'<div class="pa-reason">{esc(cell.reason)}</div></td>')
            figures.append('<td class="pa-silent">—</td>')
            continue
        quotes = "".join(f'<div class="pa-quote">「{esc(c.quote or c.text)}」'
                         f'<a class="pa-ref" href="#cite-{key}-{c.n}" data-cite="cite-{key}-{c.n}">[{c.n}]</a>'
                         f'<div class="pa-where">《{esc(c.title)}》{esc(c.clause)}{badge(c.status)}</div></div>'
                         for c in cell.citations)
        rule.append(f"<td>{quotes}</td>")
        figs = "；".join(f"{esc(f.text)}[{f.n}]" for f in cell.figures) or "—"
        figures.append(f"<td>{figs}</td>")
    parts = [f'<div class="pa-compare"><div class="pa-compare-title">跨城市对比：{esc(comparison.topic)}</div>']
    if not any(cell.specified for cell in cells):
        parts.append('<div class="pa-abstain"><strong>未找到依据</strong><div>所选城市的政策文件中都没有找到能回答该问题的'
                     '条款；下表的“未作规定”表示在该市文件中没有找到相关条款。</div></div>')
    parts += ['<div class="pa-scroll pa-wide"><table class="pa-table">',
             f'<thead><tr><th class="pa-rowhead"></th>{head}</tr></thead><tbody>',
             f'<tr><th class="pa-rowhead">规定</th>{"".join(rule)}</tr>',
             f'<tr><th class="pa-rowhead">关键数字</th>{"".join(figures)}</tr>',
             "</tbody></table></div>",
             f'<div class="pa-city-cards">{"".join(_city_card(cell, key) for cell in cells)}</div>']
    parts += [f'<div class="pa-notice">⚠️ {esc(n)}</div>' for n in comparison.notices]
    if comparison.citations:
        parts.append(f'<div class="pa-cites-head">引用条款（{len(comparison.citations)}）</div>')
        parts += [citation_card(c, key) for c in comparison.citations]
    parts.append("</div>")
    return "".join(parts)


def _city_card(cell, key: str) -> str:
    """One city of a comparison as a card: what narrow screens show instead of the table's column."""
    if not cell.specified:
        body = (f'<span class="pa-badge pa-badge-silent">{NOT_SPECIFIED_LABEL}</span>'
                f'<div class="pa-reason">{esc(cell.reason)}</div>')
    else:
        body = "".join(f'<div class="pa-quote">「{esc(c.quote or c.text)}」'
                       f'<a class="pa-ref" href="#cite-{key}-{c.n}" data-cite="cite-{key}-{c.n}">[{c.n}]</a>'
                       f'<div class="pa-where">《{esc(c.title)}》{esc(c.clause)}{badge(c.status)}</div></div>'
                       for c in cell.citations)
        figures = "；".join(f"{esc(f.text)}[{f.n}]" for f in cell.figures)
        if figures:
            body += f'<div class="pa-figs">关键数字：{figures}</div>'
    return f'<div class="pa-city-card"><div class="pa-city-card-head">{esc(cell.city)}</div>{body}</div>'


def _matrix_cell(cell) -> str:
    where = "<br>".join(f'<span title="{esc(c.quote)}">{esc(c.clause.split(PATH_SEPARATOR)[-1])}</span>'
                        for c in cell.citations)
    figs = "；".join(esc(f.number) for f in cell.figures)
    return f"{where}{f'<div class=pa-figs>{figs}</div>' if figs else ''}"


def _matrix_city_card(matrix: Matrix, i: int) -> str:
    """One city of the overview as a card listing every topic (narrow screens)."""
    rows = []
    for row in matrix.rows:
        cell = row.cells[i]
        value = _matrix_cell(cell) if cell.specified else \
            f'<span class="pa-badge pa-badge-silent">{NOT_SPECIFIED_LABEL}</span>'
        rows.append(f'<div class="pa-topic-row"><div class="pa-topic">{esc(row.topic)}</div><div>{value}</div></div>')
    return (f'<div class="pa-city-card"><div class="pa-city-card-head">{esc(matrix.cities[i])}</div>'
            f'{"".join(rows)}</div>')


def matrix_html(matrix: Matrix) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in matrix.cities)
    rows = []
    for row in matrix.rows:
        cells = []
        for cell in row.cells:
            if not cell.specified:
                cells.append(f'<td class="pa-silent"><span class="pa-badge pa-badge-silent">{NOT_SPECIFIED_LABEL}'
                             '</span></td>')
                continue
            cells.append(f"<td>{_matrix_cell(cell)}</td>")
        rows.append(f'<tr><th class="pa-rowhead">{esc(row.topic)}</th>{"".join(cells)}</tr>')
    cards = "".join(_matrix_city_card(matrix, i) for i in range(len(matrix.cities)))
    return (f'<div class="pa-compare"><div class="pa-compare-title">全部主题总览</div><div class="pa-scroll pa-wide">'
            f'<table class="pa-table"><thead><tr><th class="pa-rowhead">主题</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div><div class="pa-city-cards">{cards}</div></div>')


# ---------------------------------------------------------------- charter
_CHARTER_BADGES = {"met": "pa-badge-met", "missing": "pa-badge-missing", "conflict": "pa-badge-conflict"}


def _requirement_html(r: RequirementResult) -> str:
    req = r.requirement
    rows = [f'<div class="pa-req-head"><span class="pa-badge {_CHARTER_BADGES.get(r.status, "")}">'
            f'{esc(r.status_label)}</span> <strong>{esc(req.summary)}</strong>'
            f'<span class="pa-req-kind">{esc(req.kind_label)}{"｜待确认" if req.provisional else ""}'
            f'</span>{review_badge(req)}</div>']
    if req.review:
        rows.append(f'<div class="pa-req-row pa-review">需复核：{esc(req.review)}</div>')
        if req.current_text:
            rows.append(f'<div class="pa-req-row">现行版本原文：{esc(req.current_text)}</div>')
    if req.condition:
        rows.append(f'<div class="pa-req-row">适用情形：{esc(req.condition)}</div>')
    if r.evidence:
        rows.append(f'<div class="pa-req-row">草案原文：「{esc(r.evidence)}」</div>')
    if r.note:
        rows.append(f'<div class="pa-req-row">说明：{esc(r.note)}</div>')
    rows.append(f'<details class="pa-card"><summary>依据：{esc(req.source.citation)}</summary>'
                f'<div class="pa-text"><mark>{esc(req.source.quote)}</mark></div></details>')
    return f'<div class="pa-req pa-req-{esc(r.status)}" data-req="{esc(req.id)}">{"".join(rows)}</div>'


def review_badge(req) -> str:
    return '<span class="pa-badge pa-badge-outdated">需复核</span>' if req.review else ""


def charter_html(report: CharterReport) -> str:
    c = report.counts
    parts = ['<div class="pa-charter">',
             f'<div class="pa-score"><span class="pa-score-n">{report.score}</span><span>/100</span>'
             f'<div class="pa-score-text">{esc(report.city)}｜{esc(report.group_type or "未指定集团类型")}<br>'
             f'{esc(report.summary)}</div></div>',
             f'<div class="pa-counts"><span class="pa-badge pa-badge-met">符合 {c["met"]}</span>'
             f'<span class="pa-badge pa-badge-missing">缺失 {c["missing"]}</span>'
             f'<span class="pa-badge pa-badge-conflict">冲突 {c["conflict"]}</span></div>']
    parts += [f'<div class="pa-notice">⚠️ {esc(n)}</div>' for n in report.notices]
    order = {"conflict": 0, "missing": 1, "met": 2}
    parts += [_requirement_html(r) for r in sorted(report.results, key=lambda r: order.get(r.status, 3))]
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------- documents
DOC_COLUMNS = ["文档编号", "标题", "城市", "文号", "日期", "状态", "效力", "条款数"]


def document_rows(docs: Iterable[DocumentInfo]) -> list[list[str]]:
    return [[d.doc_id, d.title, d.city, d.doc_number or "", d.date or "", status_label(d.status),
             state_label(d.force) if d.force else "", "" if d.chunks is None else str(d.chunks)] for d in docs]


def document_html(info: DocumentInfo, clauses: list, text: str = "", focus: str | None = None) -> str:
    """The document's metadata and its clauses in order, each under its clause path; `focus` (a chunk id,
    from a citation card's link) marks the clause the page scrolls to."""
    meta = [("标题", info.title), ("城市", info.city), ("发文机关", info.issuer), ("文号", info.doc_number),
            ("日期", info.date), ("施行日期", info.effective_date), ("失效日期", info.expiry_date),
            ("状态", status_label(info.status)), ("效力", state_label(info.force) if info.force else ""),
            ("上一版本", info.supersedes), ("下一版本", info.superseded_by), ("文档编号", info.doc_id)]
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in meta if v)
    parts = [f'<div class="pa-doc"><div class="pa-doc-title">{esc(info.title)}{badge(info.status)}'
             f'{force_badge(info.force)}</div>',
             f'<table class="pa-meta">{rows}</table>']
    if clauses:
        parts.append(f'<div class="pa-cites-head">条款结构（{len(clauses)}）</div>')
        for r in clauses:
            path = r.clause.split(PATH_SEPARATOR) if r.clause else []
            crumbs = "".join(f'<span class="pa-crumb">{esc(p)}</span>' for p in path)
            mark = " pa-focus" if focus and r.chunk_id == focus else ""
            parts.append(f'<div class="pa-doc-clause{mark}" id="clause-{esc(r.chunk_id)}">'
                         f'<div class="pa-clause">{crumbs}</div><div class="pa-text">{_lines(r.text)}</div></div>')
    elif text:
        parts.append(f'<div class="pa-text">{_lines(text)}</div>')
    parts.append("</div>")
    return "".join(parts)


def preview_html(preview: Preview, heading: str = "") -> str:
    actions = {"add": "新增文档", "replace": "替换已有文档", "update": "更新元数据", "unchanged": "已在文档库中，无变化",
               "version": "作为新版本导入（旧版本保留）"}
    parts = ['<div class="pa-preview">', f'<div class="pa-where">{esc(heading)}</div>' if heading else "",
             f'<div><strong>{esc(preview.filename)}</strong>（{esc(preview.format)}，{preview.characters} 字'
             f'{f"，{preview.pages} 页" if preview.pages else ""}，识别出 {len(preview.clauses)} 个条款）</div>',
             f'<div>操作：{esc(actions.get(preview.action, preview.action))}'
             f'{f"（替换 {esc(preview.replaces)}）" if preview.replaces else ""}'
             f'{f"（取代 {esc(preview.supersedes)}）" if preview.action == "version" and preview.supersedes else ""}'
             f'</div>']
    if preview.missing:
        names = {"title": "标题", "city": "城市"}
        parts.append(f'<div class="pa-notice">⚠️ 未能识别：{esc("、".join(names.get(m, m) for m in preview.missing))}'
                     '，请在下方填写后再确认导入。</div>')
    parts += [f'<div class="pa-notice">⚠️ {esc(w)}</div>' for w in preview.warnings]
    if preview.clauses:
        shown = "".join(f"<li>{esc(c)}</li>" for c in preview.clauses[:12])
        more = f"<li>……共 {len(preview.clauses)} 个条款</li>" if len(preview.clauses) > 12 else ""
        parts.append(f'<ol class="pa-clauses">{shown}{more}</ol>')
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------- imports of several files
def ingest_results_html(results: list[tuple[str, bool, str]]) -> str:
    """One line per file: its name, whether it went in, and what happened (or why not)."""
    rows = "".join(f'<li><span class="pa-badge {"pa-badge-met" if ok else "pa-badge-conflict"}">'
                   f'{"成功" if ok else "未导入"}</span> <strong>{esc(name)}</strong>：{esc(text)}</li>'
                   for name, ok, text in results)
    done = sum(ok for _, ok, _ in results)
    kind = "ok" if done == len(results) else ("notice" if done else "error")
    return (f'<div class="pa-{kind}"><div>共 {len(results)} 个文件，成功 {done} 个。</div>'
            f'<ul class="pa-results">{rows}</ul></div>')


def previews_html(previews: list[tuple[str, Preview | None, str]]) -> str:
    """Several files chosen at once: each file's preview, or why it cannot be read."""
    parts = [f'<div class="pa-cites-head">已选择 {len(previews)} 个文件</div>']
    for name, preview, error in previews:
        if preview is None:
            parts.append(f'<div class="pa-error"><strong>{esc(name)}</strong>：{esc(error)}</div>')
            continue
        m = preview.metadata
        parts.append(preview_html(preview, f'识别结果：{m.title or "（未识别标题）"}｜{m.city or "（未识别城市）"}'
                                           f'｜{m.doc_number or "无文号"}'))
    return "".join(parts)


# ---------------------------------------------------------------- feedback (评测)
_RATING_LABELS = {"up": "赞（有帮助）", "down": "踩（有问题）"}


def feedback_html(items) -> str:
    """The evaluator's list: one card per rated answer, every piece of user text escaped."""
    if not items:
        return '<div class="pa-note">没有符合条件的反馈。</div>'
    cards = []
    for f in items:
        reasons = "".join(f'<span class="pa-badge pa-badge-missing">{esc(r)}</span>' for r in f.reasons)
        cited = "".join(f"<li>{esc(c.get('city'))}｜《{esc(c.get('title'))}》{esc(c.get('clause'))}</li>"
                        for c in f.citations)
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(f.created))
        corpus = f"语料版本 {esc((f.corpus_hash or '')[:8])}" if f.corpus_hash else ""
        cards.append(
            f'<div class="pa-fb pa-fb-{esc(f.rating)}" data-feedback="{f.id}">'
            f'<div class="pa-fb-head"><strong>{_RATING_LABELS.get(f.rating, esc(f.rating))}</strong>{reasons}'
            f'<span class="pa-where">{esc(when)}　{corpus}</span></div>'
            f'<div class="pa-fb-q">问：{esc(f.question)}</div>'
            + (f'<div class="pa-fb-comment">意见：{_lines(f.comment)}</div>' if f.comment else "")
            + f'<details class="pa-card"><summary>回答{"（未找到依据）" if f.abstained else ""}与引用条款</summary>'
            f'<div class="pa-text">{_lines(f.answer)}</div>'
            + (f'<ul class="pa-fb-cites">{cited}</ul>' if cited else "") + '</details></div>')
    return f'<div class="pa-feedback"><div class="pa-cites-head">共 {len(items)} 条反馈</div>{"".join(cards)}</div>'


# ---------------------------------------------------------------- evaluation metrics
def metrics_html(rows: list[dict], summary: str) -> str:
    """The headline metrics: Chinese name with a one-line explanation, this run (all / held-out), the previous
    run and the change. Each row: name, help, now, heldout, before, change, better (True/False/None)."""
    body = []
    for r in rows:
        trend = {True: "pa-up", False: "pa-down"}.get(r["better"], "")
        body.append(f'<tr><th class="pa-metric" title="{esc(r["help"])}">{esc(r["name"])}'
                    f'<div class="pa-metric-help">{esc(r["help"])}</div></th>'
                    f'<td data-label="本次">{esc(r["now"])}</td><td data-label="留出集">{esc(r["heldout"])}</td>'
                    f'<td data-label="上次">{esc(r["before"])}</td>'
                    f'<td class="{trend}" data-label="变化">{esc(r["change"])}</td></tr>')
    return (f'<div class="pa-eval"><div class="pa-note">{_lines(summary)}</div><div class="pa-scroll">'
            '<table class="pa-table pa-metrics"><thead><tr><th>指标</th><th>本次（全部）</th><th>本次（留出集）</th>'
            f'<th>上次（全部）</th><th>变化</th></tr></thead><tbody>{"".join(body)}</tbody></table></div></div>')


# ---------------------------------------------------------------- page style and behaviour
CSS = """
.pa-answer, .pa-compare, .pa-charter, .pa-doc, .pa-preview, .pa-feedback, .pa-eval { line-height: 1.65;
  overflow-wrap: anywhere; }
.pa-header h2 { margin: .1em 0; font-size: 1.35em; }
.pa-header-sub { color: #6b7280; font-size: .92em; }
.pa-note { color: #6b7280; font-size: .9em; margin-bottom: .4em; }
.pa-pending { color: #374151; display: flex; align-items: center; gap: .6em; }
.pa-spinner { width: 1em; height: 1em; flex: none; border: 2px solid #c7d2fe; border-top-color: #1d4ed8;
  border-radius: 50%; animation: pa-spin .8s linear infinite; }
@keyframes pa-spin { to { transform: rotate(360deg); } }
.pa-conclusion { border-left: 4px solid #1d4ed8; background: #eff6ff; color: #1e3a8a; padding: .45em .8em;
  border-radius: 6px; margin-bottom: .6em; font-weight: 600; }
.pa-conclusion-head { display: inline-block; font-size: .75em; background: #1d4ed8; color: #fff; border-radius: 4px;
  padding: 0 .45em; margin-bottom: .15em; font-weight: 500; }
.pa-abstain { border-left: 4px solid #d97706; background: #fffbeb; color: #78350f; padding: .6em .8em;
  border-radius: 6px; }
.pa-notice { border-left: 3px solid #f59e0b; background: #fffbeb; color: #78350f; padding: .3em .6em;
  margin: .4em 0; border-radius: 4px; font-size: .92em; }
.pa-error { border-left: 4px solid #dc2626; background: #fef2f2; color: #7f1d1d; padding: .6em .8em;
  border-radius: 6px; }
.pa-ok { border-left: 4px solid #16a34a; background: #f0fdf4; color: #14532d; padding: .6em .8em;
  border-radius: 6px; }
.pa-ref { color: #1d4ed8; text-decoration: none; font-weight: 600; cursor: pointer; padding: 0 1px; }
.pa-ref:hover { text-decoration: underline; }
.pa-cites-head { margin-top: .8em; font-weight: 600; color: #374151; }
.pa-card { border: 1px solid #e5e7eb; border-radius: 8px; margin: .4em 0; background: #fff; color: #111827; }
.pa-card > summary { cursor: pointer; padding: .45em .7em; list-style-position: inside; }
.pa-card[open] > summary { border-bottom: 1px solid #f3f4f6; }
.pa-card.pa-flash { box-shadow: 0 0 0 3px #93c5fd; }
.pa-card-foot { padding: 0 .8em .5em; font-size: .86em; }
.pa-open-doc { color: #1d4ed8; text-decoration: none; }
.pa-open-doc:hover { text-decoration: underline; }
.pa-actions { margin-top: .5em; }
.pa-plain { display: none; }
.pa-copy { font-size: .85em; border: 1px solid #d1d5db; border-radius: 6px; padding: .1em .7em; background: #fff;
  color: #374151; cursor: pointer; }
.pa-n { display: inline-block; min-width: 1.5em; text-align: center; background: #1d4ed8; color: #fff;
  border-radius: 999px; font-size: .8em; margin-right: .4em; }
.pa-title { font-weight: 600; }
.pa-docno, .pa-city { color: #4b5563; font-size: .88em; margin-left: .5em; }
.pa-level { color: #1d4ed8; font-size: .8em; margin-left: .35em; border: 1px solid #bfdbfe; border-radius: 4px; padding: 0 .3em; }
.pa-clause { color: #6b7280; font-size: .88em; padding: .3em .8em 0; }
.pa-text { padding: .3em .8em .6em; white-space: normal; }
.pa-text mark { background: #fef08a; color: inherit; padding: 0 1px; }
.pa-badge { display: inline-block; font-size: .78em; padding: 0 .5em; border-radius: 999px; margin-left: .4em;
  border: 1px solid currentColor; white-space: nowrap; }
.pa-badge-draft { color: #b45309; } .pa-badge-interpretation { color: #7c3aed; }
.pa-badge-outdated { color: #b91c1c; background: #fef2f2; }
.pa-diff-del { color: #b91c1c; text-decoration: line-through; background: #fef2f2; }
.pa-diff-ins { color: #15803d; text-decoration: underline; background: #f0fdf4; }
.pa-diff-item { border-top: 1px solid #e5e7eb; padding: .5em 0; }
.pa-badge-silent { color: #6b7280; background: #f3f4f6; }
.pa-badge-met { color: #15803d; } .pa-badge-missing { color: #b45309; } .pa-badge-conflict { color: #b91c1c; }
.pa-scroll { overflow-x: auto; max-width: 100%; }
.pa-table { border-collapse: collapse; width: 100%; min-width: 480px; }
.pa-table th, .pa-table td { border: 1px solid #e5e7eb; padding: .5em .6em; vertical-align: top; text-align: left; }
.pa-table thead th { background: #eff6ff; }
.pa-rowhead { background: #f9fafb; white-space: nowrap; width: 5em; }
.pa-silent { background: #f9fafb; color: #6b7280; }
.pa-reason, .pa-where, .pa-figs { color: #6b7280; font-size: .85em; }
.pa-quote { margin-bottom: .5em; }
.pa-compare-title, .pa-doc-title { font-size: 1.1em; font-weight: 600; margin: .3em 0 .5em; }
.pa-city-cards { display: none; }
.pa-city-card { border: 1px solid #e5e7eb; border-radius: 8px; padding: .5em .7em; margin: .5em 0; background: #fff; }
.pa-city-card-head { font-weight: 600; color: #1e3a8a; border-bottom: 1px solid #eff6ff; margin-bottom: .35em; }
.pa-topic-row { display: flex; gap: .6em; border-top: 1px dashed #f3f4f6; padding: .25em 0; }
.pa-topic { flex: 0 0 6.5em; color: #374151; font-weight: 500; }
.pa-score { display: flex; align-items: baseline; gap: .3em; flex-wrap: wrap; }
.pa-score-n { font-size: 2.2em; font-weight: 700; color: #1d4ed8; }
.pa-score-text { flex-basis: 100%; color: #374151; }
.pa-counts { margin: .4em 0 .8em; }
.pa-req { border: 1px solid #e5e7eb; border-left-width: 4px; border-radius: 6px; padding: .5em .7em; margin: .5em 0; }
.pa-req-met { border-left-color: #16a34a; } .pa-req-missing { border-left-color: #d97706; }
.pa-req-conflict { border-left-color: #dc2626; }
.pa-req-kind { color: #6b7280; font-size: .85em; margin-left: .5em; }
.pa-req-row { font-size: .92em; color: #374151; margin-top: .2em; }
.pa-meta th { text-align: left; color: #6b7280; padding-right: 1em; font-weight: 500; white-space: nowrap; }
.pa-doc-clause { border-top: 1px solid #f3f4f6; padding: .3em 0; }
.pa-doc-clause.pa-focus { background: #fefce8; border-left: 4px solid #f59e0b; border-radius: 4px; }
.pa-crumb + .pa-crumb::before { content: " › "; color: #9ca3af; }
.pa-clauses { font-size: .9em; color: #374151; max-height: 16em; overflow-y: auto; }
.pa-results { margin: .3em 0 0; padding: 0; list-style: none; }
.pa-results .pa-badge { margin-left: 0; }
.pa-preview-many { border-top: 1px solid #e5e7eb; margin-top: .5em; padding-top: .3em; }
.pa-fb { border: 1px solid #e5e7eb; border-left-width: 4px; border-radius: 6px; padding: .45em .7em; margin: .5em 0; }
.pa-fb-up { border-left-color: #16a34a; } .pa-fb-down { border-left-color: #dc2626; }
.pa-fb-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: .3em .5em; }
.pa-fb-q { margin-top: .2em; font-weight: 500; }
.pa-fb-comment { color: #374151; background: #f9fafb; border-radius: 4px; padding: .2em .5em; margin-top: .2em;
  max-height: 9em; overflow-y: auto; }
.pa-metrics .pa-metric { font-weight: 500; min-width: 9em; }
.pa-metric-help { font-weight: 400; color: #6b7280; font-size: .8em; line-height: 1.4; }
.pa-up { color: #15803d; } .pa-down { color: #b91c1c; }
/* Gradio's status line says "processing | 1.2s" in English whatever the language: say it in Chinese */
.progress-text { visibility: hidden; position: relative; }
.progress-text::after { content: "处理中……"; visibility: visible; position: absolute; right: 0; top: 0;
  white-space: nowrap; }
#conv-list .wrap { flex-direction: column; flex-wrap: nowrap; max-height: 55vh; overflow-y: auto; }
#conv-list label { width: 100%; }
@media (max-width: 640px) {
  .pa-table { min-width: 0; }
  .pa-docno, .pa-city { display: block; margin-left: 2em; }
  .pa-header-sub { display: none; }
  .pa-header h2 { font-size: 1.15em; }
}
@media (max-width: 600px) {
  .pa-wide { display: none; }
  .pa-city-cards { display: block; }
  #conv-col { order: 2; }
  #chatbot { height: calc(100dvh - 345px) !important; }
  /* the metrics as one block each: name and explanation, then the four values on a line */
  .pa-metrics { min-width: 0; }
  .pa-metrics thead { display: none; }
  .pa-metrics tr { display: block; border-top: 1px solid #e5e7eb; padding: .3em 0; }
  .pa-metrics th, .pa-metrics td { display: inline-block; border: none; padding: .1em .5em .1em 0; }
  .pa-metrics th { display: block; }
  .pa-metrics td::before { content: attr(data-label) " "; color: #6b7280; font-size: .85em; }
  /* Gradio's status line says "processing | 1.2s" in English whatever the language: say it in Chinese */
.progress-text { visibility: hidden; position: relative; }
.progress-text::after { content: "处理中……"; visibility: visible; position: absolute; right: 0; top: 0;
  white-space: nowrap; }
#conv-list .wrap { max-height: 40vh; }
}
"""

# The page's behaviour, run once on load:
# - Gradio's own strings (upload areas, buttons, 赞/踩) in Chinese whatever language the browser asks for: the
#   locale store lives in Gradio's core module, so it is imported again (same URL, same module) and switched.
# - [n] opens card n of the same answer; a card's "在文档库中查看原文" opens the clause in the 文档库 reader
#   (through the hidden #doc-link-button, whose event reads window.paDocTarget).
# - A new answer scrolls the chat to the answer's first line (Gradio's autoscroll would show its last).
# - Each answer's copy button copies its plain text with the citations.
JS = """
() => {
  // Gradio scopes the app's CSS to its content; the page margins around it need a style of their own
  const style = document.createElement('style');
  style.textContent = '@media (max-width: 600px) { .gradio-container .main.app { padding-left: 8px; '
    + 'padding-right: 8px; } }';
  document.head.appendChild(style);

  const toChinese = async () => {
    if (document.documentElement.lang === 'zh-CN') return;
    const core = performance.getEntriesByType('resource').map((e) => e.name)
      .find((name) => /\\/assets\\/core-[^/]+\\.js$/.test(name));
    if (!core) return;
    try { const m = await import(core); if (m.changeLocale) m.changeLocale('zh-CN'); } catch (e) { }
  };
  toChinese();
  setTimeout(toChinese, 1500);

  const copyText = (text, button) => {
    const done = () => {
      const old = button.textContent;
      button.textContent = '已复制';
      setTimeout(() => button.textContent = old, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done); return; }
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    try { document.execCommand('copy'); done(); } finally { area.remove(); }
  };

  document.addEventListener('click', (event) => {
    const target = event.target.closest ? event.target : null;
    if (!target) return;
    const copy = target.closest('button.pa-copy');
    if (copy) {
      const plain = copy.parentElement && copy.parentElement.querySelector('.pa-plain');
      copyText(plain ? plain.textContent : '', copy);
      return;
    }
    const open = target.closest('a.pa-open-doc');
    if (open) {
      event.preventDefault();
      const target = (open.getAttribute('href') || '').replace(/^#pa-doc\\//, '');
      const [doc, chunk] = target.split('/').map(decodeURIComponent);
      window.paDocTarget = [doc, chunk, Date.now()].join('|');
      const button = document.querySelector('#doc-link-button');
      if (button) button.click();
      return;
    }
    const link = target.closest('a.pa-ref');
    if (!link) return;
    event.preventDefault();
    const id = (link.getAttribute('href') || '').replace(/^#/, '');
    if (!id) return;
    const scope = link.closest('.pa-answer, .pa-compare') || document;
    const card = scope.querySelector('details[id="' + id + '"]') || document.getElementById(id);
    if (!card) return;
    card.open = true;
    card.classList.add('pa-flash');
    setTimeout(() => card.classList.remove('pa-flash'), 1500);
    card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
  });

  const scroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (/(auto|scroll)/.test(style.overflowY) && p.scrollHeight > p.clientHeight + 1) return p;
    }
    return null;
  };
  const showTop = (el) => {
    const box = scroller(el);
    if (box) box.scrollTop += el.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
    const top = el.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 40) window.scrollBy(0, top - 80);
  };
  const seen = new Set();
  let pending = false, retries = 0;
  const check = () => {
    pending = false;
    const chat = document.getElementById('chatbot');
    if (chat) {
      let newest = null;
      chat.querySelectorAll('.pa-answer[id]').forEach((el) => {
        const key = el.id;
        if (!seen.has(key)) { seen.add(key); newest = el; }
      });
      const waiting = chat.querySelector('.pa-pending:not([data-pa-shown])');
      if (newest) showTop(newest);
      else if (waiting) {
        waiting.setAttribute('data-pa-shown', '1');
        const box = scroller(waiting);
        if (box) box.scrollTop = box.scrollHeight;
      }
    }
    const focus = document.querySelector('#doc-view .pa-focus:not([data-pa-shown])');
    if (!focus) { retries = 0; return; }
    if (focus.offsetParent !== null) {
      focus.setAttribute('data-pa-shown', '1');
      focus.scrollIntoView({block: 'center'});
    } else if (retries++ < 30) setTimeout(check, 100);  // its tab is still being shown
  };
  new MutationObserver(() => { if (!pending) { pending = true; requestAnimationFrame(check); } })
    .observe(document.body, {childList: true, subtree: true});
}
"""


# ---------------------------------------------------------------- versions
_DIFF_KINDS = {"added": "pa-badge-met", "removed": "pa-badge-conflict", "changed": "pa-badge-missing"}


def _marked(segments) -> str:
    """A changed clause with deleted characters struck through and inserted ones underlined."""
    out = []
    for op, text in segments:
        body = esc(text).replace("\n", "<br>")
        out.append(body if op == "equal" else f'<del class="pa-diff-del">{body}</del>' if op == "delete"
                   else f'<ins class="pa-diff-ins">{body}</ins>')
    return "".join(out)


def _side(label: str, doc: dict) -> str:
    parts = [f"《{esc(doc.get('title'))}》"] + [esc(doc[k]) for k in ("doc_number", "version", "force_label")
                                              if doc.get(k)]
    return f'<div class="pa-where">{label}：{"｜".join(parts)}｜{esc(doc.get("doc_id"))}</div>'


def diff_html(diff: VersionDiff) -> str:
    """Two versions compared clause by clause: added, removed and changed clauses, changes marked inside."""
    parts = ['<div class="pa-diff">', _side("旧版本", diff.old), _side("新版本", diff.new),
             f'<div class="pa-notice">共 {len(diff.changes)} 处条款：{esc(diff.summary())}。</div>']
    if not diff.edits:
        parts.append('<div>两个版本的条款内容相同。</div>')
    for c in diff.edits:
        tags = "".join(f'<span class="pa-badge {_DIFF_KINDS.get(c.kind, "")}">{esc(t)}</span>' for t in c.tags)
        where = f"{c.old} → {c.new}" if c.kind == "changed" and c.old != c.new else (c.new or c.old or "")
        body = _marked(c.segments) if c.kind == "changed" else _lines(c.new_text if c.kind == "added" else c.old_text)
        parts.append(f'<div class="pa-diff-item" data-kind="{esc(c.kind)}"><div class="pa-clause">{esc(where)}{tags}'
                     f'</div><div class="pa-text">{body}</div></div>')
    parts.append("</div>")
    return "".join(parts)
