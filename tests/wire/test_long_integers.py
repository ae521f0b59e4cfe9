"""`long_integer_in`, which tells the worker and the broker's reply cache to read a request exactly:
the same answer as the regular expression \\d{19} it replaces, for any bytes."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from scapyrpc.wire.jsonrpc import long_integer_in

REFERENCE = re.compile(rb"\d{19}")
DIGITISH = st.lists(st.sampled_from([b"0", b"9", b"5", b"a", b" ", b"-", b".", b"\xd9\xa0", b'"']), max_size=60)


@given(st.one_of(st.binary(max_size=200), DIGITISH.map(b"".join)))
def test_it_answers_as_the_regular_expression(body: bytes) -> None:
    assert long_integer_in(body) == bool(REFERENCE.search(body))


def test_nineteen_digits_and_no_fewer() -> None:
    assert long_integer_in(b'{"id":18446744073709551617}') and long_integer_in(b'"1234567890123456789"')
    assert not long_integer_in(b'{"id":123456789012345678}') and not long_integer_in(b"1.5e300")
