"""A certificate of service as an A4 PDF in the language chosen at issue (Kazakh or Russian), set in DejaVu Sans (every
Kazakh letter): the issuing police unit, the holder, their groups, the period, the figures frozen at issue, the
rewards, the issue date, places for the signature and the stamp, and the QR code of the public check page with the
short code printed under it.

What it prints is the certificate's own record, so a paper printed today and one printed next year say the same.
"""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from fpdf import FPDF, FontFace, XPos, YPos
from PIL import Image

from ..models import Certificate
from . import certificates
from .monthly_report import FONT, FONTS, GREY, fitted_widths

# The QR code: medium error correction survives a creased or stamped paper; each module is drawn as a block of pixels
# (no smoothing when the page is scaled) with the quiet zone of four modules the standard asks for.
QR_ERROR = "m"
QR_PIXELS_PER_MODULE = 10
QR_BORDER = 4
QR_SIZE_MM = 34
MUTED = (90, 98, 110)


def qr_code(url: str) -> segno.QRCode:
    return segno.make(url, error=QR_ERROR, micro=False)


def _qr_image(url: str) -> Image.Image:
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="png", scale=QR_PIXELS_PER_MODULE, border=QR_BORDER)
    buffer.seek(0)
    return Image.open(buffer).convert("L")


def _date(value) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def certificate_pdf(certificate: Certificate, *, compress: bool = True) -> bytes:
    """The certificate as a one-page A4 PDF in its own language, whoever downloads it."""
    with translation.override(certificate.language):
        return _pdf(certificate, compress=compress)


def _centred(pdf: FPDF, text: str, *, size: float, style: str = "", height: float = 6) -> None:
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(pdf.epw, height, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(pdf.epw, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _figures_table(pdf: FPDF, figures: dict) -> None:
    """One table: the patrols and meetings, then the verified reports by outcome under a line of their own."""
    headers = [_("Verified service"), _("Total")]
    widths = fitted_widths(pdf, headers, (pdf.epw - 35, 35), size=10)
    pdf.set_font(FONT, "", 10)
    with pdf.table(
        col_widths=widths,
        text_align=("LEFT", "RIGHT"),
        line_height=5,
        width=sum(widths),
        headings_style=FontFace(emphasis="BOLD", fill_color=GREY),
    ) as table:
        table.row(headers)
        for line in certificates.figure_lines(figures):
            table.row(list(line))
        table.row().cell(_("Verified reports by outcome"), colspan=2, style=FontFace(emphasis="BOLD"))
        for line in certificates.result_lines(figures):
            table.row(list(line))


def _pdf(certificate: Certificate, *, compress: bool) -> bytes:
    figures = certificate.figures or {}
    title = _("Certificate of service")
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.compress = compress
    # Dated by the issue, not the download: the same certificate gives the same file every time.
    pdf.set_creation_date(certificate.issued_at)
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"{title} {certificate.code}")
    pdf.set_subject(certificate.issuer)
    pdf.set_creator(_("Volunteer patrols"))
    pdf.set_lang(certificate.language)
    pdf.add_page()
    width = pdf.epw

    _centred(pdf, certificate.issuer, size=12, style="B")
    pdf.set_draw_color(*MUTED)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.l_margin + width, pdf.get_y() + 2)
    pdf.ln(6)
    _centred(pdf, title, size=18, style="B", height=9)
    _centred(pdf, _("No. %(code)s") % {"code": certificate.code}, size=10)
    pdf.ln(3)

    _centred(pdf, certificate.holder, size=15, style="B", height=8)
    groups = figures.get("groups") or []
    if groups:
        _centred(
            pdf,
            ngettext("Group: %(groups)s", "Groups: %(groups)s", len(groups)) % {"groups": ", ".join(groups)},
            size=11,
        )
    _centred(
        pdf,
        _("Period: %(start)s – %(end)s")
        % {"start": _date(certificate.period_start), "end": _date(certificate.period_end)},
        size=11,
    )
    pdf.ln(2)
    _centred(
        pdf,
        _("The police verified this volunteer's service in protecting public order in the period:"),
        size=10,
        height=5,
    )

    pdf.ln(4)
    _figures_table(pdf, figures)
    _heading(pdf, _("Rewards received in this period"))
    pdf.set_font(FONT, "", 10)
    for line in certificates.reward_lines(figures) or [_("No rewards in this period.")]:
        pdf.multi_cell(width, 5.5, line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 8)
    pdf.set_text_color(*MUTED)
    pdf.ln(1)
    pdf.multi_cell(
        width,
        4,
        _(
            "Hours are patrol hours from the kept check-in and check-out times; results are reports verified by the "
            "police. The figures are those of the day of issue."
        ),
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_text_color(0, 0, 0)

    # The signature, the stamp and the QR code stay together at the foot of the page.
    block = QR_SIZE_MM + 22
    if pdf.get_y() + block > pdf.h - pdf.b_margin:
        pdf.add_page()
    top = max(pdf.get_y() + 6, pdf.h - pdf.b_margin - block)
    _foot(pdf, certificate, top)
    return bytes(pdf.output())


def _foot(pdf: FPDF, certificate: Certificate, top: float) -> None:
    left = pdf.l_margin
    column = pdf.epw - QR_SIZE_MM - 8
    pdf.set_xy(left, top)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(
        column,
        5,
        _("Issued on %(date)s by %(issuer)s.")
        % {"date": _date(certificates.local_date(certificate.issued_at)), "issuer": certificate.issuer},
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    y = pdf.get_y() + 4
    pdf.set_xy(left, y)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(column, 6, _("Head of the police unit"))
    pdf.set_font(FONT, "", 9)
    for offset, label in ((13, _("Signature")), (23, _("Full name"))):
        pdf.set_xy(left, y + offset - 4)
        pdf.cell(24, 5, label)
        pdf.line(left + 24, y + offset, left + column * 0.62, y + offset)
    # The place for the stamp: a circle to the right of the signature, labelled as Kazakh and Russian papers are.
    radius = 12
    centre_x, centre_y = left + column * 0.62 + 6 + radius, y + 15
    pdf.set_draw_color(*MUTED)
    pdf.set_dash_pattern(dash=1, gap=1)
    pdf.circle(centre_x, centre_y, radius)
    pdf.set_dash_pattern()
    pdf.set_xy(centre_x - radius + 1, centre_y - 3.5)
    pdf.set_font(FONT, "", 7)
    pdf.multi_cell(2 * radius - 2, 3.5, _("Place for the stamp"), align="C")

    url = certificates.check_url(certificate.code)
    qr_left = pdf.l_margin + pdf.epw - QR_SIZE_MM
    pdf.image(_qr_image(url), x=qr_left, y=top, w=QR_SIZE_MM, h=QR_SIZE_MM)
    pdf.set_xy(qr_left - 6, top + QR_SIZE_MM)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(QR_SIZE_MM + 12, 5, certificate.code, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 7)
    pdf.set_text_color(*MUTED)
    check_page = settings.SITE_URL.rstrip("/") + reverse("certificate-check-form")
    pdf.multi_cell(
        QR_SIZE_MM + 12,
        3.5,
        _("To check it, scan the QR code, or open %(url)s and type the code.") % {"url": check_page},
        align="C",
    )
    pdf.set_text_color(0, 0, 0)
