from django.urls import path

from gradebook import mastery_views

urlpatterns = [
    path("courses/<str:code>/objectives/", mastery_views.objectives, name="gradebook-objectives"),
    path(
        "courses/<str:code>/objectives/tags/",
        mastery_views.tagging,
        name="gradebook-objective-tags",
    ),
    path(
        "courses/<str:code>/objectives/tags/<int:number>/",
        mastery_views.tagging_save,
        name="gradebook-objective-tags-save",
    ),
]
