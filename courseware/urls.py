from django.contrib.auth import views as auth_views
from django.urls import path

from courseware import views
from courseware.views import offerings

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    # Before course-detail: "new" is not a course code (offering_create refuses it).
    path("courses/new/", offerings.course_create, name="course-create"),
    path("courses/<str:code>/", views.course_detail, name="course-detail"),
    path("courses/<str:code>/settings/", offerings.course_settings, name="course-settings"),
    path("courses/<str:code>/sessions/import/", views.deck_import, name="deck-import"),
    path("courses/<str:code>/sessions/<int:number>/", views.session_detail, name="session-detail"),
    path("homework/<int:task_id>/completion/", views.homework_toggle, name="homework-toggle"),
    path("homework/<int:task_id>/due/", views.homework_due, name="homework-due"),
    path("account/token/", views.account_token, name="account-token"),
]
