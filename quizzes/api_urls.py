"""`/api/v1/` routes of the quizzes app (included by `config.api_urls`)."""

from django.urls import path

from quizzes import api

app_name = "quizzes_api"

urlpatterns = [
    path("courses/<str:code>/quizzes/", api.QuizListApi.as_view(), name="quiz-list"),
    path("quizzes/<int:quiz_id>/", api.QuizDetailApi.as_view(), name="quiz-detail"),
    path("quizzes/<int:quiz_id>/attempts/", api.AttemptStartApi.as_view(), name="attempt-start"),
    path("quizzes/<int:quiz_id>/results/", api.QuizResultsApi.as_view(), name="quiz-results"),
    path(
        "quizzes/<int:quiz_id>/statistics/",
        api.QuizStatisticsApi.as_view(),
        name="quiz-statistics",
    ),
    path("quizzes/<int:quiz_id>/essays/", api.EssayQueueApi.as_view(), name="essay-queue"),
    path("attempts/<int:attempt_id>/", api.AttemptDetailApi.as_view(), name="attempt-detail"),
    path(
        "attempts/<int:attempt_id>/answers/<int:slot>/",
        api.AnswerSaveApi.as_view(),
        name="answer-save",
    ),
    path(
        "attempts/<int:attempt_id>/submit/", api.AttemptSubmitApi.as_view(), name="attempt-submit"
    ),
    path(
        "attempts/<int:attempt_id>/review/", api.AttemptReviewApi.as_view(), name="attempt-review"
    ),
    path(
        "attempts/<int:attempt_id>/questions/<int:slot>/mark/",
        api.EssayMarkApi.as_view(),
        name="essay-mark",
    ),
    path(
        "questions/<int:question_id>/regrade/",
        api.QuestionRegradeApi.as_view(),
        name="question-regrade",
    ),
]
