"""Admin views for support work. Attempts are read-mostly here: grading, regrading and
time limits go through the services, which the admin's plain save() would bypass."""

from django.contrib import admin

from quizzes.models import (
    Attempt,
    AttemptQuestion,
    Question,
    QuestionCategory,
    QuestionVersion,
    Quiz,
    QuizOverride,
    QuizSlot,
    RegradeRecord,
)


@admin.register(QuestionCategory)
class QuestionCategoryAdmin(admin.ModelAdmin):
    list_display = ("course", "path")
    list_filter = ("course",)
    search_fields = ("path",)


class QuestionVersionInline(admin.TabularInline):
    model = QuestionVersion
    extra = 0
    can_delete = False
    readonly_fields = ("number", "content", "created_at")


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("name", "qtype", "category", "course", "idnumber")
    list_filter = ("course", "qtype")
    search_fields = ("name", "idnumber")
    raw_id_fields = ("current_version",)
    filter_horizontal = ("objectives",)
    inlines = [QuestionVersionInline]


class QuizSlotInline(admin.TabularInline):
    model = QuizSlot
    extra = 0
    raw_id_fields = ("question", "category")


class QuizOverrideInline(admin.TabularInline):
    model = QuizOverride
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ("title", "session", "opens_at", "closes_at", "time_limit", "visible")
    list_filter = ("session__course", "visible")
    search_fields = ("title",)
    inlines = [QuizSlotInline, QuizOverrideInline]


class AttemptQuestionInline(admin.TabularInline):
    model = AttemptQuestion
    extra = 0
    can_delete = False
    fields = ("position", "question", "version", "state", "mark", "max_mark", "response")
    readonly_fields = fields


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ("quiz", "user", "number", "state", "score", "max_score", "submitted_at")
    list_filter = ("state", "quiz__session__course")
    search_fields = ("user__username", "quiz__title")
    readonly_fields = ("started_at", "deadline", "submitted_at", "score", "max_score")
    inlines = [AttemptQuestionInline]


@admin.register(RegradeRecord)
class RegradeRecordAdmin(admin.ModelAdmin):
    list_display = ("attempt_question", "old_mark", "new_mark", "regraded_by", "created_at")
    readonly_fields = [f.name for f in RegradeRecord._meta.fields]
