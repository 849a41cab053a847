from __future__ import annotations

import pytest

from tests.support.fake_assistant import FakeAssistant


@pytest.fixture
def fake(tmp_path):
    return FakeAssistant(tmp_path)


@pytest.fixture
def client(fake):
    """The API app in-process (no Gradio mounted) over the stand-in facade."""
    from fastapi.testclient import TestClient

    from assistant.interfaces.http import create_server

    with TestClient(create_server(fake), raise_server_exceptions=False) as c:
        yield c
