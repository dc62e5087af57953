"""The Bubble client against a local server that answers garbage: typed errors, never raw exceptions.

No database: these run without the live server.
"""

import pytest

from integrations.bubble.client import BubbleClient
from integrations.bubble.errors import BubbleConfigError, BubbleError, BubbleNotFound, BubbleTransientError
from integrations.http import IntegrationError

ORDER = "1671702337369x488321592367327900"


def test_a_bad_patch_value_is_a_permanent_error(broken_server):
    with pytest.raises(BubbleError) as caught:
        BubbleClient(base_url=f"{broken_server}/status-400", token="t").patch("order", ORDER, {"x": 1})
    assert type(caught.value) is BubbleError and caught.value.permanent


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("html", BubbleTransientError),  # an HTML 502 page from a proxy
        ("html200", BubbleTransientError),  # 200 but an HTML page, not the Data API
        ("nonjson", BubbleTransientError),
        ("truncated", BubbleTransientError),  # JSON cut short
        ("cut", BubbleTransientError),  # the connection closes mid-body
        ("empty", BubbleTransientError),
        ("json-array", BubbleTransientError),
        ("slow", BubbleTransientError),  # read timeout
        ("status-302", BubbleConfigError),  # redirects are not followed
        ("status-403", BubbleConfigError),
        ("status-404", BubbleNotFound),
        ("status-408", BubbleTransientError),
        ("status-504", BubbleTransientError),
        ("status-409", BubbleError),
    ],
)
def test_broken_answers_become_typed_errors_never_raw_exceptions(broken_server, mode, expected):
    client = BubbleClient(base_url=f"{broken_server}/{mode}", token="t", connect_timeout=1, read_timeout=0.5)
    with pytest.raises(IntegrationError) as caught:
        client.get_order(ORDER)
    assert type(caught.value) is expected
    assert caught.value.permanent is (expected is not BubbleTransientError)


def test_an_unreachable_bubble_is_transient():
    client = BubbleClient(base_url="http://127.0.0.1:9/api/1.1", token="t", connect_timeout=0.5, read_timeout=0.5)
    with pytest.raises(BubbleTransientError):
        client.patch("order", ORDER, {"status_pedido": "x"})


@pytest.mark.parametrize(("mode", "expected"), [("retry-7", 7.0), ("retry-date", 0.0), ("retry-soon", None)])
def test_retry_after_is_kept_when_bubble_sends_it(broken_server, mode, expected):
    client = BubbleClient(base_url=f"{broken_server}/{mode}", token="t")
    with pytest.raises(BubbleTransientError) as caught:
        client.get_order(ORDER)
    assert caught.value.status == 429
    assert caught.value.retry_after == expected
