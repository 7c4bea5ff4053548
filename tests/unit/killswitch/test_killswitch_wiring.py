"""Whether a `route:` scope can match a path this replica serves, which decides whether engaging
it warns (no I/O)."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

from guard.app import build_components, data_app
from guard.config import Settings, UpstreamSettings
from guard.killswitch.wiring import route_warning, serves
from guard.proxy.fetch import FETCHED

SERVED = ["/v1/chat/completions", "/v1/responses/{id}", "/v1/files/{id:file-[0-9]+}/content"]


@pytest.mark.parametrize(("value", "stopped"), [
    ("/v1/files/file-1*/content", "/v1/files/file-12/content"),
    ("/v1/files/file-?2/content", "/v1/files/file-12/content"),
    ("/v1/files/file-[0-9]/content", "/v1/files/file-7/content"),
    ("/v1/files/*", "/v1/files/file-3/content"),
    ("/v1/*/content", "/v1/files/file-3/content"),
    ("*content", "/v1/files/file-3/content"),
    ("/v1/responses/resp_*", "/v1/responses/resp_1"),
    ("/v1/chat/complet[!]]ons", "/v1/chat/completions"),
    ("/v1/files/file-12/content", "/v1/files/file-12/content"),
    ("/v1/chat/completions", "/v1/chat/completions"),
])
def test_a_scope_matching_a_served_path_is_served(value: str, stopped: str) -> None:
    """A path, or a glob, that stops a request one of the templates takes (regex variable parts
    among them) is said to be served, so engaging it does not warn."""
    assert fnmatch.fnmatchcase(stopped, value)
    assert serves(SERVED)(value)


@pytest.mark.parametrize("value", [
    "/v1/chat/completion", "/v1/embeddings", "/v1/files/*/contents", "/v2/*",
    "/v1/files/abc/content", "/v1/chat/[/completions", "/v1/[ab]/completions",
])
def test_a_scope_matching_no_served_path_is_not(value: str) -> None:
    """A typo, or a glob no template's paths can match, is said to match nothing (a warning)."""
    assert not serves(SERVED)(value)


def test_a_scope_naming_only_fetched_answers_names_the_route_that_stops_them() -> None:
    """A fetch by id counts under its API's route: the warning names that scope, not "no path"
    (a probe was told `route:/v1/responses/*` "matches no path this replica serves")."""
    warning = route_warning(["/v1/responses", "/v1/chat/completions"])
    assert warning("/v1/responses") is None
    assert "matches no path" in (warning("/v1/chat/completion") or "")
    assert "GET /v1/responses/{id}: stopped by route:/v1/responses" in (
        warning("/v1/responses/resp_*") or "")


def test_the_fetched_paths_are_those_the_data_plane_serves(tmp_path: Path) -> None:
    """`fetch.FETCHED` (what a `route:` scope's warning names) lists what `app.data_app`
    mounts for answers fetched by id, method and path, and nothing else."""
    settings = Settings(state_dir=tmp_path / "state", policies=None,
                        upstreams={"default": UpstreamSettings(url="http://127.0.0.1:9")})
    app = data_app(build_components(settings))
    mounted = {(route.method, re.sub(r"\{id:[^}]*\}", "{id}", route.resource.canonical))
               for route in app.router.routes() if route.resource is not None
               and "{id" in route.resource.canonical}
    assert mounted == {(method, path) for method, path, _ in FETCHED}
