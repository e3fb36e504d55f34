"""Seed the managed lists: offense categories volunteers commonly meet, and the five outcomes."""

from django.db import migrations

CATEGORIES = [
    ("petty_hooliganism", "Ұсақ бұзақылық", "Мелкое хулиганство", "Petty hooliganism"),
    ("public_disorder", "Қоғамдық тәртіпті бұзу", "Нарушение общественного порядка", "Public disorder"),
    ("public_drinking", "Қоғамдық орында ішімдік ішу", "Распитие алкоголя в общественном месте", "Drinking in public"),
    ("littering", "Қоқыс тастау", "Загрязнение территории мусором", "Littering"),
    ("drugs", "Есірткі", "Наркотики", "Drugs"),
    ("theft", "Ұрлық", "Кража", "Theft"),
    ("livestock_theft", "Мал ұрлығы", "Кража скота", "Livestock theft"),
    ("domestic_violence", "Тұрмыстық зорлық-зомбылық", "Бытовое насилие", "Domestic violence"),
    (
        "minors_at_night",
        "Түнгі уақытта ересектерсіз жүрген кәмелетке толмағандар",
        "Несовершеннолетние без взрослых в ночное время",
        "Minors out at night",
    ),
    ("road_safety", "Жол жүрісі қауіпсіздігі", "Безопасность дорожного движения", "Road safety"),
    ("fraud", "Алаяқтық", "Мошенничество", "Fraud"),
    ("vandalism", "Вандализм", "Вандализм", "Vandalism"),
    ("missing_person", "Хабар-ошарсыз кеткен адам", "Пропавший без вести человек", "Missing person"),
    ("other", "Басқа", "Другое", "Other"),
]

OUTCOMES = [
    ("prevented", "Құқық бұзушылықтың алдын алынды", "Предотвращено правонарушение", "Offense prevented", False),
    ("solved", "Қылмысты ашуға көмектесті", "Оказана помощь в раскрытии преступления", "Helped solve a crime", True),
    (
        "handed_over",
        "Құқық бұзушы полицияға тапсырылды",
        "Правонарушитель передан полиции",
        "Offender handed to the police",
        False,
    ),
    ("assistance", "Азаматқа көмек көрсетілді", "Оказана помощь гражданину", "Help to a citizen", False),
    ("info", "Полицияға ақпарат берілді", "Передана информация в полицию", "Signal for the police", False),
]


def seed(apps, schema_editor):
    Category = apps.get_model("patrols", "Category")
    Outcome = apps.get_model("patrols", "Outcome")
    for order, (code, kk, ru, en) in enumerate(CATEGORIES, start=1):
        Category.objects.update_or_create(
            code=code, defaults={"name_kk": kk, "name_ru": ru, "name_en": en, "sort_order": order * 10}
        )
    for order, (code, kk, ru, en, needs_case) in enumerate(OUTCOMES, start=1):
        Outcome.objects.update_or_create(
            code=code,
            defaults={
                "name_kk": kk,
                "name_ru": ru,
                "name_en": en,
                "sort_order": order * 10,
                "requires_case_number": needs_case,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("patrols", "0004_reports")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
