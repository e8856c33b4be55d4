from django.apps import AppConfig


class GradebookConfig(AppConfig):
    name = "gradebook"

    def ready(self) -> None:
        # Connects the grade-event receivers (core.events, Membership saves).
        from gradebook import receivers  # noqa: F401
