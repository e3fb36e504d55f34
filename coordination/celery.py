"""The Celery app: configuration from Django settings (CELERY_*), tasks discovered in the apps."""

import logging
import os
import time

from celery import Celery
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun

from . import logs

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


@setup_logging.connect
def configure_logging(**_kwargs) -> None:
    """Workers and beat log as the web does (settings.LOGGING: JSON lines in production), not in Celery's format."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


# The header that carries the id (and user) of the request or task that queued a task, to the worker's log lines.
REQUEST_ID_HEADER, USER_ID_HEADER = "patrol_request_id", "patrol_user_id"
task_logger = logging.getLogger("patrols.task")
_running: dict[str, tuple] = {}


@before_task_publish.connect
def pass_request_id(headers: dict | None = None, **_kwargs) -> None:
    """A task queued while a request or another task is worked on carries that one's id and user."""
    current = logs.request_id.get()
    if headers is None or current is None:
        return
    headers[REQUEST_ID_HEADER] = current
    user_id = logs.current_user_id()
    if user_id is not None:
        headers[USER_ID_HEADER] = user_id


def _header(task, name: str):
    request = task.request
    value = getattr(request, name, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(name)
    return value


@task_prerun.connect
def task_started(task_id: str | None = None, task=None, **_kwargs) -> None:
    """The task's lines carry the id of the request that queued it (a new one for beat's), and its user."""
    if task is None or task_id is None:
        return
    request_id = _header(task, REQUEST_ID_HEADER) or logs.request_id.get() or logs.new_request_id()
    user_id = _header(task, USER_ID_HEADER)
    if user_id is None:
        user_id = logs.current_user_id()
    tokens = (logs.request_id.set(request_id), logs.request_user.set(lambda: user_id))
    _running[task_id] = (tokens, user_id, time.perf_counter())


@task_postrun.connect
def task_finished(task_id: str | None = None, task=None, state: str | None = None, **_kwargs) -> None:
    """One line a task: its name, id, outcome and time, never its arguments (Celery's own line beside it says what
    it returned: tasks return counts and statuses, and tests read them)."""
    started = _running.pop(task_id, None) if task_id is not None else None
    if started is None or task is None:
        return
    (id_token, user_token), user_id, at = started
    seconds = time.perf_counter() - at
    task_logger.info(
        "%s %s %.1f ms",
        task.name,
        state,
        seconds * 1000,
        extra={
            "task": task.name,
            "task_id": task_id,
            "user_id": user_id,
            "status": state,
            "duration_ms": round(seconds * 1000, 1),
        },
    )
    logs.request_user.reset(user_token)
    logs.request_id.reset(id_token)
