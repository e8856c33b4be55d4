from django.contrib import admin

from courseware.models import (
    Course,
    HomeworkCompletion,
    HomeworkTask,
    LearningObjective,
    Membership,
    Session,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "created_at")
    search_fields = ("code", "title")
    inlines = [MembershipInline]


class ObjectiveInline(admin.TabularInline):
    model = LearningObjective
    extra = 0


class HomeworkInline(admin.TabularInline):
    model = HomeworkTask
    extra = 0


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("course", "number", "title", "lecturer", "date")
    list_filter = ("course",)
    inlines = [ObjectiveInline, HomeworkInline]
    readonly_fields = ("slides_html", "speaker_notes")


@admin.register(HomeworkCompletion)
class HomeworkCompletionAdmin(admin.ModelAdmin):
    list_display = ("task", "student", "created_at")
