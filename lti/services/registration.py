"""Registering an LMS platform (site staff only) and the tool's signing keys."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from lti_tool.models import Key, LtiDeployment, LtiRegistration

from core.exceptions import ApplicationError
from courseware.permissions import Actor, require_site_staff
from lti.models import Platform
from lti.selectors import origin_of

_url_validator = URLValidator(schemes=["https", "http"])


def _clean_url(value: str, *, field: str) -> str:
    value = value.strip()
    try:
        _url_validator(value)
    except ValidationError:
        raise ApplicationError(
            "invalid_url", f"The {field} {value!r} is not a URL: paste it from the LMS."
        ) from None
    return value


def _clean_deployment_ids(deployment_ids: list[str]) -> list[str]:
    cleaned = []
    for value in deployment_ids:
        value = value.strip()
        if value and value not in cleaned:
            cleaned.append(value)
    return cleaned


def _clean_origins(frame_origins: list[str], *, fallback: str) -> list[str]:
    origins = []
    for value in frame_origins:
        origin = origin_of(_clean_url(value, field="LMS address"))
        if origin not in origins:
            origins.append(origin)
    return origins or [origin_of(fallback)]


def _save(obj) -> None:
    obj.full_clean()
    obj.save()


def _key_ensure() -> None:
    # A registration signs with the newest active key; the first one is made here so that
    # registering works before anyone runs `rotate_keys`.
    if not Key.objects.active().exists():
        Key.objects.generate()


@transaction.atomic
def platform_register(
    *,
    actor: Actor,
    name: str,
    issuer: str,
    client_id: str,
    auth_url: str,
    token_url: str,
    keyset_url: str,
    deployment_ids: list[str],
    frame_origins: list[str] | None = None,
) -> LtiRegistration:
    """Register an LMS (Canvas, Moodle): its issuer and the client id it gave Coursebench,
    its OIDC auth, token and key-set URLs, and the deployment ids launches may carry (a
    launch with any other deployment id is refused). `frame_origins`: the LMS's web address
    (defaults to the issuer's origin), the only origin allowed to frame Coursebench."""
    require_site_staff(user=actor)
    issuer, client_id = issuer.strip(), client_id.strip()
    if not issuer or not client_id:
        raise ApplicationError(
            "invalid_registration", "Both the issuer and the client id are required."
        )
    if LtiRegistration.objects.filter(issuer=issuer, client_id=client_id).exists():
        raise ApplicationError(
            "platform_exists",
            f"{issuer} with client id {client_id} is already registered: edit that one.",
        )
    deployments = _clean_deployment_ids(deployment_ids)
    if not deployments:
        raise ApplicationError(
            "no_deployment",
            "Give at least one deployment id (Canvas: the key's deployment id shown on "
            "installing the app; Moodle: the tool's Deployment ID).",
        )
    registration = LtiRegistration(
        name=name.strip() or issuer,
        issuer=issuer,
        client_id=client_id,
        auth_url=_clean_url(auth_url, field="authentication request URL"),
        token_url=_clean_url(token_url, field="access token URL"),
        keyset_url=_clean_url(keyset_url, field="public keyset URL"),
        is_active=True,
    )
    _save(registration)
    for deployment_id in deployments:
        _save(LtiDeployment(registration=registration, deployment_id=deployment_id, is_active=True))
    _save(
        Platform(
            registration=registration,
            frame_origins=_clean_origins(frame_origins or [], fallback=issuer),
            registered_by=actor if getattr(actor, "pk", None) else None,
        )
    )
    _key_ensure()
    return registration


@transaction.atomic
def platform_deployment_add(
    *, actor: Actor, registration: LtiRegistration, deployment_id: str
) -> LtiDeployment:
    """Accept launches from one more deployment of this platform (another Canvas sub-account
    or Moodle tool instance). An existing but inactive one is activated."""
    require_site_staff(user=actor)
    deployment_id = deployment_id.strip()
    if not deployment_id:
        raise ApplicationError("no_deployment", "Give the deployment id to add.")
    deployment = LtiDeployment.objects.filter(
        registration=registration, deployment_id=deployment_id
    ).first() or LtiDeployment(registration=registration, deployment_id=deployment_id)
    deployment.is_active = True
    _save(deployment)
    return deployment


@transaction.atomic
def platform_set_active(
    *, actor: Actor, registration: LtiRegistration, is_active: bool
) -> LtiRegistration:
    """Turn a platform off (every launch from it is refused) or back on."""
    require_site_staff(user=actor)
    registration.is_active = is_active
    _save(registration)
    return registration


@transaction.atomic
def platform_update(
    *,
    actor: Actor,
    registration: LtiRegistration,
    name: str,
    auth_url: str,
    token_url: str,
    keyset_url: str,
    frame_origins: list[str],
) -> LtiRegistration:
    """Change a platform's name, its auth, token and key-set URLs (an LMS moving its
    endpoints, e.g. Canvas's move to sso.canvaslms.com) and the LMS web addresses allowed to
    frame Coursebench. The issuer and client id are the platform's identity (its LMS users are
    matched by them): to change those, register it anew."""
    require_site_staff(user=actor)
    registration.name = name.strip() or registration.issuer
    registration.auth_url = _clean_url(auth_url, field="authentication request URL")
    registration.token_url = _clean_url(token_url, field="access token URL")
    registration.keyset_url = _clean_url(keyset_url, field="public keyset URL")
    _save(registration)
    platform = Platform.objects.filter(registration=registration).first() or Platform(
        registration=registration
    )
    platform.frame_origins = _clean_origins(frame_origins, fallback=registration.issuer)
    _save(platform)
    return registration


@transaction.atomic
def platform_deployment_set_active(
    *, actor: Actor, deployment: LtiDeployment, is_active: bool
) -> LtiDeployment:
    """Stop accepting launches from one deployment (a Canvas sub-account that removed the
    app), or accept them again. Its LMS courses, people and scores are kept."""
    require_site_staff(user=actor)
    deployment.is_active = is_active
    _save(deployment)
    return deployment
