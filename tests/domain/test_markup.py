"""Markdown and HTML read as the text they show (for titles and metadata), and names made safe for display."""
from __future__ import annotations

import pytest

from assistant.domain.markup import plain

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("line,text", [
    ("# 北京市图书馆条例", "北京市图书馆条例"),
    ("# **山东省**学校安全条例 #", "山东省学校安全条例"),
    ("<h1>青岛市实施《中华人民共和国教师法》办法</h1>", "青岛市实施《中华人民共和国教师法》办法"),
    ("[中原区](https://example.org/a)推进集团化办学实施方案<br/>", "中原区推进集团化办学实施方案"),
    ("&lt;关于&gt;&nbsp;意见", "<关于> 意见"),
    ("<!-- INFO END -->", ""),
    ("    长沙市教育局", "长沙市教育局"),  # indented: still words, not code
    ("一、总体要求", "一、总体要求"),
    ("（一）指导思想", "（一）指导思想"),
])
def test_markup_goes_and_the_words_stay(line, text):
    assert plain(line) == text
