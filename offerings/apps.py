from django.apps import AppConfig


class OfferingsConfig(AppConfig):
    """Copying an offering into a new term: above courseware, quizzes and labs, each of which
    copies its own content. No models of its own."""

    name = "offerings"
    verbose_name = "Offerings"
