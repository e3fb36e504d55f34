"""Celery tasks: each takes IDs, fetches what it needs again, and calls a service."""

from celery import shared_task
from celery.signals import worker_process_shutdown

from .services import (
    email_address,
    inbound,
    metrics,
    reminders,
    report_exports,
    retention,
    roster_import,
    scheduling,
    sos,
)
from .services import escalation as escalations


@worker_process_shutdown.connect
def close_mail_connection(**_kwargs) -> None:
    """A pool process that stops ends its kept connection to the mail server with QUIT instead of dropping it."""
    from .services import channels

    channels.close_mail_connection()


@shared_task
def run_roster_import(import_id: int) -> None:
    """Check and write an uploaded roster file (a finished import is left as it is)."""
    roster_import.roster_import_run(import_id=import_id)


@shared_task
def recover_roster_imports() -> dict:
    """Queue again (or fail, after a second stall) roster imports whose worker died halfway."""
    return roster_import.roster_imports_recover()


@shared_task
def run_report_export(export_id: int) -> str:
    """Write an export of reports (a job already running, finished or gone is left as it is)."""
    job = report_exports.report_export_run(export_id=export_id)
    return job.status if job else "gone"


@shared_task
def sweep_report_exports() -> dict:
    """Every minute: exports whose worker died queued again (or failed), expired ones deleted with their files."""
    deleted, _failed = retention.report_exports_prune()
    return {**report_exports.report_exports_recover(), "deleted": deleted}


@shared_task
def generate_series_shifts() -> int:
    """Generate the coming weeks' shifts of every active weekly series (idempotent)."""
    return scheduling.series_generate_all()


@shared_task
def close_finished_shifts() -> int:
    """Close shifts past their end and grace period; absentees become no-shows."""
    return scheduling.shifts_close_finished()


@shared_task
def flag_understaffed_shifts() -> int:
    """Tell inspectors about shifts starting within 24 hours below their minimum."""
    return scheduling.shifts_flag_understaffed()


@shared_task(soft_time_limit=60, time_limit=90)
def deliver(delivery_id: int) -> str:
    """Send one email or SMS delivery (a second worker given the same id does nothing)."""
    return reminders.delivery_send(delivery_id=delivery_id)


@shared_task(soft_time_limit=300, time_limit=330)
def deliver_many(delivery_ids: list[int]) -> dict:
    """Send a batch of deliveries queued together (the sweep's reminders): one task, one message through the broker,
    for DELIVERY_BATCH_SIZE of them."""
    return reminders.deliveries_send(delivery_ids=delivery_ids)


@shared_task(bind=True, max_retries=3, soft_time_limit=60, time_limit=90)
def send_email_confirmation(self, user_id: int) -> str:
    """Send the link that confirms a person's new email address; a mail server that fails is tried a few times."""
    try:
        return email_address.email_confirmation_send(user_id=user_id)
    except email_address.ConfirmationNotSent as error:
        raise self.retry(exc=error, countdown=60 * (self.request.retries + 1)) from None


@shared_task(soft_time_limit=90, time_limit=120)
def send_escalation(escalation_id: int) -> str:
    """One attempt to reach the duty unit with an escalated report (a second worker given it does nothing)."""
    return escalations.escalation_send(escalation_id=escalation_id)


@shared_task
def retry_escalations() -> int:
    """Every 30 seconds: escalations whose next attempt is due (their task lost, or the broker down)."""
    return escalations.escalations_retry()


@shared_task
def escalate_sos(alarm_id: int) -> int:
    """An alarm's acknowledgement window has closed: to the next tier unless someone has it (idempotent)."""
    return sos.alarms_escalate_due(alarm_id=alarm_id)


@shared_task(soft_time_limit=60, time_limit=90)
def send_sos_dispatch(dispatch_id: int) -> str:
    """Send one message about an alarm to a duty unit (a second worker given the same id does nothing)."""
    return sos.dispatch_send(dispatch_id=dispatch_id)


@shared_task
def sweep_sos() -> dict:
    """Every 10 seconds: alarms past their window escalated, lost messages queued again, "I'm OK" check-ins."""
    result = sos.sos_sweep()
    metrics.sweep_succeeded("sos")
    return result


@shared_task
def sweep_notifications() -> dict:
    """Every minute: due reminders, missing check-ins, and pending deliveries queued again."""
    result = reminders.sweep()
    metrics.sweep_succeeded("notifications")
    return result


@shared_task
def send_inspector_digests() -> int:
    return reminders.inspector_digests()


@shared_task
def send_chief_summaries() -> int:
    return reminders.chief_summaries()


@shared_task
def apply_retention() -> dict:
    """Daily: anonymise volunteers, remove details of other people and delete roster files past their period."""
    return retention.retention_apply().as_dict()


@shared_task(soft_time_limit=60, time_limit=90)
def handle_inbound(inbound_id: int) -> str:
    """Act on one reply, button tap or delivery status from a messenger or the SMS gateway (once)."""
    return inbound.inbound_handle(inbound_id=inbound_id)


@shared_task
def sweep_inbound() -> dict:
    """Every 10 seconds: replies no worker took (the broker was down) handled, answers not sent sent again."""
    return inbound.inbound_sweep()
