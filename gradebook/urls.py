from django.urls import path

from gradebook import views

urlpatterns = [
    path("courses/<str:code>/gradebook/", views.gradebook, name="gradebook"),
    path("courses/<str:code>/gradebook/what-if/", views.what_if, name="gradebook-what-if"),
    path(
        "courses/<str:code>/gradebook/items/new/", views.item_create, name="gradebook-item-create"
    ),
    path(
        "courses/<str:code>/gradebook/items/<int:item_id>/release/",
        views.item_release,
        name="gradebook-item-release",
    ),
    path(
        "courses/<str:code>/gradebook/items/<int:item_id>/import/",
        views.scores_import,
        name="gradebook-scores-import",
    ),
    path(
        "courses/<str:code>/gradebook/cells/<int:item_id>/<int:student_id>/",
        views.cell,
        name="gradebook-cell",
    ),
    path(
        "courses/<str:code>/gradebook/export/<str:fmt>.csv", views.export, name="gradebook-export"
    ),
]
