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
    path("courses/<str:code>/gradebook/settings/", views.setup, name="gradebook-setup"),
    path(
        "courses/<str:code>/gradebook/settings/save/",
        views.settings_update,
        name="gradebook-settings-update",
    ),
    path(
        "courses/<str:code>/gradebook/categories/new/",
        views.category_save,
        name="gradebook-category-create",
    ),
    path(
        "courses/<str:code>/gradebook/categories/<int:category_id>/",
        views.category_save,
        name="gradebook-category-update",
    ),
    path(
        "courses/<str:code>/gradebook/categories/<int:category_id>/delete/",
        views.category_delete,
        name="gradebook-category-delete",
    ),
    path(
        "courses/<str:code>/gradebook/items/<int:item_id>/",
        views.item_update,
        name="gradebook-item-update",
    ),
    path(
        "courses/<str:code>/gradebook/export/<str:fmt>.csv", views.export, name="gradebook-export"
    ),
]
