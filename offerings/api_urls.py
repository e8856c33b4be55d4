"""`/api/v1/` routes of the offerings app (included by `config.api_urls`)."""

from django.urls import path

from offerings import api

app_name = "offerings_api"

urlpatterns = [
    path("courses/<str:code>/copy/", api.OfferingCopyApi.as_view(), name="course-copy"),
]
