from django.urls import path

from offerings import views

urlpatterns = [
    path("courses/<str:code>/copy/", views.course_copy, name="course-copy"),
]
