# The local .env (`make run` writes it) is read when the `config` package is first imported,
# before anything reads the settings: manage.py, `celery -A config`, WSGI/ASGI all come here.
from config.env import load_env_file

load_env_file()

from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
