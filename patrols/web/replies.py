"""One-tap answers from a reminder: the link opens a page, and only its button acts (mail scanners open links)."""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..services import reminders


@require_http_methods(["GET", "POST"])
def reply(request, token: str):
    """No sign-in needed: the signed, expiring token names the sign-up and the answer."""
    try:
        assignment, answer = reminders.reply_read(token)
    except ValidationError as error:
        return render(request, "patrols/reply.html", {"error": " ".join(error.messages)}, status=400)
    context = {"assignment": assignment, "answer": answer, "shift": assignment.shift}
    if request.method == "POST":
        try:
            reminders.reply_use(token)
        except ValidationError as error:
            context["error"] = " ".join(error.messages)
            return render(request, "patrols/reply.html", context, status=400)
        context["done"] = (
            _("Thank you: the inspector knows you are coming.")
            if answer == reminders.REPLY_COMING
            else _("Your seat is freed; the next person on the waiting list takes it.")
        )
    return render(request, "patrols/reply.html", context)
