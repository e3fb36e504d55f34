"""The demo's reports: a year of them in every state, most filed on the past year's completed patrols, some outside any
shift, with the flags `reporting.report_flags` would have given them, and the story district's newest ones waiting
in the demo inspector's queue. Seeded by natural keys and saved under `client_uuid` = uuid5 of such a key, so a
second run creates nothing.
"""

from __future__ import annotations

import bisect
import datetime
import math
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.utils import timezone

from ..choices import (
    AssignmentStatus,
    AutoReason,
    GroupKind,
    OutcomeCode,
    ReportEventKind,
    ReportFlag,
    ReportStatus,
    ZoneKind,
)
from ..clock import LOCAL_TZ
from ..models import (
    Assignment,
    Category,
    District,
    Group,
    Membership,
    Outcome,
    Report,
    ReportEvent,
    Settlement,
    User,
    Volunteer,
    Zone,
)
from ..services.attendance import checkin_tolerance_m
from ..services.geometry import distance_m
from ..services.reporting import country_outline, flags_for
from .country import SEED, STORY_DISTRICT, STORY_REGION
from .loader import existing_reports, insert_rows
from .people import KK_MEN, KK_SURNAMES, KK_WOMEN, MOBILE_PREFIXES, RU_MEN, RU_SURNAMES, RU_WOMEN
from .schedule import HISTORY_DAYS, _Frame, _patrol_plan, _Roster, _ZoneSpot

# uuid5 namespace of the demo's report ids (client_uuid): a report's natural key names it.
REPORT_NAMESPACE = uuid.UUID("5d0c6a8e-7b1f-5e42-9c3d-2a6f4b8e1d07")

# Reports a year: a district's at the average, Talgar's (the story), and the story region's lift.
DISTRICT_YEARLY = 60
STORY_YEARLY = 900
STORY_REGION_LIFT = 1.3
# Share of the reports filed on a shift (the rest outside any), and the most one volunteer files on one shift.
ON_SHIFT_SHARE = 0.85
MOST_PER_DUTY = 4
MOST_PER_DUTY_RATE = 2.5
# The demo volunteer writes up more than most; student squads file most on the shifts that run past 22:00 (curfew
# for minors), less on the early ones.
STORY_VOLUNTEER_LIFT = 1.6
SQUAD_LATE_LIFT, SQUAD_EARLY_DROP = 1.8, 0.5
CURFEW, CURFEW_ENDS = datetime.time(22), datetime.time(6)
# January to December, a mean of 1: more in the summer evenings, fewer in the frosts.
SEASON = (0.65, 0.65, 0.8, 0.95, 1.15, 1.35, 1.45, 1.4, 1.1, 0.95, 0.8, 0.75)
# Shares of on-shift reports pinned outside the zone, from a stale GPS fix (implausibly fast), and seen twice.
OUTSIDE_SHARE = 0.05
STALE_FIX_SHARE = 0.003
TWIN_SHARE = 0.008
# The languages of the demo's texts, by index: Kazakh and Russian.
LANGUAGES = ("kk", "ru")
# Reports of the story district waiting for the demo inspector.
STORY_QUEUE = 24

CATEGORY_WEIGHTS = {
    GroupKind.SARBAZ: {
        "livestock_theft": 40,
        "theft": 10,
        "public_drinking": 9,
        "road_safety": 8,
        "petty_hooliganism": 8,
        "domestic_violence": 6,
        "minors_at_night": 5,
        "missing_person": 3,
        "drugs": 3,
        "fraud": 3,
        "other": 5,
    },
    GroupKind.SAKSHY: {
        "theft": 15,
        "livestock_theft": 14,
        "public_drinking": 15,
        "petty_hooliganism": 15,
        "minors_at_night": 10,
        "domestic_violence": 8,
        "road_safety": 8,
        "littering": 5,
        "missing_person": 2,
        "drugs": 2,
        "other": 6,
    },
    GroupKind.STUDENT_SQUAD: {
        "minors_at_night": 30,
        "public_drinking": 25,
        "petty_hooliganism": 12,
        "public_disorder": 8,
        "littering": 8,
        "vandalism": 5,
        "drugs": 4,
        "road_safety": 4,
        "other": 4,
    },
    GroupKind.PUBLIC_ASSISTANTS: {
        "petty_hooliganism": 22,
        "public_disorder": 16,
        "road_safety": 14,
        "theft": 13,
        "public_drinking": 10,
        "fraud": 9,
        "littering": 4,
        "vandalism": 4,
        "domestic_violence": 3,
        "drugs": 2,
        "missing_person": 1,
        "other": 2,
    },
}
# Minors out without adults is an offense only at night (from CURFEW to CURFEW_ENDS).
NIGHT_ONLY = frozenset({"minors_at_night"})
VILLAGE_KINDS = frozenset({GroupKind.SARBAZ, GroupKind.SAKSHY})

OUTCOME_WEIGHTS = {
    "livestock_theft": {"prevented": 52, "info": 24, "handed_over": 10, "solved": 8, "assistance": 6},
    "theft": {"prevented": 46, "handed_over": 24, "info": 20, "solved": 5, "assistance": 5},
    "fraud": {"prevented": 50, "info": 37, "solved": 5, "assistance": 8},
    "missing_person": {"assistance": 75, "info": 25},
    "minors_at_night": {"prevented": 72, "assistance": 28},
    "domestic_violence": {"prevented": 55, "handed_over": 30, "info": 15},
    "drugs": {"info": 64, "handed_over": 28, "solved": 8},
    "road_safety": {"prevented": 76, "info": 14, "assistance": 10},
    "littering": {"prevented": 90, "info": 10},
    "public_drinking": {"prevented": 84, "handed_over": 16},
    "petty_hooliganism": {"prevented": 76, "handed_over": 21, "info": 3},
    "public_disorder": {"prevented": 78, "handed_over": 18, "info": 4},
    "vandalism": {"prevented": 58, "handed_over": 20, "info": 20, "solved": 2},
    "other": {"prevented": 45, "assistance": 35, "info": 20},
}

# What happened, as volunteers write it, in Kazakh and Russian (the same event in both).
URBAN_PLACES = (
    ("саябақтағы орындықтар маңында", "у скамеек в парке"),
    ("аялдама жанында", "у остановки"),
    ("дүкен алдында", "у магазина"),
    ("базар кіреберісінде", "у входа на рынок"),
    ("мектеп ауласында", "во дворе школы"),
    ("көпқабатты үйдің ауласында", "во дворе многоэтажного дома"),
    ("жатақхана маңында", "возле общежития"),
    ("сауда орталығының тұрағында", "на парковке торгового центра"),
    ("спорт алаңында", "на спортивной площадке"),
    ("жер асты өткелінде", "в подземном переходе"),
)
VILLAGE_PLACES = (
    ("мәдениет үйі алдында", "у Дома культуры"),
    ("ауыл дүкені алдында", "у сельского магазина"),
    ("өзен жағасында", "на берегу реки"),
    ("мектеп ауласында", "во дворе школы"),
    ("аялдама жанында", "у остановки"),
)
# Where some offenses happen, whoever reports them.
CATEGORY_PLACES = {
    "livestock_theft": (
        ("ауыл шетіндегі жайылымда", "на пастбище за аулом"),
        ("мал қорасы маңында", "возле загона для скота"),
        ("трасса бойында", "у трассы"),
    ),
    "road_safety": (
        ("жаяу жүргіншілер өткелінде", "на пешеходном переходе"),
        ("мектеп маңындағы жолда", "на дороге у школы"),
        ("қиылыста", "на перекрёстке"),
        ("аялдама жанында", "у остановки"),
    ),
    "domestic_violence": (
        ("көпқабатты үйдің ауласында", "во дворе многоэтажного дома"),
        ("жеке үй маңында", "у частного дома"),
        ("жатақхана маңында", "возле общежития"),
    ),
    "fraud": (
        ("банкомат жанында", "у банкомата"),
        ("базар кіреберісінде", "у входа на рынок"),
        ("сауда орталығының тұрағында", "на парковке торгового центра"),
    ),
}
EVENT_TEXTS = {
    "petty_hooliganism": (
        (
            "{place} {n} жігіт балағат сөздермен айғайлап, өткен адамдарға тиісті.",
            "{place} {n} молодых людей громко сквернословили и приставали к прохожим.",
        ),
        (
            "{place} мас күйдегі азамат витринаны ұрып, айналасындағыларға дөрекі сөйледі.",
            "{place} нетрезвый мужчина стучал по витрине и грубил прохожим.",
        ),
        (
            "{place} жасөспірімдер тобы айқайлап, өткен адамдарды қорқытты.",
            "{place} группа подростков шумела и задирала прохожих.",
        ),
    ),
    "public_disorder": (
        (
            "{place} екі топ арасында жанжал басталды, {n} адам қатысты.",
            "{place} началась ссора между двумя компаниями, участвовали {n} человек.",
        ),
        (
            "{place} түнде қатты музыка қойылып, тұрғындар шу туралы шағымданды.",
            "{place} ночью громко играла музыка, жильцы жаловались на шум.",
        ),
        (
            "{place} көліктен қатты музыка қойып, компания айқай-шу шығарды.",
            "{place} из машины громко играла музыка, компания шумела.",
        ),
    ),
    "public_drinking": (
        (
            "{place} {n} адам спирттік ішімдік ішіп отырды.",
            "{place} {n} человек распивали спиртные напитки.",
        ),
        (
            "{place} жастар сыра ішіп, бөтелкелерді жерге тастады.",
            "{place} молодые люди пили пиво и бросали бутылки на землю.",
        ),
        (
            "{place} орындықта отырған компания арақ ішті.",
            "{place} компания на скамейке распивала водку.",
        ),
    ),
    "littering": (
        (
            "{place} тұрғын қоқыс қапшығын жол жиегіне тастап кетті.",
            "{place} жилец оставил мешок с мусором у дороги.",
        ),
        (
            "{place} пикниктен кейін қоқыс жиналмай қалды.",
            "{place} после пикника остался неубранный мусор.",
        ),
        (
            "{place} жүк көлігінен құрылыс қалдықтары төгілді.",
            "{place} из грузовика выгрузили строительный мусор.",
        ),
    ),
    "drugs": (
        (
            "{place} күдікті адам «закладка» іздеп, жерді телефонға түсіріп жүрді.",
            "{place} подозрительный мужчина искал «закладку» и фотографировал место на телефон.",
        ),
        (
            "{place} қабырғаға есірткі сататын сайттың жарнамасы жазылған.",
            "{place} на стене нанесена реклама сайта по продаже наркотиков.",
        ),
        (
            "{place} есірткі әсерінде болуы мүмкін {n} жасөспірім кездесті.",
            "{place} встретились {n} подростка с признаками наркотического опьянения.",
        ),
    ),
    "theft": (
        (
            "{place} велосипедті ұрламақ болған адам байқалды.",
            "{place} замечен мужчина, пытавшийся украсть велосипед.",
        ),
        (
            "{place} әйел сөмкесі ұрланғанын айтып, көмек сұрады.",
            "{place} женщина сообщила о краже сумки и попросила помощи.",
        ),
        (
            "{place} белгісіз адам көліктің терезесін сындырып, ішінен зат алмақ болды.",
            "{place} неизвестный разбил стекло автомобиля и пытался забрать вещи.",
        ),
    ),
    "livestock_theft": (
        (
            "{place} түнде {n} бас ірі қараны жүк көлігіне тиеп жатқан белгісіз адамдар байқалды.",
            "{place} ночью замечены неизвестные, грузившие {n} головы КРС в грузовик.",
        ),
        (
            "{place} бағусыз жүрген {n} қой табылды, иесі бұрын ұрлық туралы арызданған.",
            "{place} найдены {n} овцы без присмотра, хозяин ранее заявлял о краже.",
        ),
        (
            "{place} нөмірі жоқ мал тасымалдайтын көлік тоқтатылды.",
            "{place} остановлен скотовоз без номеров.",
        ),
    ),
    "domestic_violence": (
        (
            "{place} көршілер әйелдің айқайын естіп хабарлады: ерлі-зайыптылар арасында жанжал.",
            "{place} соседи услышали крики женщины: конфликт между супругами.",
        ),
        (
            "{place} мас күйеуі әйеліне қол көтермек болды.",
            "{place} нетрезвый муж пытался ударить жену.",
        ),
        (
            "{place} отбасылық жанжалдан қорыққан балалар көшеге шығып кеткен.",
            "{place} испуганные семейным скандалом дети выбежали на улицу.",
        ),
    ),
    "minors_at_night": (
        (
            "{place} сағат {hour}-де ересектерсіз жүрген {n} жасөспірім ({age} жаста) анықталды.",
            "{place} в {hour} выявлены {n} подростка {age} лет без сопровождения взрослых.",
        ),
        (
            "{place} түнде ересектерсіз {age} жасар жасөспірім жүрді.",
            "{place} ночью без взрослых находился подросток {age} лет.",
        ),
        (
            "{place} түнгі уақытта ата-анасыз {n} мектеп оқушысы отырды.",
            "{place} в ночное время без родителей находились {n} школьника.",
        ),
    ),
    "road_safety": (
        (
            "{place} жүргізуші жаяу жүргіншіге жол бермеді.",
            "{place} водитель не пропустил пешехода.",
        ),
        (
            "{place} жасөспірімдер электросамокатпен тротуарда жылдам жүрді.",
            "{place} подростки на электросамокатах на большой скорости ехали по тротуару.",
        ),
        (
            "{place} жол белгісі құлап қалған, жүргізушілерге қауіпті.",
            "{place} упал дорожный знак, опасно для водителей.",
        ),
    ),
    "fraud": (
        (
            "{place} қарт әйелге «банк қызметкері» қоңырау шалып, картаның кодын сұрады.",
            "{place} пожилой женщине позвонил «сотрудник банка» и спросил код с карты.",
        ),
        (
            "{place} белгісіз адамдар «жеңілдікпен» тауар сатамыз деп алдын ала ақша жинады.",
            "{place} неизвестные собирали предоплату за товар «со скидкой».",
        ),
        (
            "{place} зейнеткерден «туысыңыз апатқа түсті» деп ақша талап етілді.",
            "{place} у пенсионера требовали деньги под предлогом «родственник попал в ДТП».",
        ),
    ),
    "vandalism": (
        (
            "{place} жасөспірімдер аялдаманың әйнегін сындырды.",
            "{place} подростки разбили стекло остановки.",
        ),
        (
            "{place} қабырғаға бояумен жазу жазылды.",
            "{place} на стене сделаны надписи краской.",
        ),
        (
            "{place} балалар алаңындағы әткеншек сындырылды.",
            "{place} сломаны качели на детской площадке.",
        ),
    ),
    "missing_person": (
        (
            "{place} адасып қалған {child} жасар бала табылды.",
            "{place} найден потерявшийся ребёнок {child} лет.",
        ),
        (
            "{place} есте сақтау қабілеті нашар қарт адам үйін таба алмай жүрді.",
            "{place} пожилой мужчина с потерей памяти не мог найти дорогу домой.",
        ),
        (
            "{place} іздеуде жүрген жасөспірім байқалды.",
            "{place} замечен подросток, объявленный в розыск.",
        ),
    ),
    "other": (
        (
            "{place} көше шамдары жанбайды, аумақ қараңғы.",
            "{place} не горят фонари, территория не освещена.",
        ),
        (
            "{place} иесіз сөмке табылды.",
            "{place} обнаружена бесхозная сумка.",
        ),
        (
            "{place} қаңғыбас иттер үйірі өткен адамдарға шабуылдады.",
            "{place} стая бродячих собак бросалась на прохожих.",
        ),
    ),
}
OUTCOME_TEXTS = {
    OutcomeCode.PREVENTED: (
        ("Ескерту жасалды, құқық бұзушылық тоқтатылды.", "Сделано замечание, нарушение пресечено."),
        ("Профилактикалық әңгіме жүргізілді.", "Проведена профилактическая беседа."),
        (
            "Жасақты көргенде тарап кетті, тәртіп қалпына келді.",
            "При появлении патруля разошлись, порядок восстановлен.",
        ),
    ),
    OutcomeCode.HANDED_OVER: (
        ("Құқық бұзушы келген полиция жасағына тапсырылды.", "Нарушитель передан прибывшему наряду полиции."),
        ("102 арқылы жасақ шақырылып, тәртіп бұзушы тапсырылды.", "Вызван наряд по 102, нарушитель передан полиции."),
    ),
    OutcomeCode.ASSISTANCE: (
        ("Азаматқа көмек көрсетілді.", "Гражданину оказана помощь."),
        ("Жедел жәрдем шақырылды.", "Вызвана скорая помощь."),
        ("Туыстарына хабарланып, үйіне жеткізілді.", "Родственники извещены, человек доставлен домой."),
    ),
    OutcomeCode.INFO: (
        ("Ақпарат учаскелік инспекторға берілді.", "Информация передана участковому инспектору."),
        ("102-ге хабарланды.", "Сообщено по 102."),
        ("Суреттер мен көліктің нөмірі полицияға жіберілді.", "Фото и номер машины переданы в полицию."),
    ),
    OutcomeCode.SOLVED: (
        ("Күдікті анықталып, тергеу-жедел тобына тапсырылды.", "Подозреваемый установлен и передан СОГ."),
        (
            "Ұрланған мүлік табылып, иесіне қайтарылды; іс ЕРДР-ге тіркелді.",
            "Похищенное обнаружено и возвращено владельцу; дело зарегистрировано в ЕРДР.",
        ),
    ),
}
MINORS_TAKEN_HOME = ("Ата-аналарына хабарланып, үйлеріне жеткізілді.", "Родители извещены, подростки доставлены домой.")
# What inspectors wrote back, in the report's language.
REJECT_REASONS = (
    (
        "Құқық бұзушылық белгілері жоқ: азаматтар тәртіп бұзбаған.",
        "Признаков правонарушения нет: порядок не нарушался.",
    ),
    (
        "Бұл оқиға туралы полиция 102 арқылы бұрын хабар алған, еріктілер қатыспаған.",
        "Об этом случае полиция узнала раньше по 102, добровольцы не участвовали.",
    ),
    ("Сипаттама тым қысқа, растайтын мәлімет жоқ.", "Описание слишком краткое, подтверждающих сведений нет."),
    ("Картадағы белгі сипаттамаға сәйкес келмейді.", "Отметка на карте не совпадает с описанием."),
    (
        "Оқиға кезекшілік аумағынан тыс, басқа учаскеге жатады.",
        "Событие вне зоны патрулирования, относится к другому участку.",
    ),
)
# A question and the volunteer's answer, when there was one.
QUESTIONS = (
    (
        ("Нақты мекенжайын немесе бағдарын көрсетіңіз.", "Уточните адрес или ориентир."),
        ("Орталық көшедегі дүкен, №12 үйдің қасы.", "Магазин на центральной улице, возле дома №12."),
    ),
    (
        (
            "Құқық бұзушы полицияға тапсырылды ма? Жасақтың нөмірін жазыңыз.",
            "Нарушитель передан полиции? Укажите наряд.",
        ),
        ("Иә, 102 жасағына тапсырылды, аға сержант қабылдады.", "Да, передан наряду по 102, принял старший сержант."),
    ),
    (
        ("Куәгерлер болды ма? Байланыс деректерін жазыңыз.", "Были ли свидетели? Укажите их контакты."),
        (
            "Куәгер — дүкен сатушысы, телефоны инспекторда бар.",
            "Свидетель — продавец магазина, телефон передан участковому.",
        ),
    ),
    (
        ("Қанша адам болды және жастары қандай?", "Сколько было человек и какого возраста?"),
        ("Үш адам, шамамен 20–25 жаста.", "Трое, примерно 20–25 лет."),
    ),
)


# Drawing the reports


@dataclass
class _Duty:
    """A completed assignment of the past year: who was on which shift, and where they checked in."""

    assignment_id: int
    volunteer_id: int
    iin: str
    user_id: int | None
    shift_id: int
    district: str
    zone: Zone
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    check_in_at: datetime.datetime
    check_in_point: Point
    check_out_at: datetime.datetime
    check_in_xy: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        self.check_in_xy = self.check_in_point.coords

    @property
    def key(self) -> str:
        return f"{self.district}:{self.zone.name}:{timezone.localtime(self.starts_at):%Y-%m-%dT%H:%M}:{self.iin}"


@dataclass
class _Draft:
    """One report to write, with its history; `pk` once it is in the database."""

    key: str
    volunteer_id: int
    user_id: int | None
    duty: _Duty | None
    district_id: int
    occurred_at: datetime.datetime
    point: Point
    category: str
    outcome: str
    language: int
    kind: str = GroupKind.PUBLIC_ASSISTANTS
    description: str = ""
    case_number: str = ""
    third_party: str = ""
    created_at: datetime.datetime | None = None
    status: str = ReportStatus.SUBMITTED
    status_note: str = ""
    verified_by_id: int | None = None
    verified_at: datetime.datetime | None = None
    # (kind, from status, to status, note, by, at) after the submission.
    steps: list[tuple[str, str, str, str, int | None, datetime.datetime]] = field(default_factory=list)
    original: _Draft | None = None
    twins: list[_Draft] = field(default_factory=list)
    drawn_inside: bool = False
    flags: list[dict] = field(default_factory=list)
    seen_before: list[_Draft] = field(default_factory=list)
    pk: int | None = None
    # The point's coordinates (read from GEOS once) and its distance from the zone, once measured.
    xy: tuple[float, float] = (0.0, 0.0)
    zone_metres: int | None = None

    def __post_init__(self) -> None:
        self.xy = self.point.coords

    def move(self, point: Point, *, inside: bool = False) -> None:
        self.point, self.xy, self.drawn_inside, self.zone_metres = point, point.coords, inside, None

    @property
    def uuid(self) -> uuid.UUID:
        return uuid.uuid5(REPORT_NAMESPACE, self.key)

    @property
    def decided_at(self) -> datetime.datetime | None:
        return self.steps[-1][5] if self.steps else None

    @property
    def full_description(self) -> str:
        """As `reporting.report_resubmit` keeps it: an answer to the inspector's question joins the description."""
        answers = [note for kind, _from, _to, note, _by, _at in self.steps if kind == ReportEventKind.RESUBMITTED]
        return "\n\n".join([self.description, *answers])


class _Places:
    """The district of a point as `reporting.district_for_point` finds it (a boundary holding it, else the nearest
    centre), and whether a point is in Kazakhstan, without a query per point."""

    def __init__(self) -> None:
        rows = District.objects.order_by("code").only("pk", "code", "centre", "boundary")
        self.bounded = [(d.pk, d.boundary.extent, d.boundary.prepared) for d in rows if d.boundary is not None]
        self.centres = [(d.pk, *d.centre.coords) for d in rows]
        # The outline's polygons: `make_valid` may have left a stray line beside them, which slows every test.
        outline = country_outline()
        parts = [outline] if isinstance(outline, Polygon) else list(outline)
        polygons = [shape for part in parts if isinstance(part, Polygon | MultiPolygon) for shape in _polygons(part)]
        self.country = MultiPolygon(polygons, srid=4326).prepared

    def district_of(self, point: Point) -> int | None:
        x, y = point.coords
        for pk, (xmin, ymin, xmax, ymax), prepared in self.bounded:
            if xmin <= x <= xmax and ymin <= y <= ymax and prepared.intersects(point):
                return pk
        scale = math.cos(math.radians(y))
        best = min(self.centres, key=lambda c: ((c[1] - x) * scale) ** 2 + (c[2] - y) ** 2, default=None)
        return best[0] if best else None

    def in_country(self, point: Point) -> bool:
        return self.country.intersects(point)


def _polygons(shape: Polygon | MultiPolygon) -> list[Polygon]:
    return [shape] if isinstance(shape, Polygon) else list(shape)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two nearby points (lng, lat) on the ellipsoid, with its local radii: within a metre of
    `distance_m` over a few kilometres. That one is exact but slow (a projection per call): used near limits only."""
    lat = math.radians((a[1] + b[1]) / 2)
    e2 = 0.00669438
    w = math.sqrt(1 - e2 * math.sin(lat) ** 2)
    meridian, normal = 6378137 * (1 - e2) / w**3, 6378137 / w
    dx = math.radians(b[0] - a[0]) * normal * math.cos(lat)
    dy = math.radians(b[1] - a[1]) * meridian
    return math.hypot(dx, dy)


def _poisson(rate: float, u: float) -> int:
    """The Poisson quantile at `u`: monotone in the rate, so a lower rate never draws more."""
    term = total = math.exp(-rate)
    count = 0
    while u > total and count < 50:
        count += 1
        term *= rate / count
        total += term
    return count


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _person(rng: random.Random, language: int) -> tuple[str, bool]:
    female = rng.random() < 0.35
    if language:
        last = rng.choice(RU_SURNAMES)[1 if female else 0]
        first = rng.choice(RU_WOMEN if female else RU_MEN)
    else:
        last = rng.choice(KK_SURNAMES) + ("а" if female else "")
        first = rng.choice(KK_WOMEN if female else KK_MEN)
    return f"{last} {first[0]}.", female


def _phone(rng: random.Random) -> str:
    digits = f"{rng.randrange(10_000_000):07d}"
    return f"+7 {rng.choice(MOBILE_PREFIXES)} {digits[:3]} {digits[3:5]} {digits[5:]}"


def _third_party(rng: random.Random, *, language: int, outcome: str, year: int) -> str:
    """Other people's details, as inspectors ask for them: the offender, a victim or a witness."""
    name, female = _person(rng, language)
    if outcome in (OutcomeCode.HANDED_OVER, OutcomeCode.SOLVED):
        born = year - rng.randint(17, 55)
        if language:
            return f"Нарушитель: {name}, {born} г. р., тел. {_phone(rng)}."
        return f"Құқық бұзушы: {name}, {born} ж. т., тел. {_phone(rng)}."
    if rng.random() < 0.5:
        if language:
            return f"{'Потерпевшая' if female else 'Потерпевший'}: {name}, тел. {_phone(rng)}."
        return f"Жәбірленуші: {name}, тел. {_phone(rng)}."
    return f"Свидетель: {name}, тел. {_phone(rng)}." if language else f"Куәгер: {name}, тел. {_phone(rng)}."


def _erdr(rng: random.Random, *, district: str, year: int) -> str:
    """A 15-digit ЕРДР number: year, region, the registering unit and a serial."""
    return f"{year % 100:02d}{district[3:5]}{rng.randrange(1000):03d}{rng.randrange(10**8):08d}"


@dataclass
class _Words:
    description: str
    case_number: str
    third_party: str


def _words(
    rng: random.Random,
    *,
    category: str,
    outcome: str,
    language: int,
    moment: datetime.datetime,
    kind: str,
    district: str,
) -> _Words:
    """The description, the case number and (sometimes) other people's details, in the report's language."""
    places = CATEGORY_PLACES.get(category) or (VILLAGE_PLACES if kind in VILLAGE_KINDS else URBAN_PLACES)
    local = timezone.localtime(moment)
    words = {
        "place": rng.choice(places)[language],
        "n": rng.randint(2, 4),
        "age": rng.randint(13, 16),
        "child": rng.randint(5, 10),
        "hour": f"{local:%H:%M}",
    }
    event = rng.choice(EVENT_TEXTS[category])[language].format(**words)
    if category == "minors_at_night" and rng.random() < 0.5:
        ending = MINORS_TAKEN_HOME[language]
    else:
        ending = rng.choice(OUTCOME_TEXTS[outcome])[language]
    case_number = _erdr(rng, district=district, year=local.year) if outcome == OutcomeCode.SOLVED else ""
    share = 0.45 if outcome in (OutcomeCode.HANDED_OVER, OutcomeCode.SOLVED) else 0.12
    if category in ("theft", "fraud", "domestic_violence", "livestock_theft"):
        share += 0.2
    third_party = _third_party(rng, language=language, outcome=outcome, year=local.year) if rng.random() < share else ""
    return _Words(f"{_sentence(event)} {ending}", case_number, third_party)


def _write_up(draft: _Draft, rng: random.Random, *, kind: str, district: str) -> None:
    words = _words(
        rng,
        category=draft.category,
        outcome=draft.outcome,
        language=draft.language,
        moment=draft.occurred_at,
        kind=kind,
        district=district,
    )
    draft.description, draft.case_number, draft.third_party = words.description, words.case_number, words.third_party


def _category(rng: random.Random, kind: str, moment: datetime.datetime) -> str:
    weights = CATEGORY_WEIGHTS.get(kind, CATEGORY_WEIGHTS[GroupKind.PUBLIC_ASSISTANTS])
    if CURFEW_ENDS <= timezone.localtime(moment).time() < CURFEW:
        weights = {code: weight for code, weight in weights.items() if code not in NIGHT_ONLY}
    return _pick(rng, weights)


def _received(rng: random.Random, occurred_at: datetime.datetime, now: datetime.datetime) -> datetime.datetime:
    """When the server got it: mostly minutes later, after a weak connection within hours, now and then next day."""
    draw = rng.random()
    if draw < 0.7:
        delay = datetime.timedelta(minutes=rng.uniform(1, 15))
    elif draw < 0.95:
        delay = datetime.timedelta(minutes=rng.uniform(15, 120))
    else:
        delay = datetime.timedelta(hours=rng.uniform(2, 20))
    return max(occurred_at, min(occurred_at + delay, now - datetime.timedelta(minutes=1)))


def _office_moment(rng: random.Random, after: datetime.datetime) -> datetime.datetime:
    """When an inspector gets to it: in office hours, the same day now and then, mostly a day or two later."""
    local = timezone.localtime(after)
    days = 0 if local.hour < 14 and rng.random() < 0.25 else rng.choice((1, 1, 1, 2, 2))
    start = datetime.datetime.combine(local.date() + datetime.timedelta(days=days), datetime.time(9), tzinfo=LOCAL_TZ)
    return max(start + datetime.timedelta(minutes=rng.randint(0, 570)), after + datetime.timedelta(minutes=20))


class _Country:
    """What the drafts are drawn from: the past year's duties, zones, rosters, districts and people."""

    def __init__(self, *, rows: list[dict[str, str]], districts: dict[str, District], users: dict[str, User], now):
        self.now = now
        self.today = timezone.localdate(now)
        self.window_start = self.today - datetime.timedelta(days=HISTORY_DAYS)
        self.districts = districts
        self.codes = {district.pk: code for code, district in districts.items()}
        self.rows = {row["code"]: row for row in rows}
        self.languages = {row["code"]: _patrol_plan(row).series[0].language for row in rows}
        # A district's inspector: the first one, when it has several (as `_bulk_history` picks it too).
        self.inspectors: dict[str, int] = {}
        for user_id, district_id in (
            User.inspector_districts.through.objects.filter(district_id__in=list(self.codes))
            .order_by("user_id")
            .values_list("user_id", "district_id")
        ):
            self.inspectors.setdefault(self.codes[district_id], user_id)
        self.places = _Places()
        self.tolerance = checkin_tolerance_m()
        self.categories = dict(Category.objects.values_list("code", "pk"))
        self.outcomes = dict(Outcome.objects.values_list("code", "pk"))
        story_volunteer = users.get("volunteer")
        self.story_volunteer_id = getattr(getattr(story_volunteer, "volunteer", None), "pk", None)
        self.people = {pk: (iin, user_id) for pk, iin, user_id in Volunteer.objects.values_list("pk", "iin", "user_id")}
        self.kinds: dict[int, list[tuple[str, int | None]]] = defaultdict(list)
        # The group each report counts for: the reporter's group of the kind the report was drawn for.
        self.group_of: dict[tuple[int, str], int] = {}
        for volunteer_id, kind, settlement_id, group_id in (
            Membership.objects.filter(group__district_id__in=list(self.codes))
            .order_by("group__name")
            .values_list("volunteer_id", "group__kind", "group__settlement_id", "group_id")
        ):
            self.kinds[volunteer_id].append((kind, settlement_id))
            self.group_of.setdefault((volunteer_id, kind), group_id)
        self.settlements = dict(Settlement.objects.values_list("pk", "centre"))
        self.group_ids: dict[int, list[int]] = defaultdict(list)
        for district_id, group_id in Group.objects.filter(district_id__in=list(self.codes)).values_list(
            "district_id", "pk"
        ):
            self.group_ids[district_id].append(group_id)
        self._roster: _Roster | None = None
        self.months = self._months()
        self.duties = self._duties()
        self.zones = {duty.zone.pk: duty.zone for duty in self.duties}
        self.spots = {zone_id: _ZoneSpot(zone) for zone_id, zone in self.zones.items()}

    @property
    def roster(self) -> _Roster:
        if self._roster is None:
            self._roster = _Roster(list(self.districts.values()))
        return self._roster

    def _duties(self) -> list[_Duty]:
        start = datetime.datetime.combine(self.window_start, datetime.time(0), tzinfo=LOCAL_TZ)
        rows = (
            Assignment.objects.filter(
                status=AssignmentStatus.COMPLETED,
                shift__district_id__in=list(self.codes),
                shift__starts_at__gte=start,
                shift__ends_at__lte=self.now,
                check_in_at__isnull=False,
                check_in_point__isnull=False,
                check_out_at__isnull=False,
            )
            .order_by("shift__starts_at", "shift__zone__name", "volunteer__iin")
            .values_list(
                "pk",
                "volunteer_id",
                "volunteer__iin",
                "volunteer__user_id",
                "shift_id",
                "shift__district_id",
                "shift__zone_id",
                "shift__starts_at",
                "shift__ends_at",
                "check_in_at",
                "check_in_point",
                "check_out_at",
            )
        )
        zones = Zone.objects.in_bulk({row[6] for row in rows})
        return [
            _Duty(
                assignment_id=pk,
                volunteer_id=volunteer_id,
                iin=iin,
                user_id=user_id,
                shift_id=shift_id,
                district=self.codes[district_id],
                zone=zones[zone_id],
                starts_at=starts_at,
                ends_at=ends_at,
                check_in_at=check_in_at,
                check_in_point=check_in_point,
                check_out_at=check_out_at,
            )
            for (
                pk,
                volunteer_id,
                iin,
                user_id,
                shift_id,
                district_id,
                zone_id,
                starts_at,
                ends_at,
                check_in_at,
                check_in_point,
                check_out_at,
            ) in rows
        ]

    def yearly(self, code: str) -> float:
        if code == STORY_DISTRICT:
            return STORY_YEARLY
        activity = random.Random(f"{SEED}:{code}:reports").lognormvariate(0, 0.45)
        lift = STORY_REGION_LIFT if self.rows[code]["region"] == STORY_REGION else 1.0
        return DISTRICT_YEARLY * min(max(activity, 0.35), 2.4) * lift

    def _months(self) -> dict[tuple[int, int], tuple[list[datetime.date], int]]:
        """Per (year, month) of the window: its days up to today, and how many days the month has."""
        months: dict[tuple[int, int], list[datetime.date]] = defaultdict(list)
        day = self.window_start
        while day <= self.today:
            months[(day.year, day.month)].append(day)
            day += datetime.timedelta(days=1)
        result = {}
        for (year, month), days in months.items():
            following = datetime.date(year + month // 12, month % 12 + 1, 1)
            result[(year, month)] = (days, (following - datetime.date(year, month, 1)).days)
        return result

    def expected(self, code: str, month: tuple[int, int], share: float) -> float:
        days, length = self.months[month]
        return self.yearly(code) * SEASON[month[1] - 1] / 12 * len(days) / length * share

    def kind_of(self, rng: random.Random, volunteer_id: int) -> tuple[str, int | None]:
        kinds = self.kinds.get(volunteer_id) or [(GroupKind.PUBLIC_ASSISTANTS, None)]
        return kinds[0] if len(kinds) == 1 else rng.choice(kinds)

    def language(self, rng: random.Random, code: str, kind: str) -> int:
        usual = self.languages.get(code, 0)
        if kind in VILLAGE_KINDS:
            return 0 if rng.random() < 0.9 else 1
        return usual if rng.random() < 0.8 else 1 - usual


def _times(rng: random.Random, duty: _Duty, count: int, *, late: bool = False) -> list[datetime.datetime]:
    """`count` moments on the duty at least ten minutes apart, from ten minutes after the check-in; `late` leans
    towards the end of the shift (student squads meet the youth out after curfew)."""
    start = duty.check_in_at + datetime.timedelta(minutes=10)
    end = min(duty.check_out_at, duty.ends_at) - datetime.timedelta(minutes=5)
    span = (end - start).total_seconds()
    if span <= 0:
        return []
    slot = span / count
    gap = min(600.0, slot / 2)
    draw = (lambda: max(rng.random(), rng.random())) if late else rng.random
    return [start + datetime.timedelta(seconds=index * slot + draw() * max(slot - gap, 1)) for index in range(count)]


def _on_duty(
    country: _Country, duty: _Duty, rng: random.Random, moment: datetime.datetime, *, kind: str, key: str
) -> _Draft | None:
    spot = country.spots[duty.zone.pk]
    inside = rng.random() >= OUTSIDE_SHARE
    point, _distance = spot.inside(rng) if inside else spot.outside(rng, rng.uniform(220, 800))
    district_id = country.places.district_of(point)
    if district_id not in country.codes or not country.places.in_country(point):
        point, _distance = spot.inside(rng)
        inside = True
        district_id = country.places.district_of(point)
        if district_id not in country.codes:
            return None
    category = _category(rng, kind, moment)
    draft = _Draft(
        key=key,
        volunteer_id=duty.volunteer_id,
        user_id=duty.user_id,
        duty=duty,
        district_id=district_id,
        occurred_at=moment,
        point=point,
        category=category,
        outcome=_pick(rng, OUTCOME_WEIGHTS[category]),
        language=country.language(rng, duty.district, kind),
        kind=kind,
        drawn_inside=inside,
    )
    _write_up(draft, rng, kind=kind, district=country.codes[district_id])
    draft.created_at = _received(rng, moment, country.now)
    return draft


def _stale_fix(country: _Country, draft: _Draft, rng: random.Random) -> bool:
    """The phone pinned a stale position far from the zone minutes after the check-in: an implausible speed."""
    duty = draft.duty
    frame = _Frame(*duty.check_in_xy)
    for _attempt in range(24):
        angle, metres = rng.uniform(0, 2 * math.pi), rng.uniform(12_000, 22_000)
        point = frame.point(metres * math.cos(angle), metres * math.sin(angle))
        if country.places.district_of(point) == draft.district_id and country.places.in_country(point):
            draft.move(point)
            draft.occurred_at = duty.check_in_at + datetime.timedelta(minutes=rng.uniform(2, 4))
            draft.created_at = max(draft.created_at, draft.occurred_at)
            if draft.category in NIGHT_ONLY:
                # Earlier in the evening: what the volunteer met then, in words that tell that time.
                draft.category = _category(rng, draft.kind, draft.occurred_at)
                draft.outcome = _pick(rng, OUTCOME_WEIGHTS[draft.category])
            _write_up(draft, rng, kind=draft.kind, district=country.codes[draft.district_id])
            return True
    return False


def _twin(country: _Country, original: _Draft, other: _Duty, rng: random.Random) -> _Draft | None:
    """Another volunteer on the same shift reports the same event a few minutes later, a few steps away."""
    earliest = other.check_in_at + datetime.timedelta(minutes=10)
    latest = min(other.check_out_at, other.ends_at) - datetime.timedelta(minutes=1)
    moment = max(original.occurred_at + datetime.timedelta(minutes=rng.uniform(3, 25)), earliest)
    if moment > latest:
        return None
    frame = _Frame(*original.xy)
    angle, metres = rng.uniform(0, 2 * math.pi), rng.uniform(20, 120)
    point = frame.point(metres * math.cos(angle), metres * math.sin(angle))
    if country.places.district_of(point) != original.district_id:
        return None
    kind, _settlement = country.kind_of(rng, other.volunteer_id)
    twin = _Draft(
        key=f"{original.key}:twin:{other.iin}",
        volunteer_id=other.volunteer_id,
        user_id=other.user_id,
        duty=other,
        district_id=original.district_id,
        occurred_at=moment,
        point=point,
        category=original.category,
        outcome=original.outcome,
        language=country.language(rng, other.district, kind),
        kind=kind,
        original=original,
    )
    _write_up(twin, rng, kind=kind, district=country.codes[twin.district_id])
    twin.created_at = max(_received(rng, moment, country.now), original.created_at + datetime.timedelta(seconds=30))
    if twin.created_at > country.now:
        return None
    original.twins.append(twin)
    return twin


def _shift_drafts(country: _Country) -> list[_Draft]:
    """Reports filed on the year's shifts: a volunteer's count from the district's rate for the month."""
    by_shift: dict[int, list[_Duty]] = defaultdict(list)
    per_month: dict[tuple[str, tuple[int, int]], int] = defaultdict(int)
    for duty in country.duties:
        by_shift[duty.shift_id].append(duty)
        local = timezone.localtime(duty.starts_at)
        per_month[(duty.district, (local.year, local.month))] += 1
    drafts: list[_Draft] = []
    for duties in by_shift.values():
        first = duties[0]
        local = timezone.localtime(first.starts_at)
        month = (local.year, local.month)
        if month not in country.months:
            continue
        rate = country.expected(first.district, month, ON_SHIFT_SHARE) / per_month[(first.district, month)]
        rng = random.Random(f"{SEED}:{first.district}:{first.zone.name}:{local:%Y-%m-%dT%H:%M}:reports")
        on_shift: list[_Draft] = []
        end = timezone.localtime(first.ends_at)
        late = end.date() > local.date() or end.time() > CURFEW
        for duty in duties:
            kind, _settlement = country.kind_of(rng, duty.volunteer_id)
            own_rate = rate * (STORY_VOLUNTEER_LIFT if duty.volunteer_id == country.story_volunteer_id else 1)
            if kind == GroupKind.STUDENT_SQUAD:
                own_rate *= SQUAD_LATE_LIFT if late else SQUAD_EARLY_DROP
            count = min(_poisson(min(own_rate, MOST_PER_DUTY_RATE), rng.random()), MOST_PER_DUTY)
            moments = _times(rng, duty, count, late=kind == GroupKind.STUDENT_SQUAD) if count else []
            mine = []
            for index, moment in enumerate(moments):
                draft = _on_duty(country, duty, rng, moment, kind=kind, key=f"{duty.key}:{index}")
                if draft is not None:
                    mine.append(draft)
            if mine and rng.random() < STALE_FIX_SHARE:
                _stale_fix(country, mine[0], rng)
            on_shift.extend(mine)
        twins = []
        for draft in on_shift:
            others = [duty for duty in duties if duty.volunteer_id != draft.volunteer_id]
            if others and rng.random() < TWIN_SHARE:
                twin = _twin(country, draft, rng.choice(others), rng)
                if twin is not None:
                    twins.append(twin)
        drafts.extend(on_shift + twins)
    return drafts


def _off_shift_drafts(country: _Country) -> list[_Draft]:
    """Reports filed outside any shift: in the daytime, near the volunteer's village or the district centre."""
    drafts: list[_Draft] = []
    for code, district in sorted(country.districts.items()):
        for month, (days, _length) in sorted(country.months.items()):
            rng = random.Random(f"{SEED}:{code}:{month[0]}-{month[1]:02d}:off-shift")
            count = _poisson(country.expected(code, month, 1 - ON_SHIFT_SHARE), rng.random())
            for _index in range(count):
                draft = _off_shift(country, code, district, days, rng)
                if draft is not None:
                    drafts.append(draft)
    return drafts


def _off_shift(
    country: _Country, code: str, district: District, days: list[datetime.date], rng: random.Random
) -> _Draft | None:
    # Monday to Saturday, 08:00 to 15:30: hours away from every evening and Sunday patrol of the demo.
    day = rng.choice(days)
    for _attempt in range(5):
        if day.isoweekday() != 7:
            break
        day = rng.choice(days)
    minutes = rng.randint(8 * 60, 15 * 60 + 30)
    moment = datetime.datetime.combine(day, datetime.time(minutes // 60, minutes % 60), tzinfo=LOCAL_TZ)
    if day.isoweekday() == 7 or moment > country.now - datetime.timedelta(hours=1):
        return None
    people = country.roster.on(district.pk, day, country.group_ids[district.pk])
    if not people:
        return None
    volunteer_id = rng.choice(people)
    kind, settlement_id = country.kind_of(rng, volunteer_id)
    base = country.settlements.get(settlement_id) or district.centre
    frame = _Frame(base.x, base.y)
    for _attempt in range(6):
        angle, metres = rng.uniform(0, 2 * math.pi), rng.uniform(150, 2500)
        point = frame.point(metres * math.cos(angle), metres * math.sin(angle))
        if country.places.district_of(point) == district.pk and country.places.in_country(point):
            break
    else:
        return None
    iin, user_id = country.people[volunteer_id]
    category = _category(rng, kind, moment)
    draft = _Draft(
        key=f"{code}:{iin}:{timezone.localtime(moment):%Y-%m-%dT%H:%M}:off-shift",
        volunteer_id=volunteer_id,
        user_id=user_id,
        duty=None,
        district_id=district.pk,
        occurred_at=moment,
        point=point,
        category=category,
        outcome=_pick(rng, OUTCOME_WEIGHTS[category]),
        language=country.language(rng, code, kind),
        kind=kind,
    )
    _write_up(draft, rng, kind=kind, district=code)
    draft.created_at = _received(rng, moment, country.now)
    return draft


# Flags, by the rules of reporting.report_flags


def _zone_metres(country: _Country, draft: _Draft) -> int | None:
    """How far the draft lies from its shift's zone (None off shift), measured in the zone's local frame."""
    if draft.duty is None:
        return None
    if draft.drawn_inside and draft.duty.zone.kind == ZoneKind.AREA:
        return 0
    if draft.zone_metres is None:
        spot = country.spots[draft.duty.zone.pk]
        metres = spot.shape.distance(Point(*spot.frame.xy(*draft.xy)))
        # The zone's local frame is within a percent or so of report_flags' measure: measure that way near the limit.
        if abs(metres - country.tolerance) < 0.03 * country.tolerance:
            metres = distance_m(draft.duty.zone.geometry, draft.point)
        draft.zone_metres = round(metres)
    return draft.zone_metres


def _zone_flags(country: _Country, draft: _Draft) -> list[dict]:
    """The draft's shift and zone flags alone, by the live rules."""
    return flags_for(
        on_shift=draft.duty is not None, zone_distance_m=_zone_metres(country, draft), previous=None, twins=()
    )


def _since_previous(draft: _Draft, positions: list[tuple[datetime.datetime, tuple[float, float]]]):
    """(hours, km) from the reporter's previous known position to the draft, or None for a first one."""
    index = bisect.bisect_left(positions, draft.occurred_at, key=lambda p: p[0])
    if index == 0:
        return None
    when, where = positions[index - 1]
    hours = (draft.occurred_at - when).total_seconds() / 3600
    limit = settings.REPORT_MAX_SPEED_KMH
    metres = _metres(where, draft.xy)
    # The local radii are within a metre of report_flags' measure over a few km: measure it that way near a limit.
    near_limit = hours > 0 and abs(metres / 1000 / hours - limit) < 0.003 * limit
    if abs(metres - 1000) < 3 or near_limit:
        metres = distance_m(Point(*where, srid=4326), draft.point)
    return hours, metres / 1000


def _flag(country: _Country, drafts: list[_Draft]) -> None:
    """Each draft's flags as `report_flags` gave them when it was filed (the earlier-filed twins it resembles)."""
    positions: dict[int, list[tuple[datetime.datetime, tuple[float, float]]]] = defaultdict(list)
    for duty in country.duties:
        positions[duty.volunteer_id].append((duty.check_in_at, duty.check_in_xy))
    for draft in drafts:
        positions[draft.volunteer_id].append((draft.occurred_at, draft.xy))
    for items in positions.values():
        items.sort(key=lambda p: p[0])
    window = datetime.timedelta(minutes=settings.REPORT_DUPLICATE_WINDOW_MINUTES)
    radius = settings.REPORT_DUPLICATE_RADIUS_M
    by_category: dict[str, list[_Draft]] = defaultdict(list)
    for draft in drafts:
        by_category[draft.category].append(draft)
    for items in by_category.values():
        items.sort(key=lambda d: d.occurred_at)
    for draft in drafts:
        # The live rules, on facts measured here without a query per draft; twins are added with the statuses.
        flags = flags_for(
            on_shift=draft.duty is not None,
            zone_distance_m=_zone_metres(country, draft),
            previous=_since_previous(draft, positions[draft.volunteer_id]),
            twins=(),
        )
        same = by_category[draft.category]
        low = bisect.bisect_left(same, draft.occurred_at - window, key=lambda d: d.occurred_at)
        high = bisect.bisect_right(same, draft.occurred_at + window, key=lambda d: d.occurred_at)
        draft.seen_before = [
            other
            for other in same[low:high]
            if other.created_at < draft.created_at
            and other.volunteer_id != draft.volunteer_id
            and other.status != ReportStatus.REJECTED
            and _near(other, draft, radius)
        ]
        draft.flags = flags


def _near(other: _Draft, draft: _Draft, radius: float) -> bool:
    metres = _metres(other.xy, draft.xy)
    if abs(metres - radius) < 0.003 * radius:
        metres = distance_m(other.point, draft.point)
    return metres <= radius


def _flag_codes(draft: _Draft) -> set[str]:
    return {flag["code"] for flag in draft.flags} | ({ReportFlag.LIKELY_DUPLICATE} if draft.seen_before else set())


# Statuses and their history


def _decide(
    draft: _Draft, rng: random.Random, *, path: str, inspector_id: int, now: datetime.datetime, clamp: bool = False
) -> bool:
    """Give the draft a decided status with its history; False when that would end after now (unless clamped)."""
    language = draft.language
    first = _office_moment(rng, draft.created_at)
    steps: list[tuple[str, str, str, str, int | None, datetime.datetime]] = []
    if path == "answered":
        question, answer = (text[language] for text in rng.choice(QUESTIONS))
        answered = first + datetime.timedelta(hours=rng.uniform(2, 30))
        verified = _office_moment(rng, answered)
        submitted, asked, done = ReportStatus.SUBMITTED, ReportStatus.NEEDS_INFO, ReportStatus.VERIFIED
        steps = [
            (ReportEventKind.NEEDS_INFO, submitted, asked, question, inspector_id, first),
            (ReportEventKind.RESUBMITTED, asked, submitted, answer, draft.user_id, answered),
            (ReportEventKind.VERIFIED, submitted, done, "", inspector_id, verified),
        ]
        if verified >= now:
            path = "verified"
    if path == "verified":
        steps = [(ReportEventKind.VERIFIED, ReportStatus.SUBMITTED, ReportStatus.VERIFIED, "", inspector_id, first)]
    elif path == "rejected":
        reason = rng.choice(REJECT_REASONS)[language]
        steps = [(ReportEventKind.REJECTED, ReportStatus.SUBMITTED, ReportStatus.REJECTED, reason, inspector_id, first)]
    elif path == "needs_info":
        question = rng.choice(QUESTIONS)[0][language]
        steps = [
            (ReportEventKind.NEEDS_INFO, ReportStatus.SUBMITTED, ReportStatus.NEEDS_INFO, question, inspector_id, first)
        ]
    elif path == "duplicate":
        # The reason names the original's number, known once it is saved (see _save_drafts).
        at = max(draft.original.decided_at, first) + datetime.timedelta(minutes=rng.uniform(1, 12))
        steps = [(ReportEventKind.DUPLICATE, ReportStatus.SUBMITTED, ReportStatus.REJECTED, "", inspector_id, at)]
    if steps[-1][5] >= now:
        if not clamp:
            return False
        latest = now - datetime.timedelta(minutes=rng.uniform(5, 90))
        steps = [(k, f, t, n, b, max(min(at, latest), draft.created_at)) for k, f, t, n, b, at in steps]
    draft.steps = steps
    draft.status = steps[-1][2]
    draft.status_note = steps[-1][3]
    if draft.status == ReportStatus.VERIFIED:
        draft.verified_by_id, draft.verified_at = inspector_id, steps[-1][5]
    return True


def _pending(draft: _Draft) -> None:
    draft.steps, draft.status, draft.status_note = [], ReportStatus.SUBMITTED, ""
    draft.verified_by_id = draft.verified_at = None


def _usual_path(rng: random.Random, draft: _Draft, age: datetime.timedelta, zone_flags: list[dict]) -> str:
    suspicious = any(flag["code"] in (ReportFlag.OUTSIDE_ZONE, ReportFlag.TOO_FAST) for flag in zone_flags)
    weights = {
        "verified": 84.0,
        "answered": 3.0 if age > datetime.timedelta(days=7) else 0.0,
        "rejected": 30.0 if suspicious else 6.0,
        "needs_info": 5.0 if age < datetime.timedelta(days=45) else 1.2,
    }
    return _pick(rng, weights)


def _units(drafts: Iterable[_Draft]) -> list[list[_Draft]]:
    """Originals with their twins, each unit decided together; newest first."""
    units = [[draft, *draft.twins] for draft in drafts if draft.original is None]
    return sorted(units, key=lambda unit: max(d.created_at for d in unit), reverse=True)


def _decide_unit(unit: list[_Draft], rng: random.Random, *, path: str, inspector_id: int, now, clamp=False) -> bool:
    original, twins = unit[0], unit[1:]
    if twins and path not in ("verified", "answered"):
        path = "verified"
    if not _decide(original, rng, path=path, inspector_id=inspector_id, now=now, clamp=clamp):
        return False
    for twin in twins:
        _decide(twin, rng, path="duplicate", inspector_id=inspector_id, now=now, clamp=True)
    return True


def _statuses(country: _Country, drafts: list[_Draft]) -> None:
    """Statuses by age: the last two days wait, the week mostly decided, anything older decided."""
    now = country.now
    for unit in _units(drafts):
        original = unit[0]
        for draft in unit:
            _pending(draft)
        inspector_id = country.inspectors.get(country.codes[original.district_id])
        if inspector_id is None:
            continue
        rng = random.Random(f"{original.key}:status")
        age = now - original.created_at
        if age < datetime.timedelta(days=2):
            continue
        if age < datetime.timedelta(days=7) and rng.random() < 0.45:
            continue
        if age < datetime.timedelta(days=21) and rng.random() < 0.06:
            continue
        path = _usual_path(rng, original, age, _zone_flags(country, original))
        _decide_unit(unit, rng, path=path, inspector_id=inspector_id, now=now)


def _story(country: _Country, drafts: list[_Draft]) -> list[_Draft]:
    """Talgar's newest reports wait for the demo inspector; the demo volunteer has one waiting, one with a question
    and one verified. Returns the story district's queue."""
    story = country.districts.get(STORY_DISTRICT)
    inspector_id = country.inspectors.get(STORY_DISTRICT)
    if story is None or inspector_id is None:
        return []
    now = country.now
    talgar = [d for d in drafts if d.district_id == story.pk]
    mine = sorted(
        (d for d in talgar if d.volunteer_id == country.story_volunteer_id and d.original is None and not d.twins),
        key=lambda d: d.created_at,
        reverse=True,
    )
    rng = random.Random(f"{SEED}:{STORY_DISTRICT}:story-queue")
    roles = dict(zip(("waiting", "needs_info", "verified"), mine, strict=False))
    if "needs_info" in roles:
        _decide(roles["needs_info"], rng, path="needs_info", inspector_id=inspector_id, now=now, clamp=True)
    if "verified" in roles:
        _decide(roles["verified"], rng, path="verified", inspector_id=inspector_id, now=now, clamp=True)
    queue: list[_Draft] = []
    if "waiting" in roles:
        _pending(roles["waiting"])
        queue.append(roles["waiting"])
    chosen = {id(d) for d in roles.values()}
    for unit in _units(d for d in talgar if id(d) not in chosen):
        if len(queue) < STORY_QUEUE:
            for draft in unit:
                _pending(draft)
            queue.extend(unit)
        elif unit[0].status == ReportStatus.SUBMITTED:
            path = _usual_path(rng, unit[0], now - unit[0].created_at, [])
            _decide_unit(unit, rng, path=path, inspector_id=inspector_id, now=now, clamp=True)
    return queue


def _show_every_flag(country: _Country, drafts: list[_Draft], queue: list[_Draft]) -> list[_Draft]:
    """Make sure the demo inspector's queue shows each kind of flag (a likely duplicate, a stale fix, a pin outside
    the zone), changing or adding a report where the draw left one out. Returns the drafts added."""
    rng = random.Random(f"{SEED}:{STORY_DISTRICT}:story-flags")
    codes = set().union(*(_flag_codes(d) for d in queue))
    candidates = [
        d
        for d in queue
        if d.duty is not None and not d.twins and d.original is None and d.volunteer_id != country.story_volunteer_id
    ]
    added: list[_Draft] = []
    if ReportFlag.LIKELY_DUPLICATE not in codes:
        for draft in candidates:
            others = [
                duty
                for duty in country.duties
                if duty.shift_id == draft.duty.shift_id and duty.volunteer_id != draft.volunteer_id
            ]
            twin = _twin(country, draft, rng.choice(others), rng) if others else None
            if twin is not None:
                candidates.remove(draft)
                added.append(twin)
                queue.append(twin)
                break
    if ReportFlag.TOO_FAST not in codes:
        for draft in candidates:
            earlier = [d for d in drafts if d.duty is draft.duty and d.occurred_at < draft.occurred_at]
            if not earlier and _stale_fix(country, draft, rng):
                candidates.remove(draft)
                break
    if ReportFlag.OUTSIDE_ZONE not in codes:
        for draft in candidates:
            point, _distance = country.spots[draft.duty.zone.pk].outside(rng, rng.uniform(400, 700))
            if country.places.district_of(point) == draft.district_id and country.places.in_country(point):
                draft.move(point)
                if _zone_flags(country, draft):
                    break
    return added


def _save_drafts(country: _Country, drafts: list[_Draft]) -> tuple[int, int]:
    """Insert the drafts not in the database yet, with their history; returns (reports, events) created."""
    known = existing_reports([draft.uuid for draft in drafts])
    for draft in drafts:
        draft.pk = known.get(draft.uuid)
    fresh = [draft for draft in drafts if draft.pk is None]
    if not fresh:
        return 0, 0
    reports = [
        Report(
            client_uuid=draft.uuid,
            reporter_id=draft.volunteer_id,
            filed_by_id=draft.user_id,
            shift_id=draft.duty.shift_id if draft.duty else None,
            district_id=draft.district_id,
            group_id=country.group_of.get((draft.volunteer_id, draft.kind)),
            group_kind=draft.kind if (draft.volunteer_id, draft.kind) in country.group_of else "",
            occurred_at=draft.occurred_at,
            location=draft.point,
            category_id=country.categories[draft.category],
            outcome_id=country.outcomes[draft.outcome],
            description=draft.full_description,
            case_number=draft.case_number,
            third_party_details=draft.third_party,
            status=draft.status,
            flags=draft.flags,
            status_note=draft.status_note,
            verified_by_id=draft.verified_by_id,
            verified_at=draft.verified_at,
            # Filled on insert otherwise: when the report was received, and when it was last decided.
            created_at=draft.created_at,
            updated_at=draft.decided_at or draft.created_at,
        )
        for draft in fresh
    ]
    insert_rows(Report, reports, keep=("created_at", "updated_at"))
    if any(report.pk is None for report in reports):
        ids = existing_reports([report.client_uuid for report in reports])
        for report in reports:
            report.pk = ids[report.client_uuid]
    for draft, report in zip(fresh, reports, strict=True):
        draft.pk = report.pk
    # What needs the numbers of other reports: the likely duplicates' flags and the duplicates' pointers.
    linked = []
    for draft, report in zip(fresh, reports, strict=True):
        if draft.seen_before:
            twins = sorted(other.pk for other in draft.seen_before if other.pk is not None)
            report.flags = [*draft.flags, {"code": ReportFlag.LIKELY_DUPLICATE, "reports": twins}]
        if draft.status == ReportStatus.REJECTED and draft.steps[-1][0] == ReportEventKind.DUPLICATE:
            # As report_mark_duplicate keeps it: the pointer, and no sentence (each reader's language tells it).
            report.duplicate_of_id = draft.original.pk
        if draft.seen_before or report.duplicate_of_id:
            linked.append(report)
    Report.objects.bulk_update(linked, ["flags", "duplicate_of"], batch_size=500)
    events = []
    for draft in fresh:
        # `at` (filled on insert otherwise) is when each step happened: the submission when the report was received.
        events.append(
            ReportEvent(
                report_id=draft.pk,
                kind=ReportEventKind.SUBMITTED,
                to_status=ReportStatus.SUBMITTED,
                by_id=draft.user_id,
                at=draft.created_at,
            )
        )
        for kind, before, after, note, by, at in draft.steps:
            reason, params = "", {}
            if kind == ReportEventKind.DUPLICATE:
                reason, params = AutoReason.DUPLICATE, {"number": draft.original.pk}
            events.append(
                ReportEvent(
                    report_id=draft.pk,
                    kind=kind,
                    from_status=before,
                    to_status=after,
                    note=note,
                    reason=reason,
                    reason_params=params,
                    by_id=by,
                    at=at,
                )
            )
    insert_rows(ReportEvent, events, keep=("at",), batch_size=2000)
    return len(fresh), len(events)


def save_demo_reports(
    *, rows: list[dict[str, str]], districts: dict[str, District], users: dict[str, User], now: datetime.datetime
) -> dict[str, int]:
    """A year of reports across the demo districts in every state, with their history; missing ones only."""
    country = _Country(rows=rows, districts=districts, users=users, now=now)
    unique: dict[str, _Draft] = {}
    for draft in _shift_drafts(country) + _off_shift_drafts(country):
        unique.setdefault(draft.key, draft)
    drafts = list(unique.values())
    _statuses(country, drafts)
    queue = _story(country, drafts)
    _flag(country, drafts)
    drafts += _show_every_flag(country, drafts, queue)
    _flag(country, drafts)
    reports, events = _save_drafts(country, drafts)
    # The reports went in with their statuses in bulk, past the services: `demo_seed` counts them (tallies_rebuild).
    return {"reports": reports, "report_events": events}
