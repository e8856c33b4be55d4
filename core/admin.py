from django.contrib import admin

from core.models import WorkerPing


@admin.register(WorkerPing)
class WorkerPingAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "answered_at", "worker_host")
