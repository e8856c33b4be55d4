"""`/api/v1/` route of the gradebook's mastery (included by `config.api_urls`)."""

from django.urls import path

from gradebook import mastery_api

app_name = "gradebook_mastery_api"

urlpatterns = [
    path("courses/<str:code>/mastery/", mastery_api.MasteryApi.as_view(), name="mastery"),
]
