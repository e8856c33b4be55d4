from django.contrib import admin

from accounts.models import Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "preferred_name", "display_name", "student_id", "invited_at")
    search_fields = ("user__username", "user__email", "preferred_name", "student_id")
    list_select_related = ("user",)
    raw_id_fields = ("user", "invited_by")
    readonly_fields = ("invited_at", "invited_by", "created_at", "updated_at")
