"""`/api/v1/` routes of the labs app (included by `config.api_urls`)."""

from django.urls import path

from labs import api

app_name = "labs_api"

urlpatterns = [
    path("labs/<int:lab_id>/", api.LabDetailApi.as_view(), name="lab-detail"),
    path("labs/<int:lab_id>/submissions/", api.LabSubmissionsApi.as_view(), name="lab-submissions"),
    path("labs/<int:lab_id>/leaderboard/", api.LabLeaderboardApi.as_view(), name="lab-leaderboard"),
    path("labs/<int:lab_id>/regrade/", api.LabRegradeApi.as_view(), name="lab-regrade"),
    path(
        "submissions/<int:submission_id>/",
        api.SubmissionDetailApi.as_view(),
        name="submission-detail",
    ),
    path(
        "submissions/<int:submission_id>/cancel/",
        api.SubmissionCancelApi.as_view(),
        name="submission-cancel",
    ),
]
