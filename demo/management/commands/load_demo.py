from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.composer import COURSE_CODE, demo_load


class Command(BaseCommand):
    help = "Load the demo course (ICTSS00120, Session 12) with demo logins. Development only."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "load_demo creates users with printed passwords and only runs with DEBUG=1."
            )
        logins = demo_load()
        self.stdout.write(f"Demo course {COURSE_CODE} loaded. Logins (demo only):")
        for login in logins:
            self.stdout.write(f"  {login.role:<10} {login.username:<14} {login.password}")
