"""A fake Jira per test (threaded: a slow answer does not block the next request)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from tests.support.fake_jira import FakeJira, threaded_server


@pytest.fixture
def jira_server() -> Iterator[HTTPServer]:
    with threaded_server() as server:
        yield server


@pytest.fixture(params=["cloud", "server"])
def flavour(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def fake_jira(jira_server: HTTPServer) -> FakeJira:
    fake = FakeJira(jira_server, cloud=True)
    fake.worklog_page = 2  # tiny pages: clients must follow them
    return fake
