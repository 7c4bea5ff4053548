"""The tenant a request names in `tenant_header`, and how guard shows it.

A header whose name says it carries credentials (a gateway that names tenants by key,
`tenant_header: X-Api-Key`) names its tenant by a digest of its value everywhere guard keeps or
matches it: policies' `tenants`, kill switch and breaker scopes (`tenant:sha256:...`), incidents
and log lines. The value itself only goes on to the upstream, in its header.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from aiohttp import web

from guard.errors import RequestError
from guard.observability.shown import DIGEST, digest

CREDENTIAL_WORDS = ("authorization", "key", "token", "secret", "cookie", "password")
MAX_LOGGED_TENANT = 128  # the access line's share of a tenant id


@functools.lru_cache(maxsize=16)
def names_credentials(header: str) -> bool:
    """Whether a header's name says it carries credentials."""
    return any(word in header.lower() for word in CREDENTIAL_WORDS)


def value_problem(header: str, value: str) -> str | None:
    """Why a request's `header` value is refused as a tenant (None when it is not): several
    tenants (a comma-separated list: a gateway that appends its value to the client's, where
    guard would read the client's), or what is not printable UTF-8 text (bytes that are not
    UTF-8 read as surrogates; written into an incident, one had failed the request, 500)."""
    if "," in value:
        return f"{header} names more than one tenant; it must be given once, with one value"
    if not value.isprintable():
        return f"{header} must be printable UTF-8 text"
    return None


def unmatchable(header: str, tenant: str) -> str | None:
    """Why a tenant a switch or a policy names can match no request (None when it can): a
    value the data plane refuses in `header` (`value_problem`), or one with a space or tab at
    either end (HTTP trims them from every header value, so no request carries it); and a header
    that carries credentials names its tenants by digest only. Says the digest the value would
    have, never the value (a key, most likely)."""
    if not names_credentials(header):
        if tenant != tenant.strip(" \t"):
            return (f"{header}'s value never starts or ends with a space or tab (HTTP trims "
                    f"them): {tenant!r}")
        return value_problem(header, tenant)
    if DIGEST.fullmatch(tenant):
        return None
    return (f"{header} carries credentials, so guard names each tenant by a digest of the "
            f"value (sha256: and 16 hex digits, as the access line shows it): this one is "
            f"{digest(tenant)}")


def tenant_of(request: web.Request, header: str) -> str | None:
    """The tenant the request names in `header` (`tenant_header`), if any; a digest of the value
    when the header carries credentials. Several values (the header repeated, or a
    comma-separated list) are refused (400), and so is one that is not printable UTF-8 text
    (`value_problem`)."""
    values = request.headers.getall(header, [])
    if not values:
        return None
    problem = value_problem(header, ",".join(values))  # a repeated header: a comma, as one list
    if problem:
        raise RequestError(problem, code="invalid_request")
    return digest(values[0]) if names_credentials(header) else values[0]


def logged_tenant(header: str) -> Callable[[str], str | None]:
    """How the access line shows the tenant header's value (read before the request is, so
    also for one refused): its start (MAX_LOGGED_TENANT), with bytes that are not UTF-8
    escaped (one had made the line, and the answer, fail); its digest when the header carries
    credentials."""
    if names_credentials(header):
        return lambda value: digest(value) if value else None
    return lambda value: value[:MAX_LOGGED_TENANT].encode(
        "utf-8", "backslashreplace").decode() if value else None
