from django.contrib import admin

from lti.models import CourseLink, LaunchFailure, LinkTarget, Placement, Platform, ScoreSync


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ("registration", "frame_origins", "registered_by", "created_at")


@admin.register(CourseLink)
class CourseLinkAdmin(admin.ModelAdmin):
    # Instructors switch send_provisional on the course's LMS page; staff may here too.
    list_display = ("context", "course", "send_provisional")
    list_editable = ("send_provisional",)


@admin.register(ScoreSync)
class ScoreSyncAdmin(admin.ModelAdmin):
    list_display = ("student", "resource", "score_given", "version", "sent_version", "state")
    list_filter = ("state",)


@admin.register(LaunchFailure)
class LaunchFailureAdmin(admin.ModelAdmin):
    list_display = ("created_at", "issuer", "failed_check", "message")
    list_filter = ("failed_check",)


admin.site.register(LinkTarget)
admin.site.register(Placement)
