"""Quiz portal routes (included by `config.urls` before the courseware routes)."""

from django.urls import path

from quizzes import views

urlpatterns = [
    path("courses/<str:code>/quizzes/", views.quiz_list, name="quiz-list"),
    path("courses/<str:code>/quizzes/import/", views.question_import, name="quiz-import"),
    path("courses/<str:code>/quizzes/new/", views.quiz_create, name="quiz-create"),
    path("quizzes/<int:quiz_id>/", views.quiz_detail, name="quiz-detail"),
    path("quizzes/<int:quiz_id>/start/", views.attempt_start, name="quiz-start"),
    path("quizzes/<int:quiz_id>/results/", views.quiz_results, name="quiz-results"),
    path("quizzes/<int:quiz_id>/results.csv", views.quiz_results_csv, name="quiz-results-csv"),
    path("quizzes/<int:quiz_id>/statistics/", views.quiz_statistics, name="quiz-statistics"),
    path("quizzes/<int:quiz_id>/essays/", views.essay_queue, name="quiz-essays"),
    path("quizzes/<int:quiz_id>/settings/", views.quiz_settings, name="quiz-settings"),
    path("quizzes/<int:quiz_id>/questions/", views.quiz_questions, name="quiz-questions"),
    path(
        "quizzes/<int:quiz_id>/questions/add/",
        views.quiz_questions_add,
        name="quiz-questions-add",
    ),
    path(
        "quizzes/<int:quiz_id>/questions/random/",
        views.quiz_questions_random,
        name="quiz-questions-random",
    ),
    path(
        "quizzes/<int:quiz_id>/slots/<int:slot_id>/remove/",
        views.quiz_slot_remove,
        name="quiz-slot-remove",
    ),
    path("quizzes/<int:quiz_id>/overrides/", views.quiz_overrides, name="quiz-overrides"),
    path(
        "quizzes/<int:quiz_id>/overrides/<int:user_id>/clear/",
        views.quiz_override_clear,
        name="quiz-override-clear",
    ),
    path("quizzes/attempts/<int:attempt_id>/", views.attempt_page, name="quiz-attempt"),
    path(
        "quizzes/attempts/<int:attempt_id>/answers/<int:slot>/",
        views.answer_save,
        name="quiz-answer-save",
    ),
    path(
        "quizzes/attempts/<int:attempt_id>/summary/",
        views.attempt_summary,
        name="quiz-attempt-summary",
    ),
    path(
        "quizzes/attempts/<int:attempt_id>/submit/",
        views.attempt_submit,
        name="quiz-attempt-submit",
    ),
    path(
        "quizzes/attempts/<int:attempt_id>/review/",
        views.attempt_review,
        name="quiz-attempt-review",
    ),
    path(
        "quizzes/attempts/<int:attempt_id>/questions/<int:slot>/mark/",
        views.essay_mark,
        name="quiz-essay-mark",
    ),
    path(
        "quizzes/questions/<int:question_id>/regrade/",
        views.question_regrade,
        name="quiz-question-regrade",
    ),
]
