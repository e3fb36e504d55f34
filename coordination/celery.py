"""The Celery app: configuration from Django settings (CELERY_*), tasks discovered in the apps."""

import os

from celery import Celery
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordination.settings")

app = Celery("coordination")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_postrun.connect
def close_old_connections(task=None, **_kwargs) -> None:
    """After a task, as Django does after a request: a connection past CONN_MAX_AGE or broken is closed (the next
    task opens a new one); a sound one is kept. Not inside a task run eagerly, which is inside the caller's work."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections as close_if_old

    close_if_old()
