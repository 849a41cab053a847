"""Every facade entry point takes `cities` as a list or as one string, never splitting a name into characters
(issue 19 item 6): the CLI, the web app and the HTTP API all pass through these."""
from __future__ import annotations

import pytest

from assistant.errors import QuestionError

pytestmark = pytest.mark.integration

QUESTION = "合作期限是多久？"


def test_a_city_given_as_a_string_is_one_city_everywhere(assistant):
    answer = assistant.ask(QUESTION, cities="长沙市")
    assert not answer.abstained and answer.cities == ("长沙市",)
    assert {c.city for c in assistant.retrieve(QUESTION, k=3, cities="长沙市")} == {"长沙市"}
    assert [cell.city for cell in assistant.compare("退出与终止", cities="长沙市、青岛市").cells] == ["长沙市", "青岛市"]
    assert assistant.follow_up("那呢？", None, "青岛市").cities == ("青岛市",)
    assert assistant.compare_matrix(cities="长沙市").cities == ("长沙市",)
    streamed = list(assistant.ask_stream(QUESTION, cities="长沙市"))
    assert streamed[-1].cities == ("长沙市",)


def test_cities_of_the_wrong_type_are_refused_with_a_clear_message(assistant):
    for call in (lambda: assistant.ask(QUESTION, cities=5), lambda: assistant.retrieve(QUESTION, cities=[1])):
        with pytest.raises(QuestionError, match="城市"):
            call()
