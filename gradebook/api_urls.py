"""`/api/v1/` routes of the gradebook app (included by `config.api_urls`)."""

from django.urls import path

from gradebook import api

app_name = "gradebook_api"

CELL = "courses/<str:code>/gradebook/items/<int:item_id>/students/<int:user_id>/"

urlpatterns = [
    path("courses/<str:code>/gradebook/", api.GradebookApi.as_view(), name="gradebook"),
    path(CELL, api.CellOverrideApi.as_view(), name="cell"),
    path(f"{CELL}history/", api.CellHistoryApi.as_view(), name="cell-history"),
    path(
        "courses/<str:code>/gradebook/students/<int:user_id>/final-grade/",
        api.FinalGradeApi.as_view(),
        name="final-grade",
    ),
]
