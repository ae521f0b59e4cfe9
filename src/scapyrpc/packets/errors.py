"""The two failures the service layer reports; the RPC layer maps them to codes.

Everything else a service function raises is unexpected and becomes -32096.
"""

__all__ = ["InputSyntaxError", "ServiceError"]


class ServiceError(Exception):
    """The request was understood but cannot be done (-32098 `Scapy Server: <message>`)."""


class InputSyntaxError(Exception):
    """Client-supplied text (an EXPRESSION) does not parse (-32097 `Syntax Error: <detail>`)."""
