from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from demo.composer import COURSE_CODE, demo_load
from labs.demo import LAB_TITLE
from labs.models import Lab
from quizzes.demo import DEMO_QUIZ_TITLE
from quizzes.models import Quiz


class Command(BaseCommand):
    help = "Load the demo course (ICTSS00120, Session 12) with demo logins. Development only."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "load_demo creates users with printed passwords and only runs with DEBUG=1."
            )
        logins = demo_load()
        quiz = Quiz.objects.filter(session__course__code=COURSE_CODE, title=DEMO_QUIZ_TITLE).first()
        if quiz is not None:
            self.stdout.write(
                f"Demo quiz: {quiz.title} ({quiz.slots.count()} questions, "
                f"{quiz.attempts_allowed} attempts) at {reverse('quiz-detail', args=[quiz.pk])}"
            )
        lab = Lab.objects.filter(session__course__code=COURSE_CODE, title=LAB_TITLE).first()
        if lab is not None:
            self.stdout.write(
                f"Demo lab: {lab.title} at {reverse('labs:lab-detail', args=[lab.pk])}"
            )
        self.stdout.write(f"Demo course {COURSE_CODE} loaded. Logins (demo only):")
        for login in logins:
            self.stdout.write(f"  {login.role:<10} {login.username:<14} {login.password}")
