"""Portal routes of the labs app, under `/labs/` (included by `config.urls`)."""

from django.urls import path

from labs import views

app_name = "labs"

urlpatterns = [
    path("client/coursebench_submit.py", views.client_download, name="client-download"),
]
