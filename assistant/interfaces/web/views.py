"""HTML for the web app: answers with citation cards, comparison tables, charter checklists, the
document viewer. Every piece of document, model or user text goes through `html.escape` before it
enters HTML, so markup inside a policy or a question shows as text."""
from __future__ import annotations

import html
import re
from collections.abc import Iterable

from typing import TYPE_CHECKING

from assistant.domain.values import NOT_SPECIFIED_LABEL, PATH_SEPARATOR, Answer, Citation, status_label

if TYPE_CHECKING:  # values handed over by the facade; only their attributes are read here
    from assistant.answering.compare import Comparison, Matrix
    from assistant.charter.check import CharterReport, RequirementResult
    from assistant.corpus.plan import DocumentInfo, Preview

_MARKER = re.compile(r"\[(\d{1,3})\]")


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


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


def citation_card(c: Citation, key: str, open_: bool = False) -> str:
    number = f'<span class="pa-docno">{esc(c.doc_number)}</span>' if c.doc_number else ""
    return (f'<details class="pa-card" id="cite-{key}-{c.n}" data-n="{c.n}"{" open" if open_ else ""}>'
            f'<summary><span class="pa-n">{c.n}</span>'
            f'<span class="pa-title">《{esc(c.title)}》</span>{number}'
            f'<span class="pa-city">{esc(c.city)}</span>{badge(c.status)}</summary>'
            f'<div class="pa-clause">{esc(c.clause)}</div>'
            f'<div class="pa-text">{highlight(c.text, c.quote)}</div></details>')


def answer_html(answer: Answer, key: str, note: str = "") -> str:
    """One chat answer: the text with clickable [n] markers, notices, then numbered citation cards.
    `key` makes the card ids unique on the page (one per chat turn)."""
    key = re.sub(r"[^A-Za-z0-9]", "", key) or "a"
    parts = ['<div class="pa-answer">']
    if note:
        parts.append(f'<div class="pa-note">{esc(note)}</div>')
    known = {c.n for c in answer.citations}
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
    parts.append("</div>")
    return "".join(parts)


def answer_plain(answer: Answer) -> str:
    """The answer with its citations as plain text, for the clipboard."""
    lines = [("未找到依据：" if answer.abstained else "") + answer.answer]
    lines += [f"提示：{n}" for n in answer.notices]
    if answer.citations:
        lines += ["", "引用条款："]
        for c in answer.citations:
            number = f"（{c.doc_number}）" if c.doc_number else ""
            tag = "" if c.status == "official" else f"【{status_label(c.status)}】"
            lines.append(f"[{c.n}] {c.city}｜《{c.title}》{number}{tag}｜{c.clause}")
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
    parts += ['<div class="pa-scroll"><table class="pa-table">',
             f'<thead><tr><th class="pa-rowhead"></th>{head}</tr></thead><tbody>',
             f'<tr><th class="pa-rowhead">规定</th>{"".join(rule)}</tr>',
             f'<tr><th class="pa-rowhead">关键数字</th>{"".join(figures)}</tr>',
             "</tbody></table></div>"]
    parts += [f'<div class="pa-notice">⚠️ {esc(n)}</div>' for n in comparison.notices]
    if comparison.citations:
        parts.append(f'<div class="pa-cites-head">引用条款（{len(comparison.citations)}）</div>')
        parts += [citation_card(c, key) for c in comparison.citations]
    parts.append("</div>")
    return "".join(parts)


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
            where = "<br>".join(f'<span title="{esc(c.quote)}">{esc(c.clause.split(PATH_SEPARATOR)[-1])}</span>'
                                for c in cell.citations)
            figs = "；".join(esc(f.number) for f in cell.figures)
            cells.append(f"<td>{where}{f'<div class=pa-figs>{figs}</div>' if figs else ''}</td>")
        rows.append(f'<tr><th class="pa-rowhead">{esc(row.topic)}</th>{"".join(cells)}</tr>')
    return (f'<div class="pa-compare"><div class="pa-compare-title">全部主题总览</div><div class="pa-scroll">'
            f'<table class="pa-table"><thead><tr><th class="pa-rowhead">主题</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div></div>')


# ---------------------------------------------------------------- charter
_CHARTER_BADGES = {"met": "pa-badge-met", "missing": "pa-badge-missing", "conflict": "pa-badge-conflict"}


def _requirement_html(r: RequirementResult) -> str:
    req = r.requirement
    rows = [f'<div class="pa-req-head"><span class="pa-badge {_CHARTER_BADGES.get(r.status, "")}">'
            f'{esc(r.status_label)}</span> <strong>{esc(req.summary)}</strong>'
            f'<span class="pa-req-kind">{esc(req.kind_label)}{"｜待确认" if req.provisional else ""}'
            f'｜{esc(req.id)}</span></div>']
    if req.condition:
        rows.append(f'<div class="pa-req-row">适用情形：{esc(req.condition)}</div>')
    if r.evidence:
        rows.append(f'<div class="pa-req-row">草案原文：「{esc(r.evidence)}」</div>')
    if r.note:
        rows.append(f'<div class="pa-req-row">说明：{esc(r.note)}</div>')
    rows.append(f'<details class="pa-card"><summary>依据：{esc(req.source.citation)}</summary>'
                f'<div class="pa-text"><mark>{esc(req.source.quote)}</mark></div></details>')
    return f'<div class="pa-req pa-req-{esc(r.status)}">{"".join(rows)}</div>'


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
DOC_COLUMNS = ["文档编号", "标题", "城市", "文号", "日期", "状态", "条款数"]


def document_rows(docs: Iterable[DocumentInfo]) -> list[list[str]]:
    return [[d.doc_id, d.title, d.city, d.doc_number or "", d.date or "", status_label(d.status),
             "" if d.chunks is None else str(d.chunks)] for d in docs]


def document_html(info: DocumentInfo, clauses: list, text: str = "") -> str:
    """The document's metadata and its clauses in order, each under its clause path."""
    meta = [("标题", info.title), ("城市", info.city), ("发文机关", info.issuer), ("文号", info.doc_number),
            ("日期", info.date), ("状态", status_label(info.status)), ("文档编号", info.doc_id)]
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in meta if v)
    parts = [f'<div class="pa-doc"><div class="pa-doc-title">{esc(info.title)}{badge(info.status)}</div>',
             f'<table class="pa-meta">{rows}</table>']
    if clauses:
        parts.append(f'<div class="pa-cites-head">条款结构（{len(clauses)}）</div>')
        for r in clauses:
            path = r.clause.split(PATH_SEPARATOR) if r.clause else []
            crumbs = "".join(f'<span class="pa-crumb">{esc(p)}</span>' for p in path)
            parts.append(f'<div class="pa-doc-clause" id="clause-{esc(r.chunk_id)}">'
                         f'<div class="pa-clause">{crumbs}</div><div class="pa-text">{_lines(r.text)}</div></div>')
    elif text:
        parts.append(f'<div class="pa-text">{_lines(text)}</div>')
    parts.append("</div>")
    return "".join(parts)


def preview_html(preview: Preview) -> str:
    actions = {"add": "新增文档", "replace": "替换已有文档", "update": "更新元数据", "unchanged": "已在文档库中，无变化"}
    parts = ['<div class="pa-preview">',
             f'<div><strong>{esc(preview.filename)}</strong>（{esc(preview.format)}，{preview.characters} 字'
             f'{f"，{preview.pages} 页" if preview.pages else ""}，识别出 {len(preview.clauses)} 个条款）</div>',
             f'<div>操作：{esc(actions.get(preview.action, preview.action))}'
             f'{f"（替换 {esc(preview.replaces)}）" if preview.replaces else ""}</div>']
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


# ---------------------------------------------------------------- page style and behaviour
CSS = """
.pa-answer, .pa-compare, .pa-charter, .pa-doc, .pa-preview { line-height: 1.65; overflow-wrap: anywhere; }
.pa-note { color: #6b7280; font-size: .9em; margin-bottom: .4em; }
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
.pa-n { display: inline-block; min-width: 1.5em; text-align: center; background: #1d4ed8; color: #fff;
  border-radius: 999px; font-size: .8em; margin-right: .4em; }
.pa-title { font-weight: 600; }
.pa-docno, .pa-city { color: #4b5563; font-size: .88em; margin-left: .5em; }
.pa-clause { color: #6b7280; font-size: .88em; padding: .3em .8em 0; }
.pa-text { padding: .3em .8em .6em; white-space: normal; }
.pa-text mark { background: #fef08a; color: inherit; padding: 0 1px; }
.pa-badge { display: inline-block; font-size: .78em; padding: 0 .5em; border-radius: 999px; margin-left: .4em;
  border: 1px solid currentColor; white-space: nowrap; }
.pa-badge-draft { color: #b45309; } .pa-badge-interpretation { color: #7c3aed; }
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
.pa-crumb + .pa-crumb::before { content: " › "; color: #9ca3af; }
.pa-clauses { font-size: .9em; color: #374151; max-height: 16em; overflow-y: auto; }
@media (max-width: 640px) { .pa-table { min-width: 0; } .pa-docno, .pa-city { display: block; margin-left: 2em; } }
"""

# Clicking a marker [n] opens card n of the same answer and scrolls to it.
JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.pa-ref');
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
}
"""
