from django.contrib.auth import views as auth_views
from django.urls import path

from courseware import views
from courseware.views import enrolment, offerings, people
from courseware.views import roster as roster_views

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    # Before course-detail: "new" is not a course code (offering_create refuses it).
    path("courses/new/", offerings.course_create, name="course-create"),
    path("courses/<str:code>/", views.course_detail, name="course-detail"),
    path("courses/<str:code>/people/", people.course_people, name="course-people"),
    path(
        "courses/<str:code>/people/<int:user_id>/",
        people.course_person_update,
        name="course-person-update",
    ),
    path(
        "courses/<str:code>/people/<int:user_id>/unenrol/",
        people.course_person_unenrol,
        name="course-person-unenrol",
    ),
    path(
        "courses/<str:code>/people/<int:user_id>/reenrol/",
        people.course_person_reenrol,
        name="course-person-reenrol",
    ),
    path(
        "courses/<str:code>/people/<int:user_id>/invite/",
        people.course_person_invite,
        name="course-person-invite",
    ),
    path("courses/<str:code>/settings/", offerings.course_settings, name="course-settings"),
    path("courses/<str:code>/sessions/import/", views.deck_import, name="deck-import"),
    path("courses/<str:code>/people/import/", roster_views.roster_import, name="roster-import"),
    path("courses/<str:code>/sessions/<int:number>/", views.session_detail, name="session-detail"),
    path("homework/<int:task_id>/completion/", views.homework_toggle, name="homework-toggle"),
    path("homework/<int:task_id>/due/", views.homework_due, name="homework-due"),
    path("account/token/", views.account_token, name="account-token"),
    path(
        "courses/<str:code>/people/enrolment/",
        enrolment.course_enrolment,
        name="course-enrolment",
    ),
    path("join/", enrolment.course_join, name="course-join"),
    path("join/complete/", enrolment.course_join_complete, name="course-join-complete"),
]
