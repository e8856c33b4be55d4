"""Coursebench inside an LMS's iframe, and nowhere else.

A request is *framed* when it is on an LTI route (`/lti/`) or belongs to a session that an LTI
launch started (the launch stores the platform's frame origins in the session). For framed
requests only:

- the session and CSRF cookies (and PyLTI1p3's state cookie) are sent
  `SameSite=None; Secure; Partitioned`, so the browser keeps them, and sends them back, inside
  the LMS's cross-site frame (Chromium blocks unpartitioned third-party cookies);
- CSP `frame-ancestors` names the launching platform's origins (on LTI routes with no launch
  yet: every active platform's), and X-Frame-Options is left out.

Every other response keeps the site's `frame-ancestors 'none'`, `X-Frame-Options: DENY` and
`SameSite=Lax` cookies."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import CookieError, Morsel

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from lti.selectors import frame_origins_all

SESSION_FRAME_ORIGINS = "lti_frame_origins"
# A deep linking request waiting for the instructor's picks: {"launch_id", "course"}.
SESSION_DEEP_LINK = "lti_deep_link"
LTI_PREFIX = "/lti/"


def _frame_origins(request: HttpRequest) -> list[str] | None:
    """The origins allowed to frame this response, or None when it is not framed."""
    session = getattr(request, "session", None)
    # Only a request that carries a session cookie can belong to a launched session; reading
    # the session of any other request would add `Vary: Cookie` to every response.
    has_session = session is not None and settings.SESSION_COOKIE_NAME in request.COOKIES
    origins = session.get(SESSION_FRAME_ORIGINS) if has_session else None
    if origins:
        return list(origins)
    if request.path.startswith(LTI_PREFIX):
        return frame_origins_all()
    return None


class FramedCookiesMiddleware:
    """Outside SessionMiddleware and CsrfViewMiddleware, so their cookies are set by now."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _frame_origins(request) is None:
            return response
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, *response.cookies):
            morsel = response.cookies.get(name)
            if morsel is not None and morsel.value:
                # Browsers drop SameSite=None without Secure; LTI itself requires HTTPS.
                morsel["secure"] = True
                _partitioned(morsel)
        return response


def _partitioned(morsel: Morsel) -> None:
    """SameSite=None plus `Partitioned` (CHIPS): Chromium now blocks unpartitioned
    third-party cookies, even in a normal profile (tests/browser/test_lti_frame.py shows a
    launch failing without it); a partitioned cookie is kept per top-level site, i.e. for the
    frame inside this LMS. Python's Morsel knows the attribute only from 3.14 on."""
    try:
        morsel["partitioned"] = True
        morsel["samesite"] = "None"
    except CookieError:
        morsel["samesite"] = "None; Partitioned"


class FrameAncestorsMiddleware:
    """Inside XFrameOptionsMiddleware and CSPMiddleware, so both see what it set."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origins = _frame_origins(request)
        if origins is None:
            return response
        # django-csp reads _csp_replace; an empty list would drop the directive (any framer).
        replace = dict(getattr(response, "_csp_replace", None) or {})
        replace["frame-ancestors"] = origins or ["'none'"]
        response._csp_replace = replace
        response.xframe_options_exempt = True
        return response
