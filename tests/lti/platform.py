"""An LMS for the LTI tests, built on the platform-side library `lti1p3platform` (not on our
tool code): it answers Coursebench's OIDC login redirect, signs id_tokens with its own RSA
keys, and serves its JWKS from a real HTTP server on a loopback port, which Coursebench's
PyLTI1p3 fetches over the network like a real Canvas or Moodle key set.

    lms = TestLMS.start()            # http://127.0.0.1:<port>, /jwks
    response = lms.launch(client, user_id="u1", roles=[INSTRUCTOR])
    lms.stop()

`launch` walks the real message flow through Django's test client: GET the tool's login URL
with the platform's login parameters → the tool redirects to the platform's auth URL with
state and nonce → the platform (lti1p3platform) validates that auth request and builds and
signs the id_token → POST it to the redirect_uri the tool named. Knobs on `launch` make the
bad launches the tests need (expired, tampered, wrong audience, unknown deployment)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jwcrypto.jwk import JWK
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTRUCTOR = LIS + "Instructor"
LEARNER = LIS + "Learner"
TEACHING_ASSISTANT = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
)
MENTOR = LIS + "Mentor"
TOOL = "http://127.0.0.1:8000"  # settings.SITE_URL in the suite


def new_key() -> JWK:
    return JWK.generate(kty="RSA", size=2048)


def _pem(key: JWK, *, private: bool) -> str:
    if private:
        return key.export_to_pem(private_key=True, password=None).decode()
    return key.export_to_pem().decode()


class _Params(Request):
    """lti1p3platform's request wrapper over the auth request's query parameters."""

    def build_metadata(self, request: dict[str, str]):
        return {
            "method": "GET",
            "get_data": request,
            "form_data": {},
            "headers": {},
            "content_type": None,
            "path": "/auth",
            "json": None,
        }


class _Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return launch_data  # {"launch_url", "state", "id_token"}: the auto-posting form's fields


@dataclass
class LaunchForm:
    launch_url: str
    state: str
    id_token: str

    @property
    def path(self) -> str:
        return urlsplit(self.launch_url).path

    def data(self) -> dict[str, str]:
        return {"state": self.state, "id_token": self.id_token}


class _LMSHandler(BaseHTTPRequestHandler):
    """The test LMS's HTTP endpoints: JWKS, token, line items and scores, memberships."""

    lms: TestLMS

    def do_GET(self):
        self.lms.requests_seen.append(self.path)
        path = urlsplit(self.path)
        if path.path == "/jwks":
            return self._json(200, self.lms.jwks())
        if path.path == "/course":
            return self._course_page(dict(parse_qsl(path.query)))
        if path.path == "/auth":
            return self._auth(dict(parse_qsl(path.query)))
        if path.path == "/frame":  # any page in the LMS's frame (is it allowed to be framed?)
            src = dict(parse_qsl(path.query))["src"]
            return self._html(f'<!doctype html><iframe name="tool" src="{escape(src)}"></iframe>')
        if not self._authorized():
            return None
        if path.path == "/lineitems":
            return self._json(200, self.lms.line_items)
        if path.path == "/memberships":
            return self._members(dict(parse_qsl(path.query)))
        return self._json(404, {"error": "not found"})

    def do_POST(self):
        self.lms.requests_seen.append("POST " + self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        if self.path == "/token":
            try:
                token = self.lms._conf().get_access_token(dict(parse_qsl(body)))
            except Exception as exc:  # the platform library's refusal
                return self._json(400, {"error": "invalid_client", "detail": str(exc)})
            return self._json(200, token)
        if not self._authorized():
            return None
        if self.lms.fail_next:
            self.lms.fail_next -= 1
            return self._json(503, {"error": "try later"})
        if self.path == "/lineitems":
            item = json.loads(body)
            item["id"] = f"{self.lms.base_url}/lineitems/{len(self.lms.line_items) + 1}"
            self.lms.line_items.append(item)
            return self._json(201, item)
        if self.path.startswith("/lineitems/") and self.path.endswith("/scores"):
            score = json.loads(body)
            score["lineitem"] = self.lms.base_url + self.path.removesuffix("/scores")
            self.lms.scores.append(score)
            return self._json(200, {})
        return self._json(404, {"error": "not found"})

    # --- what a browser sees: the LMS's course page framing the tool ------------------------
    def _course_page(self, query: dict[str, str]) -> None:
        """The LMS's page for a link: an iframe, whose first request is the OIDC login
        initiation (lti1p3platform's preflight URL), as Canvas and Moodle frame a tool."""
        launch = self.lms.browser_launches[query["link"]]
        registration = self.lms._registration(
            deployment_id=self.lms.deployment_id,
            signing_key=self.lms.keys[-1],
            login_url=launch["login_url"],
        )
        login = _Login(None, _Conf(registration=registration))
        login.set_lti_message_hint(hint=query["link"])
        login.set_launch_url(self.lms.tool_url + "/lti/launch/")
        src = login.prepare_preflight_url(launch["user_id"])
        self._html(
            f"""<!doctype html><title>LMS course</title><h1>Machine learning (LMS)</h1>
            <iframe name="tool" title="Coursebench" src="{escape(src)}"
             width="1200" height="800"></iframe>"""
        )

    def _auth(self, query: dict[str, str]) -> None:
        """The platform's OIDC auth endpoint, inside the frame: validate the tool's auth
        request, sign the id_token, and auto-post it to the tool's redirect_uri (the form a
        real LMS answers with)."""
        launch = {**self.lms.browser_launches[query["lti_message_hint"]]}
        form = self.lms.signed_launch(query, resource_link_id=query["lti_message_hint"], **launch)
        self._html(
            f"""<!doctype html><title>Launching</title>
            <form method="post" action="{escape(form.launch_url)}">
            <input type="hidden" name="state" value="{escape(form.state)}">
            <input type="hidden" name="id_token" value="{escape(form.id_token)}">
            </form><script>document.forms[0].submit()</script>"""
        )

    def _html(self, html: str) -> None:
        data = html.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        try:
            ok = header.startswith("Bearer ") and self.lms._conf().validate_token(
                header.removeprefix("Bearer ")
            )
        except Exception:
            ok = False
        if not ok:
            self._json(401, {"error": "invalid token"})
        return bool(ok)

    def _members(self, query: dict[str, str]) -> None:
        start = int(query.get("from", 0))
        if self.lms.on_members_page is not None:
            self.lms.on_members_page(start)
        if self.lms.members_fail_from is not None and start >= self.lms.members_fail_from:
            return self._json(500, {"error": "the LMS broke"})
        page = self.lms.members[start : start + self.lms.members_page_size]
        data = json.dumps(
            {
                "id": f"{self.lms.base_url}/memberships",
                "context": {"id": "lms-course-1", "title": "Machine learning"},
                "members": page,
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
        self.send_header("Content-Length", str(len(data)))
        following = start + self.lms.members_page_size
        if following < len(self.lms.members):
            self.send_header(
                "Link", f'<{self.lms.base_url}/memberships?from={following}>; rel="next"'
            )
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:  # quiet test output
        pass


@dataclass
class TestLMS:
    """One LMS: its issuer is its loopback base URL; `client_id` and `deployment_id` are
    what it gave Coursebench."""

    __test__ = False  # not a test class for pytest

    client_id: str = "coursebench-client"
    # Where Coursebench answers (its SITE_URL): the launch, deep linking and JWKS URLs.
    tool_url: str = TOOL
    deployment_id: str = "deployment-1"
    # Published in the JWKS; the last one signs. Rotation appends; retiring removes.
    keys: list[JWK] = field(default_factory=lambda: [new_key()])
    base_url: str = ""
    _server: ThreadingHTTPServer | None = None
    requests_seen: list[str] = field(default_factory=list)
    # AGS: the LMS's gradebook columns and the scores posted to them (in order received).
    line_items: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    # NRPS: the course's members as the LMS lists them; page size of the memberships service.
    members: list[dict[str, Any]] = field(default_factory=list)
    members_page_size: int = 2
    # Pages starting at this member index answer 500 (an LMS failing part-way through a list).
    members_fail_from: int | None = None
    # Called (in the server's thread) with the page's first index before a page is answered:
    # a test can wait there (a hung LMS) or look at what the tool is doing meanwhile.
    on_members_page: Callable[[int], None] | None = None
    # The tool's public keys, which the LMS checks client assertions against (the tests fetch
    # them from Coursebench's /lti/jwks/).
    tool_jwks: dict[str, Any] | None = None
    # Browser launches: link id → signed_launch's arguments (login_url, user_id, roles, custom),
    # for the page at /course?link=<id> (see `course_page_url`).
    browser_launches: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Make the next N service calls answer 503 (an LMS having a bad moment).
    fail_next: int = 0

    # --- the HTTP server --------------------------------------------------------------------
    @classmethod
    def start(cls, **kwargs: Any) -> TestLMS:
        lms = cls(**kwargs)
        handler = lms._handler()
        lms._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        lms.base_url = f"http://127.0.0.1:{lms._server.server_address[1]}"
        threading.Thread(target=lms._server.serve_forever, daemon=True).start()
        return lms

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handler(self):
        return type("Handler", (_LMSHandler,), {"lms": self})

    # --- what Coursebench's staff register --------------------------------------------------
    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def auth_url(self) -> str:
        return self.base_url + "/auth"

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    @property
    def keyset_url(self) -> str:
        return self.base_url + "/jwks"

    def registration_values(self) -> dict[str, Any]:
        return {
            "name": "Test LMS",
            "issuer": self.issuer,
            "client_id": self.client_id,
            "auth_url": self.auth_url,
            "token_url": self.token_url,
            "keyset_url": self.keyset_url,
            "deployment_ids": [self.deployment_id],
            "frame_origins": [self.base_url],
        }

    def _conf(self) -> _Conf:
        """The platform library's configuration for the service endpoints (token, scores)."""
        registration = (
            Registration()
            .set_iss(self.issuer)
            .set_client_id(self.client_id)
            .set_platform_public_key(_pem(self.keys[-1], private=False))
            .set_platform_private_key(_pem(self.keys[-1], private=True))
        )
        if self.tool_jwks is not None:
            registration.set_tool_key_set(self.tool_jwks)
        return _Conf(registration=registration)

    def add_line_items_from(self, content_items: list[dict[str, Any]]) -> None:
        """What an LMS does on a deep linking reply: a column per item with a lineItem."""
        for item in content_items:
            if "lineItem" in item:
                line_item = {**item["lineItem"]}
                line_item["id"] = f"{self.base_url}/lineitems/{len(self.line_items) + 1}"
                line_item["resourceLinkId"] = item["custom"]["resource"]
                self.line_items.append(line_item)

    def course_page_url(self, link: str, **launch: Any) -> str:
        """The LMS page that frames a launch of `link` for a user, in a real browser."""
        self.browser_launches[link] = launch
        return f"{self.base_url}/course?link={link}"

    def scores_for(self, user_id: str) -> list[dict[str, Any]]:
        return [s for s in self.scores if s.get("userId") == user_id]

    # --- keys -------------------------------------------------------------------------------
    def jwks(self) -> dict[str, Any]:
        return {"keys": [Registration.get_jwk(_pem(k, private=False)) for k in self.keys]}

    def rotate_key(self) -> JWK:
        """A new signing key, published beside the old ones (which still verify)."""
        self.keys.append(new_key())
        return self.keys[-1]

    def retire_key(self, key: JWK) -> None:
        self.keys.remove(key)

    # --- a launch -----------------------------------------------------------------------------
    def _registration(
        self, *, deployment_id: str, signing_key: JWK, login_url: str
    ) -> Registration:
        return (
            Registration()
            .set_iss(self.issuer)
            .set_client_id(self.client_id)
            .set_deployment_id(deployment_id)
            .set_oidc_login_url(login_url)
            .set_launch_url(self.tool_url + "/lti/launch/")
            .set_deeplink_launch_url(self.tool_url + "/lti/deep-link/")
            .set_platform_public_key(_pem(signing_key, private=False))
            .set_platform_private_key(_pem(signing_key, private=True))
            .set_tool_key_set_url(self.tool_url + "/lti/jwks/")
        )

    def login(
        self,
        client,
        *,
        login_url: str,
        user_id: str,
        deployment_id: str | None = None,
        hint: str = "resource-link-1",
        target_link_uri: str | None = None,
    ):
        """Step 1: the platform's login initiation; returns the tool's response (a redirect
        to our auth URL, or a refusal page)."""
        registration = self._registration(
            deployment_id=deployment_id or self.deployment_id,
            signing_key=self.keys[-1],
            login_url=login_url,
        )
        login = _Login(None, _Conf(registration=registration))
        login.set_lti_message_hint(hint=hint)
        login.set_launch_url(target_link_uri or self.tool_url + "/lti/launch/")
        preflight = urlsplit(login.prepare_preflight_url(user_id))
        return client.get(preflight.path, dict(parse_qsl(preflight.query)))

    def launch_form(
        self,
        client,
        *,
        login_url: str,
        user_id: str,
        roles: list[str],
        name: str | None = None,
        email: str | None = None,
        context_id: str = "lms-course-1",
        context_label: str = "ML101",
        context_title: str = "Machine learning",
        resource_link_id: str = "resource-link-1",
        custom: dict[str, str] | None = None,
        deep_link: bool = False,
        deployment_id: str | None = None,
        expires_in: int = 300,
        signing_key: JWK | None = None,
        extra_claims: dict[str, Any] | None = None,
    ) -> LaunchForm:
        """Steps 1-3: login, the tool's redirect to our auth URL, the signed id_token."""
        deployment_id = deployment_id or self.deployment_id
        target = self.tool_url + ("/lti/deep-link/" if deep_link else "/lti/launch/")
        response = self.login(
            client,
            login_url=login_url,
            user_id=user_id,
            deployment_id=deployment_id,
            hint=resource_link_id,
            target_link_uri=target,
        )
        assert response.status_code == 302, response.content.decode()[:500]
        location = urlsplit(response["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == self.auth_url
        auth_request = dict(parse_qsl(location.query))
        return self.signed_launch(
            auth_request,
            login_url=login_url,
            user_id=user_id,
            roles=roles,
            name=name,
            email=email,
            context_id=context_id,
            context_label=context_label,
            context_title=context_title,
            resource_link_id=resource_link_id,
            custom=custom,
            deep_link=deep_link,
            deployment_id=deployment_id,
            expires_in=expires_in,
            signing_key=signing_key,
            extra_claims=extra_claims,
        )

    def signed_launch(
        self,
        auth_request: dict[str, str],
        *,
        login_url: str,
        user_id: str,
        roles: list[str],
        name: str | None = None,
        email: str | None = None,
        context_id: str = "lms-course-1",
        context_label: str = "ML101",
        context_title: str = "Machine learning",
        resource_link_id: str = "resource-link-1",
        custom: dict[str, str] | None = None,
        deep_link: bool = False,
        deployment_id: str | None = None,
        expires_in: int = 300,
        signing_key: JWK | None = None,
        extra_claims: dict[str, Any] | None = None,
    ) -> LaunchForm:
        """Step 3: lti1p3platform validates the tool's auth request and signs the id_token."""
        deployment_id = deployment_id or self.deployment_id
        registration = self._registration(
            deployment_id=deployment_id,
            signing_key=signing_key or self.keys[-1],
            login_url=login_url,
        )
        launch = _Launch(_Params(auth_request), _Conf(registration=registration))
        launch.set_user_data(user_id, roles, full_name=name, email_address=email)
        launch.set_launch_context_claim(
            context_id,
            context_types=["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
            context_title=context_title,
            context_label=context_label,
        )
        if deep_link:
            launch.set_dl(self.base_url + "/deep-link-return", title="Coursebench")
        else:
            launch.set_resource_link_claim(resource_link_id, title="Coursebench link")
        if custom:
            launch.set_custom_parameters_claim(custom)
        launch.set_ags(lineitems_url=self.base_url + "/lineitems")
        launch.set_nrps(context_memberships_url=self.base_url + "/memberships")
        if extra_claims:
            launch.set_extra_claims(extra_claims)
        launch.set_id_token_expiration(expires_in)
        form = launch.lti_launch()
        return LaunchForm(form["launch_url"], form["state"], form["id_token"])

    def launch(self, client, **kwargs: Any):
        """The whole launch; returns the tool's response to the posted id_token."""
        form = self.launch_form(client, **kwargs)
        return client.post(form.path, form.data())


def tamper(id_token: str, **claims: Any) -> str:
    """The same token with some claims changed and the original signature kept: what an
    attacker who edits a captured token sends."""
    header, body, signature = id_token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload.update(claims)
    new_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"{header}.{new_body}.{signature}"


def platform_reads_deep_link_reply(jwt_value: str, tool_jwks: dict[str, Any]) -> list[dict]:
    """The LMS's side of a deep linking reply (lti1p3platform): verify the tool's signature
    against the tool's published JWKS and return the content items."""
    conf = _Conf(registration=Registration().set_tool_key_set(tool_jwks))
    return conf.validate_deeplinking_resp({"JWT": jwt_value})
