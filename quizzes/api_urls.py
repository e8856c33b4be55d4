"""`/api/v1/` routes of the quizzes app (included by `config.api_urls`)."""

from django.urls import path

from quizzes.api import attempts, essays, quizzes, regrade, results

app_name = "quizzes_api"

urlpatterns = [
    path("courses/<str:code>/quizzes/", quizzes.QuizListApi.as_view(), name="quiz-list"),
    path("quizzes/<int:quiz_id>/", quizzes.QuizDetailApi.as_view(), name="quiz-detail"),
    path(
        "quizzes/<int:quiz_id>/attempts/", attempts.AttemptStartApi.as_view(), name="attempt-start"
    ),
    path("quizzes/<int:quiz_id>/results/", results.QuizResultsApi.as_view(), name="quiz-results"),
    path(
        "quizzes/<int:quiz_id>/statistics/",
        results.QuizStatisticsApi.as_view(),
        name="quiz-statistics",
    ),
    path("quizzes/<int:quiz_id>/essays/", essays.EssayQueueApi.as_view(), name="essay-queue"),
    path("attempts/<int:attempt_id>/", attempts.AttemptDetailApi.as_view(), name="attempt-detail"),
    path(
        "attempts/<int:attempt_id>/answers/<int:slot>/",
        attempts.AnswerSaveApi.as_view(),
        name="answer-save",
    ),
    path(
        "attempts/<int:attempt_id>/submit/",
        attempts.AttemptSubmitApi.as_view(),
        name="attempt-submit",
    ),
    path(
        "attempts/<int:attempt_id>/review/",
        attempts.AttemptReviewApi.as_view(),
        name="attempt-review",
    ),
    path(
        "attempts/<int:attempt_id>/questions/<int:slot>/mark/",
        essays.EssayMarkApi.as_view(),
        name="essay-mark",
    ),
    path(
        "questions/<int:question_id>/regrade/",
        regrade.QuestionRegradeApi.as_view(),
        name="question-regrade",
    ),
]
