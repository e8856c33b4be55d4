from django.urls import include, path

urlpatterns = [
    path("", include("courseware.api_urls")),
    path("", include("labs.api_urls")),
    path("", include("quizzes.api_urls")),
    path("", include("offerings.api_urls")),
    path("", include("gradebook.api_urls")),
    path("", include("gradebook.mastery_api_urls")),
]
