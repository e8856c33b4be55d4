from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import health

urlpatterns = [
    # Public, for load balancers (docs/deploy.md, "Health checks").
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its settings script as a file (?script), not inline: CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("config.api_urls")),
    path("", include("accounts.urls")),
    path("labs/", include("labs.urls")),
    path("", include("quizzes.urls")),
    path("", include("offerings.urls")),
    path("", include("gradebook.urls")),
    path("", include("gradebook.mastery_urls")),
    path("", include("lti.urls")),
    path("", include("courseware.urls")),
]

# JSON bodies for the API, the portal's pages elsewhere (core.views).
handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
