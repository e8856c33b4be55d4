from django.urls import path

from accounts import views

# Django's own names for its password views (its templates and views reverse them).
urlpatterns = [
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/invitation/<uidb64>/<token>/",
        views.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path("accounts/profile/", views.profile, name="profile"),
    path(
        "accounts/email/confirm/<str:token>/",
        views.email_change_confirm,
        name="email-change-confirm",
    ),
    path(
        "accounts/signup/confirm/<uidb64>/<token>/",
        views.signup_confirm,
        name="signup-confirm",
    ),
]
