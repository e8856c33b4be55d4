from django.contrib import admin

from labs.models import HeldOutDataset, Lab, Submission


@admin.register(Lab)
class LabAdmin(admin.ModelAdmin):
    list_display = ("title", "session", "primary_metric", "opens_at", "closes_at")
    list_filter = ("session__course",)


# File fields are listed by stored name only: private storage refuses to make URLs, which is
# what the admin's file widget would ask for.
@admin.register(HeldOutDataset)
class HeldOutDatasetAdmin(admin.ModelAdmin):
    list_display = ("lab", "version", "format", "row_count", "checksum", "created_at")
    exclude = ("file",)
    readonly_fields = ("stored_as", "row_count", "checksum", "label_counts")

    @admin.display(description="stored as")
    def stored_as(self, obj: HeldOutDataset) -> str:
        return obj.file.name

    def has_add_permission(self, request) -> bool:
        return False  # uploads go through heldout_dataset_create, which validates them


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "lab", "student", "status", "error_code", "attempts", "created_at")
    list_filter = ("status", "error_code", "lab")
    exclude = ("artifact",)
    readonly_fields = [f.name for f in Submission._meta.fields if f.name != "artifact"]

    def has_add_permission(self, request) -> bool:
        return False
