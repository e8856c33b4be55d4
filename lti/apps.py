from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "lti"
    verbose_name = "LTI 1.3 (Canvas, Moodle)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from lti import receivers  # noqa: F401 (connects the grade-event receivers)
