"""Portal routes of the labs app, under `/labs/` (included by `config.urls`)."""

from django.urls import path

from labs import views

app_name = "labs"

urlpatterns = [
    path("client/coursebench_submit.py", views.client_download, name="client-download"),
    path("starter/train_sentiment.py", views.starter_download, name="starter-download"),
    # Students and instructors of the lab's course
    path("<int:lab_id>/", views.lab_detail, name="lab-detail"),
    path("<int:lab_id>/submit/", views.submission_create, name="submission-create"),
    path("<int:lab_id>/submissions/", views.my_submissions, name="my-submissions"),
    path("<int:lab_id>/leaderboard/", views.leaderboard, name="leaderboard"),
    path("<int:lab_id>/baseline/", views.baseline_progress_fragment, name="baseline-progress"),
    path("<int:lab_id>/training.csv", views.training_download, name="training-download"),
    path("submissions/<int:submission_id>/", views.submission_detail, name="submission-detail"),
    path("submissions/<int:submission_id>/card/", views.submission_card, name="submission-card"),
    path("submissions/<int:submission_id>/try/", views.tryit_create, name="try-it"),
    path("try/<int:prediction_id>/", views.tryit_item, name="try-it-item"),
    # Instructors
    path("new/<str:code>/<int:number>/", views.lab_create, name="lab-create"),
    path("<int:lab_id>/edit/", views.lab_edit, name="lab-edit"),
    path("<int:lab_id>/dataset/", views.dataset_upload, name="dataset"),
    path("<int:lab_id>/dashboard/", views.dashboard, name="dashboard"),
    path("<int:lab_id>/dashboard/live/", views.dashboard_live, name="dashboard-live"),
    path("<int:lab_id>/results.csv", views.results_csv, name="results-csv"),
    path("<int:lab_id>/students/<int:user_id>/", views.student_detail, name="student-detail"),
    path("<int:lab_id>/extensions/", views.extension_set, name="extension-set"),
    path(
        "<int:lab_id>/extensions/<int:user_id>/delete/",
        views.extension_delete,
        name="extension-delete",
    ),
    path("<int:lab_id>/regrade/", views.lab_regrade, name="regrade"),
    path(
        "submissions/<int:submission_id>/cancel/",
        views.submission_cancel,
        name="submission-cancel",
    ),
]
