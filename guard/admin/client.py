"""The command line's side of the admin API: where it is, whose token, and one JSON call.

The token comes from GUARD_ADMIN_TOKEN (one actor's token, never a command-line argument, so it
stays out of shell history and process lists). It goes to the admin URL and nowhere else: a
redirect is not followed (urllib would send the token on to wherever it points), and an admin URL
holding a user name or password is refused without being shown. HTTP_PROXY, HTTPS_PROXY and
NO_PROXY are honoured as curl does, except for a loopback admin URL (a port-forward), which no
proxy can reach; a proxy in the way is named in what goes wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import urllib.parse
    import urllib.request

DEFAULT_ADMIN_URL = "http://127.0.0.1:9000"
TOKEN_ENV = "GUARD_ADMIN_TOKEN"  # noqa: S105 (the variable's name, not a token)
# user info after a scheme's `//`, or a scheme-relative one's (`//user:pw@host/`, a Location)
_USER_INFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)[^/?#]*@")


class AdminError(Exception):
    """The admin API could not be reached, or refused the request (`status`: its HTTP status)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def add_admin_arguments(parser: argparse.ArgumentParser) -> None:
    """`--admin-url` and `--timeout`, shared by every command that calls the admin API."""
    parser.add_argument("--admin-url", default=os.environ.get("GUARD_ADMIN_URL", DEFAULT_ADMIN_URL),
                        help=f"admin listener (default: $GUARD_ADMIN_URL or {DEFAULT_ADMIN_URL})")
    parser.add_argument("--timeout", type=seconds, default=10.0, help="seconds (default 10)")


def seconds(value: str) -> float:
    """An argparse type: a finite number of seconds above 0, else a usage error."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 < number < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {value!r}")
    return number


def admin_call(args: argparse.Namespace, method: str, path: str, *,
               body: dict[str, Any] | None = None, query: dict[str, str] | None = None,
               expect: Mapping[str, type] | None = None) -> tuple[int, dict[str, Any]]:
    """One admin API call; (status, JSON answer holding `expect`'s keys with values of their
    types). AdminError when unreachable, refused, or answered by something else (a wrong port,
    a proxy's login page)."""
    import http.client
    import urllib.error
    import urllib.parse
    import urllib.request  # (http.client and email with it: for the commands that call the API)

    base = str(args.admin_url).rstrip("/")
    shown = unsecret(base)
    if shown != base:
        raise AdminError(f"--admin-url must not hold a user name or password ({shown}): guard's "
                         f"admin API reads only the token in {TOKEN_ENV}")
    try:
        parts = urllib.parse.urlsplit(base)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # "[::1", a port that is not a number
        usable = False
    if not usable:
        raise AdminError(f"--admin-url must be an http:// or https:// URL with a host (and a "
                         f"port from 1 to 65535), not {base!r}")
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise AdminError(f"set {TOKEN_ENV} to your admin token")
    if not token.isascii() or not token.isprintable() or " " in token:
        raise AdminError(f"{TOKEN_ENV} must be printable ASCII without spaces (as GUARD_ADMIN_TOKENS "
                         "holds it)")
    proxy = _proxy_for(parts)
    via = ("" if proxy is None else
           f" (through the proxy {unsecret(proxy)}: set NO_PROXY={parts.hostname} to bypass it)")
    url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=None if body is None else json.dumps(body).encode(), method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with _opener(parts.scheme, proxy).open(request, timeout=args.timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            location = unsecret(exc.headers.get("Location") or "(no Location)")
            raise AdminError(f"the admin URL answered a redirect (HTTP {exc.code}) to {location}; "
                             "not following it with the admin token: point --admin-url (or "
                             "$GUARD_ADMIN_URL) at guard's admin port", exc.code) from None
        try:
            error = json.loads(exc.read())["error"]
            message, code = error["message"], error.get("code")
        except (ValueError, KeyError, TypeError, AttributeError):  # not guard's: the proxy's?
            message, code = f"{exc.reason}{via}", None
        # guard's admin API knows every path the CLI asks: a plain "not found" is another server
        # (the data port, a proxy) or another guard version
        hint = (" (check --admin-url or $GUARD_ADMIN_URL: no admin API of this guard version "
                "answers there)" if exc.code == 404 and code in (None, "not_found") else "")
        raise AdminError(f"{method} {path}: HTTP {exc.code}: {message}{hint}", exc.code) from None
    except http.client.RemoteDisconnected:  # connected, then closed unanswered (redis-server)
        raise AdminError(f"{method} {path}: {base} closed the connection without an answer{via}: "
                         "not an HTTP server (a database's port?), or guard's admin port as it "
                         "stops: check --admin-url or $GUARD_ADMIN_URL") from None
    except (urllib.error.URLError, OSError) as exc:
        raise AdminError(f"cannot reach the admin API at {base}{via}: {exc}") from None
    except http.client.HTTPException as exc:  # an SSH banner, a database's greeting
        raise AdminError(f"{method} {path}: {base} is not an HTTP server, or not guard's admin "
                         f"port ({type(exc).__name__}){via}: check --admin-url or $GUARD_ADMIN_URL"
                         ) from None
    problem = _unexpected(raw, expect or {})
    if problem:
        raise AdminError(f"{method} {path}: {base} did not answer as guard's admin API{via}: "
                         f"{problem} (check --admin-url or $GUARD_ADMIN_URL)")
    answer: dict[str, Any] = json.loads(raw or b"{}")
    return status, answer


def unsecret(url: str) -> str:
    """`url` with any user info (`user:password@`) shown as `***@`, a scheme-relative URL's
    (`//user:password@host/`) too."""
    return _USER_INFO.sub(r"\1***@", url)


def _proxy_for(parts: urllib.parse.SplitResult) -> str | None:
    """The proxy the call goes through (HTTP_PROXY or HTTPS_PROXY, unless NO_PROXY names the
    host), None for a direct one. Never one for a loopback host: a proxy elsewhere cannot reach
    this machine's 127.0.0.1, and one that is down made a port-forward look down."""
    import ipaddress
    import urllib.request

    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name
        loopback = host.endswith(".localhost")
    proxy = urllib.request.getproxies().get(parts.scheme)
    if loopback or not proxy or urllib.request.proxy_bypass(host):
        return None
    return proxy


def _opener(scheme: str, proxy: str | None) -> urllib.request.OpenerDirector:
    """urllib's opener through `proxy` only (None: direct, whatever the environment says), and
    every 3xx stays an HTTPError: guard's admin API never redirects, and following one would
    send the Authorization header on to the redirect's target."""
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_: object, **__: object) -> None:
            return None

    proxies = urllib.request.ProxyHandler({scheme: proxy} if proxy else {})
    return urllib.request.build_opener(NoRedirects, proxies)


def _unexpected(raw: bytes, expect: Mapping[str, type]) -> str:
    """What is wrong with a 2xx answer's body for a caller expecting `expect` ("" if nothing)."""
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        shown = raw[:40].decode(errors="replace")
        return f"not JSON ({shown!r}{'...' if len(raw) > 40 else ''})"
    if not isinstance(answer, dict):
        return f"a JSON {type(answer).__name__}, not an object"
    for key, kind in expect.items():
        if not isinstance(answer.get(key), kind):
            return f"no {kind.__name__} {key!r} in its answer"
    return ""
