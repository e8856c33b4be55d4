"""`/api/v1/` routes of the courseware app (included by `config.api_urls`)."""

from django.urls import path

from courseware import api
from courseware.api import people
from courseware.api import roster as roster_api

app_name = "courseware_api"

urlpatterns = [
    path("auth/token/", api.TokenObtainApi.as_view(), name="token-obtain"),
    path("courses/", api.CourseListApi.as_view(), name="course-list"),
    path("courses/<str:code>/", api.CourseDetailApi.as_view(), name="course-detail"),
    path("courses/<str:code>/roster/", roster_api.RosterImportApi.as_view(), name="roster-import"),
    path("courses/<str:code>/sessions/", api.SessionListApi.as_view(), name="session-list"),
    path(
        "courses/<str:code>/sessions/<int:number>/",
        api.SessionDetailApi.as_view(),
        name="session-detail",
    ),
    path("courses/<str:code>/members/", people.MemberListApi.as_view(), name="member-list"),
    path(
        "courses/<str:code>/members/<int:user_id>/",
        people.MemberDetailApi.as_view(),
        name="member-detail",
    ),
    path(
        "courses/<str:code>/members/<int:user_id>/invitation/",
        people.MemberInvitationApi.as_view(),
        name="member-invitation",
    ),
    path(
        "homework/<int:task_id>/completion/",
        api.HomeworkCompletionApi.as_view(),
        name="homework-completion",
    ),
    path(
        "homework/<int:task_id>/completions/",
        api.HomeworkCompletionListApi.as_view(),
        name="homework-completion-list",
    ),
]
