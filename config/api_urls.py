from django.urls import include, path

urlpatterns = [
    path("", include("courseware.api_urls")),
]
