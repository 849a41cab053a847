"""`cities` as every entry point may receive it (issue 19 item 6; RELIABILITY 30): a string is one city (or a
list written with commas or 、), never its characters; other types are refused with a clear message."""
from __future__ import annotations

import pytest

from assistant.domain.places import city_list
from assistant.errors import QuestionError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value, expected", [
    (None, None), ("", None), ([], None), ("长沙市", ["长沙市"]), (["长沙市"], ["长沙市"]),
    ("长沙市、青岛市", ["长沙市", "青岛市"]), ("长沙市, 青岛市", ["长沙市", "青岛市"]), (("青岛市", "青岛市"), ["青岛市"]),
    ([" 南昌市 ", ""], ["南昌市"]),
])
def test_cities_become_a_list_of_names(value, expected):
    assert city_list(value) == expected


@pytest.mark.parametrize("value", [42, {"city": "长沙市"}, [1, 2], ["长沙市", None]])
def test_cities_of_another_type_are_refused_clearly(value):
    with pytest.raises(QuestionError, match="城市"):
        city_list(value)
