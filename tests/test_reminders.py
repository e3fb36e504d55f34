"""Reminders and deliveries, in-process: the sweep's rules, quiet hours, languages, retries, one-tap answers.

The guarantees against a real worker, broker and SMTP server are in test_delivery_worker.py.
"""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from patrols.models import Assignment, Delivery, Notification, NotificationPreference
from patrols.services import reminders, scheduling
from patrols.services.notifications import notify
from tests.factories import MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory
from tests.support.ports import wait_until
from tests.support.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db


@pytest.fixture
def night_shift(zone, group, inspector):
    """A shift starting in 30 hours, so that the 24 h and the 2 h reminders are both still ahead."""
    starts = timezone.now() + datetime.timedelta(hours=30)
    return ShiftFactory(
        zone=zone, inspector=inspector, groups=[group], starts_at=starts, ends_at=starts + datetime.timedelta(hours=5)
    )


@pytest.fixture
def aigerim(group):
    """A registered volunteer with an email address, reading in Russian."""
    user = UserFactory(username="aigerim", email="aigerim@example.kz", language="ru")
    person = VolunteerFactory(district=group.district, user=user, phone="+77015550101")
    MembershipFactory(volunteer=person, group=group)
    return user


def sign_up(shift, user) -> Assignment:
    return scheduling.shift_signup(shift=shift, volunteer=user.volunteer, by=user)


def test_each_reminder_moment_is_created_once(night_shift, aigerim):
    assignment = sign_up(night_shift, aigerim)
    before_24h = night_shift.starts_at - datetime.timedelta(hours=25)
    assert reminders.sweep(now=before_24h)["reminders"] == 0
    at_24h = night_shift.starts_at - datetime.timedelta(hours=23, minutes=59)
    assert reminders.sweep(now=at_24h)["reminders"] == 1
    assert reminders.sweep(now=at_24h + datetime.timedelta(minutes=1))["reminders"] == 0
    at_2h = night_shift.starts_at - datetime.timedelta(hours=1, minutes=59)
    assert reminders.sweep(now=at_2h)["reminders"] == 1
    keys = set(Notification.objects.filter(user=aigerim).values_list("key", flat=True))
    assert keys == {f"reminder:{assignment.pk}:24h", f"reminder:{assignment.pk}:2h"}
    assert Delivery.objects.filter(user=aigerim, channel="email").count() == 2
    assert Delivery.objects.filter(user=aigerim, channel="sms").count() == 2


def test_when_several_moments_have_passed_only_the_latest_is_sent(night_shift, aigerim):
    assignment = sign_up(night_shift, aigerim)
    late = night_shift.starts_at - datetime.timedelta(minutes=50)
    assert reminders.sweep(now=late)["reminders"] == 1
    assert list(Notification.objects.filter(user=aigerim).values_list("key", flat=True)) == [
        f"reminder:{assignment.pk}:2h"
    ]


def test_a_started_or_cancelled_shift_gets_no_reminder(night_shift, aigerim, inspector):
    sign_up(night_shift, aigerim)
    assert reminders.sweep(now=night_shift.starts_at + datetime.timedelta(minutes=1))["reminders"] == 0
    reminders.sweep(now=night_shift.starts_at - datetime.timedelta(hours=23))
    delivery = Delivery.objects.get(user=aigerim, channel="email", notification__kind="shift_reminder")
    scheduling.shift_cancel(shift=night_shift, by=inspector, reason="Дауыл")
    assert reminders.delivery_send(delivery_id=delivery.pk) == "skipped"
    assert not [m for m in mail.outbox if "reminder" in m.subject.lower() or "Патруль" in m.subject]


def test_a_reminder_goes_out_in_the_readers_language_with_one_tap_answers(night_shift, aigerim):
    sign_up(night_shift, aigerim)
    reminders.sweep(now=night_shift.starts_at - datetime.timedelta(hours=23))
    delivery = Delivery.objects.get(user=aigerim, channel="email")
    assert reminders.delivery_send(delivery_id=delivery.pk) == "sent"
    assert reminders.delivery_send(delivery_id=delivery.pk) == "sent"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["aigerim@example.kz"]
    assert "Патруль" in message.subject
    assert night_shift.zone.name in message.body
    assert "/reply/" in message.body
    html = message.alternatives[0][0]
    assert "Я приду" in html and "Не смогу прийти" in html
    assert message.extra_headers["Message-ID"].startswith(f"<delivery-{delivery.pk}@")


def test_sms_waits_for_the_end_of_quiet_hours_unless_urgent(night_shift, aigerim, settings):
    NotificationPreference.objects.create(
        user=aigerim, quiet_start=datetime.time(0, 0), quiet_end=datetime.time(23, 59, 59)
    )
    sign_up(night_shift, aigerim)
    reminders.sweep(now=night_shift.starts_at - datetime.timedelta(hours=23))
    sms = Delivery.objects.get(user=aigerim, channel="sms")
    assert sms.not_before is not None
    assert reminders.delivery_send(delivery_id=sms.pk) == "later"
    urgent = notify(users=[aigerim], kind="checkin_missing", shift=night_shift, assignment=0)[0]
    assert Delivery.objects.get(notification=urgent, channel="sms").not_before is None


def test_channels_follow_the_persons_choice(night_shift, aigerim):
    NotificationPreference.objects.create(user=aigerim, email_enabled=False, sms_enabled=True)
    notify(users=[aigerim], kind="report_verified")
    assert not Delivery.objects.filter(user=aigerim).exists()
    notify(users=[aigerim], kind="promoted", shift=night_shift)
    assert list(Delivery.objects.filter(user=aigerim).values_list("channel", flat=True)) == ["sms"]


def test_a_failing_delivery_is_retried_with_backoff_then_recorded_as_failed(night_shift, aigerim, settings, web):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    settings.DELIVERY_MAX_ATTEMPTS = 3
    notification = notify(users=[aigerim], kind="report_verified")[0]
    delivery = Delivery.objects.get(notification=notification)
    assert reminders.delivery_send(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_error and delivery.not_before > timezone.now()
    for _attempt in range(2):
        Delivery.objects.filter(pk=delivery.pk).update(not_before=None)
        outcome = reminders.delivery_send(delivery_id=delivery.pk)
    assert outcome == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert list(reminders.failed_deliveries_for(night_shift.inspector)) == [delivery]
    assert delivery in web(night_shift.inspector).get("/").context["failed_deliveries"]


def test_i_cant_come_frees_the_seat_and_promotes_the_waiting_list(night_shift, aigerim, group):
    night_shift.min_volunteers = night_shift.max_volunteers = 1
    night_shift.save()
    mine = sign_up(night_shift, aigerim)
    other = UserFactory(username="dana")
    waiting_person = VolunteerFactory(district=group.district, user=other)
    MembershipFactory(volunteer=waiting_person, group=group)
    waiting = sign_up(night_shift, other)
    token = reminders.reply_token(assignment=mine, answer="decline")
    reminders.reply_use(token)
    mine.refresh_from_db()
    waiting.refresh_from_db()
    assert (mine.status, waiting.status) == ("cancelled", "signed_up")
    with pytest.raises(ValidationError):
        reminders.reply_use(token)


def test_im_coming_is_recorded_once_and_forged_links_are_refused(night_shift, aigerim):
    mine = sign_up(night_shift, aigerim)
    token = reminders.reply_token(assignment=mine, answer="coming")
    assert reminders.reply_use(token).coming_at is not None
    with pytest.raises(ValidationError):
        reminders.reply_use(token)
    with pytest.raises(ValidationError):
        reminders.reply_use(token[:-3] + "abc")


def test_a_link_expires_when_the_shift_starts(zone, group, inspector, aigerim):
    soon = ShiftFactory(
        zone=zone,
        inspector=inspector,
        groups=[group],
        starts_at=timezone.now() + datetime.timedelta(minutes=1),
        ends_at=timezone.now() + datetime.timedelta(hours=3),
    )
    mine = sign_up(soon, aigerim)
    token = reminders.reply_token(assignment=mine, answer="coming")
    type(soon).objects.filter(pk=soon.pk).update(starts_at=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(ValidationError):
        reminders.reply_use(token)


def test_missing_check_ins_are_told_to_the_volunteer_then_the_inspector(zone, group, inspector, aigerim):
    starts = timezone.now() + datetime.timedelta(minutes=5)
    shift = ShiftFactory(
        zone=zone, inspector=inspector, groups=[group], starts_at=starts, ends_at=starts + datetime.timedelta(hours=4)
    )
    sign_up(shift, aigerim)
    reminders.sweep(now=starts + datetime.timedelta(minutes=16))
    assert Notification.objects.filter(user=aigerim, kind="checkin_missing").count() == 1
    assert not Notification.objects.filter(user=inspector, kind="checkin_missing_inspector").exists()
    reminders.sweep(now=starts + datetime.timedelta(minutes=31))
    reminders.sweep(now=starts + datetime.timedelta(minutes=32))
    assert Notification.objects.filter(user=aigerim, kind="checkin_missing").count() == 1
    assert Notification.objects.filter(user=inspector, kind="checkin_missing_inspector").count() == 1


def test_digests_and_summaries_come_once_a_day_and_once_a_week(inspector, chief):
    assert reminders.inspector_digests() == 1
    assert reminders.inspector_digests() == 0
    assert reminders.chief_summaries() == 1
    assert reminders.chief_summaries() == 0
    digest = Notification.objects.get(user=inspector, kind="inspector_digest")
    assert set(digest.details) == {"waiting", "shifts", "understaffed"}


def test_the_answer_page_acts_only_on_its_button(client, night_shift, aigerim):
    mine = sign_up(night_shift, aigerim)
    url = f"/reply/{reminders.reply_token(assignment=mine, answer='decline')}/"
    page = client.get(url)
    assert page.status_code == 200
    mine.refresh_from_db()
    assert mine.status == "signed_up"
    assert client.post(url).status_code == 200
    mine.refresh_from_db()
    assert mine.status == "cancelled"
    assert client.post(url).status_code == 400
    assert client.get("/reply/not-a-token/").status_code == 400


def test_the_inbox_lists_my_messages_and_marks_them_read(web, aigerim, night_shift, volunteer):
    mine = notify(users=[aigerim], kind="promoted", shift=night_shift)[0]
    notify(users=[volunteer], kind="report_verified")
    client = web(aigerim)
    page = client.get("/notifications/")
    assert [n.pk for n, _message in page.context["items"]] == [mine.pk]
    response = client.post(f"/notifications/{mine.pk}/read/")
    assert response.status_code == 302 and f"/shifts/{night_shift.pk}/" in response["Location"]
    mine.refresh_from_db()
    assert mine.read
    others = Notification.objects.get(user=volunteer)
    assert client.post(f"/notifications/{others.pk}/read/").status_code == 404


def test_people_choose_channels_quiet_hours_and_lead_times(web, aigerim):
    client = web(aigerim)
    response = client.post(
        "/settings/notifications/",
        {"email_enabled": "on", "quiet_start": "23:00", "quiet_end": "06:30", "reminder_leads": "48, 3"},
    )
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=aigerim)
    assert (preference.sms_enabled, preference.reminder_leads) == (False, [48, 3])
    assert preference.quiet_start == datetime.time(23, 0)
    bad = client.post("/settings/notifications/", {"quiet_start": "23:00", "quiet_end": "06:30", "reminder_leads": "x"})
    assert bad.status_code == 200
    preference.refresh_from_db()
    assert preference.reminder_leads == [48, 3]


def test_emails_in_a_row_share_one_connection_and_one_the_server_dropped_is_replaced(settings, night_shift, group):
    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    try:
        people = []
        for i in range(4):
            user = UserFactory(username=f"row{i}", email=f"row{i}@example.kz", language="kk")
            MembershipFactory(volunteer=VolunteerFactory(district=group.district, user=user), group=group)
            people.append(user)
        for user in people[:3]:
            sign_up(night_shift, user)  # "you signed up" needs no email; the reminders below are sent one by one
        reminders.sweep(now=night_shift.starts_at - datetime.timedelta(hours=20))
        emails = list(Delivery.objects.filter(channel="email").order_by("pk"))
        assert [reminders.delivery_send(delivery_id=d.pk) for d in emails] == ["sent"] * 3
        assert len({received.peer for received in sink.messages()}) == 1, "one connection for the three"

        sink.hang_up()
        wait_until(lambda: not any(s.transport for s in sink.handler.sessions()), timeout=5, what="the hang-up")
        sign_up(night_shift, people[3])
        reminders.sweep(now=night_shift.starts_at - datetime.timedelta(hours=20))
        (last,) = Delivery.objects.filter(channel="email", user=people[3])
        assert reminders.delivery_send(delivery_id=last.pk) == "sent"
        last.refresh_from_db()
        assert last.attempts == 1 and last.last_error == ""
        assert sorted(received.to for received in sink.messages()) == [f"row{i}@example.kz" for i in range(4)]
        assert len({received.peer for received in sink.messages()}) == 2
    finally:
        sink.stop()
