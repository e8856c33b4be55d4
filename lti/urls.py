from django.urls import path

from lti import views

urlpatterns = [
    path("lti/jwks/", views.jwks, name="lti-jwks"),
    # Canvas and Moodle send client_id with the login: one login URL serves every platform,
    # known before the LMS has issued the client id. The UUID form is for an LMS that does not.
    path("lti/login/", views.login, name="lti-login"),
    path("lti/login/<uuid:registration_uuid>/", views.login, name="lti-login-registration"),
    path("lti/launch/", views.launch, name="lti-launch"),
    # The same view: the message type (resource link or deep linking) decides. A URL of its
    # own so Canvas placements and Moodle's Content Selection URL can name it.
    path("lti/deep-link/", views.launch, name="lti-deep-link"),
    path("lti/deep-link/pick/", views.deep_link_pick, name="lti-deep-link-pick"),
    # Not under /lti/: staff pages are never framed (lti.middleware).
    path("staff/lti/platforms/", views.platform_list, name="lti-platform-list"),
    path("staff/lti/platforms/<int:pk>/", views.platform_detail, name="lti-platform-detail"),
    path("staff/lti/platforms/<int:pk>/active/", views.platform_active, name="lti-platform-active"),
    path("staff/lti/platforms/<int:pk>/edit/", views.platform_edit, name="lti-platform-edit"),
    path(
        "staff/lti/platforms/<int:pk>/deployments/<int:deployment_pk>/active/",
        views.platform_deployment_active,
        name="lti-platform-deployment-active",
    ),
    # An offering's LMS links: roster sync, and whether the LMS has each current score.
    path("courses/<str:code>/lti/", views.course_lti, name="lti-course"),
    path("courses/<str:code>/lti/roster/", views.roster_sync, name="lti-roster-sync"),
    path(
        "courses/<str:code>/lti/links/<int:pk>/provisional/",
        views.course_link_provisional,
        name="lti-course-link-provisional",
    ),
    path(
        "courses/<str:code>/lti/scores/<int:pk>/resend/",
        views.score_resend,
        name="lti-score-resend",
    ),
]
