"""The demo's people: a login per role, the inspectors of every district, groups of the four kinds and their volunteers
(Kazakh and Russian names, IINs, phones, the registration lifecycle), and the districts and settlements they belong
to. Drawn from `random.Random(SEED)` against a fixed "as of" date, so every run builds the same people; keyed by
codes, usernames, IINs and group names, so a second run creates nothing.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password

from ..choices import (
    GroupKind,
    Role,
    VolunteerStatus,
)
from ..clock import LOCAL_TZ
from ..models import (
    District,
    Group,
    Membership,
    Region,
    Settlement,
    User,
    Volunteer,
    VolunteerStatusChange,
)
from ..services.roster import CURRENT_CONSENT_VERSION
from ..validators import age_on, build_iin
from .country import (
    DISTRICTS_FILE,
    SEED,
    SETTLEMENTS_FILE,
    STORY_DISTRICT,
    STORY_REGION,
    _point,
    _read,
    _short_name,
    story_region_boundaries,
)
from .loader import insert_rows
from .villages import district_katos, real_settlement_katos, villages

# The demo's "today": ages, applications and registrations are counted from it, so every run builds the same people.
AS_OF = datetime.date(2026, 6, 1)
FIRST_APPLICATION = datetime.date(2019, 2, 1)
# Volunteers signed the 2025 consent text between these days (or when they applied, if later).
CONSENT_RENEWAL = (datetime.date(2025, 1, 15), datetime.date(2025, 4, 30))
PREVIOUS_CONSENT_VERSION = "2019-1"
STORY_GROUP = "Талғар қоғамдық көмекшілері"
DEMO_LOGINS = ("volunteer", "leader", "inspector", "chief", "analyst", "admin")
MEMBERS_PER_GROUP = (5, 9)
MEMBERS_PER_STORY_GROUP = (14, 20)

# Share of Russian names among volunteers, by region (higher in the north and in Astana); the rest are Kazakh names.
RUSSIAN_SHARE = {"KZ-11": 0.35, "KZ-39": 0.35, "KZ-55": 0.35, "KZ-59": 0.4, "KZ-63": 0.35, "KZ-71": 0.2, "KZ-75": 0.2}
DEFAULT_RUSSIAN_SHARE = 0.1
STATUS_WEIGHTS = {
    VolunteerStatus.REGISTERED: 72,
    VolunteerStatus.APPLICANT: 7,
    VolunteerStatus.VETTED: 6,
    VolunteerStatus.REFUSED: 4,
    VolunteerStatus.SUSPENDED: 4,
    VolunteerStatus.RETIRED: 7,
}
MOBILE_PREFIXES = ("700", "701", "702", "705", "707", "708", "771", "775", "776", "777", "778")

KK_MEN = (
    "Ерлан Асқар Бауыржан Дәурен Нұрлан Ерболат Серік Қайрат Мұрат Арман Ержан Дархан Айдос Нұрсұлтан Бекзат "
    "Әділет Саят Темірлан Алмас Ғалым Жандос Мақсат Олжас Руслан Талғат Ерасыл Нұрбол Азамат Бақытжан Жасұлан "
    "Әлібек Дидар Санжар Ақжол Еркебұлан Асылан"
).split()
KK_WOMEN = (
    "Айгерім Гүлнар Ақмарал Динара Жанар Әсем Мөлдір Айжан Салтанат Жұлдыз Нұргүл Гүлмира Дана Аружан Анар Ләззат "
    "Сәуле Ботагөз Назерке Айдана Камила Толқын Балжан Меруерт Индира Ақбота"
).split()
KK_SURNAMES = (
    "Ахметов Сейітов Жұмабаев Нұрғалиев Омаров Сәрсенбаев Тоқтаров Қасымов Бекмұхамедов Әбдірахманов Исаев "
    "Мұқанов Серікбаев Оспанов Тұрсынов Жақыпов Байжанов Есенов Қуанышев Смағұлов Әлиев Ермеков Сұлтанов Қалиев "
    "Жүнісов Бейсенов Мамыров Нұрпейісов Рахимов Шәкенов Төлеуов Дүйсенов Ибраев Мусин Қожахметов Әбілов"
).split()
# A Kazakh father's name with the patronymics made from it: Kazakh style (-ұлы/-қызы) and Russian style.
KK_FATHERS = (
    ("Серік", "Серікұлы", "Серікқызы", "Серикович", "Сериковна"),
    ("Болат", "Болатұлы", "Болатқызы", "Болатович", "Болатовна"),
    ("Ерлан", "Ерланұлы", "Ерланқызы", "Ерланович", "Ерлановна"),
    ("Қайрат", "Қайратұлы", "Қайратқызы", "Кайратович", "Кайратовна"),
    ("Асқар", "Асқарұлы", "Асқарқызы", "Аскарович", "Аскаровна"),
    ("Марат", "Маратұлы", "Маратқызы", "Маратович", "Маратовна"),
    ("Нұрлан", "Нұрланұлы", "Нұрланқызы", "Нурланович", "Нурлановна"),
    ("Бақыт", "Бақытұлы", "Бақытқызы", "Бахытович", "Бахытовна"),
    ("Жұмабек", "Жұмабекұлы", "Жұмабекқызы", "Жумабекович", "Жумабековна"),
    ("Талғат", "Талғатұлы", "Талғатқызы", "Талгатович", "Талгатовна"),
    ("Сәкен", "Сәкенұлы", "Сәкенқызы", "Сакенович", "Сакеновна"),
    ("Мұрат", "Мұратұлы", "Мұратқызы", "Муратович", "Муратовна"),
    ("Есен", "Есенұлы", "Есенқызы", "Есенович", "Есеновна"),
    ("Оразбек", "Оразбекұлы", "Оразбекқызы", "Оразбекович", "Оразбековна"),
    ("Ахмет", "Ахметұлы", "Ахметқызы", "Ахметович", "Ахметовна"),
    ("Төлеген", "Төлегенұлы", "Төлегенқызы", "Тулегенович", "Тулегеновна"),
    ("Жарас", "Жарасұлы", "Жарасқызы", "Жарасович", "Жарасовна"),
    ("Берік", "Берікұлы", "Берікқызы", "Берикович", "Бериковна"),
)
RU_MEN = (
    "Александр Сергей Дмитрий Андрей Алексей Игорь Виктор Николай Евгений Максим Павел Владимир Денис Артём".split()
)
RU_WOMEN = "Елена Ольга Наталья Татьяна Ирина Светлана Анна Юлия Екатерина Мария Марина Ксения Алина Виктория".split()
# Russian surnames as (male, female); Ukrainian and Korean ones do not change.
RU_SURNAMES = tuple(
    (name, name + "а")
    for name in (
        "Иванов Петров Смирнов Кузнецов Попов Васильев Соколов Морозов Волков Лебедев Козлов Новиков Фёдоров "
        "Павлов Семёнов Никитин Захаров Белов"
    ).split()
) + tuple((name, name) for name in "Шевченко Бондаренко Ткаченко Ким Пак Цой Югай".split())
RU_FATHERS = (
    ("Сергеевич", "Сергеевна"),
    ("Александрович", "Александровна"),
    ("Николаевич", "Николаевна"),
    ("Викторович", "Викторовна"),
    ("Владимирович", "Владимировна"),
    ("Иванович", "Ивановна"),
    ("Петрович", "Петровна"),
    ("Михайлович", "Михайловна"),
    ("Юрьевич", "Юрьевна"),
    ("Анатольевич", "Анатольевна"),
    ("Геннадьевич", "Геннадьевна"),
    ("Валерьевич", "Валерьевна"),
)
SQUAD_NAMES = ("Қыран", "Сұңқар", "Жас қыран", "Барыс", "Тұмар", "Сенім", "Жігер", "Ақ жол", "Қалқан", "Шұғыла")
# Student squads of the three cities belong to their universities; elsewhere to the district's college.
CITY_INSTITUTIONS = {
    "KZ-71": (
        "Л. Н. Гумилев атындағы Еуразия ұлттық университеті",
        "С. Сейфуллин атындағы Қазақ агротехникалық зерттеу университеті",
        "Астана медицина университеті",
        "Astana IT University",
    ),
    "KZ-75": (
        "әл-Фараби атындағы ҚазҰУ",
        "Абай атындағы ҚазҰПУ",
        "Сәтбаев университеті",
        "С. Ж. Асфендияров атындағы ҚазҰМУ",
        "Алматы энергетика және байланыс университеті",
        "Қазақ ұлттық аграрлық зерттеу университеті",
    ),
    "KZ-79": (
        "М. Әуезов атындағы Оңтүстік Қазақстан университеті",
        "Оңтүстік Қазақстан медицина академиясы",
        "Шымкент университеті",
    ),
}
COLLEGE_KINDS = ("көпсалалы колледжі", "аграрлық-техникалық колледжі", "политехникалық колледжі")
REFUSAL_REASONS = (
    "Медициналық куәландырудан өтпеді.",
    "Не прошёл медицинское освидетельствование.",
    "Сведения в анкете не подтвердились при проверке по учётам.",
    "Бір жыл ішінде әкімшілік жауапкершілікке тартылған.",
    "Привлекался к административной ответственности в течение года.",
)
SUSPENSION_REASONS = (
    "Кезекшілікке дәлелсіз себеппен үш рет келмеді.",
    "Временно отстранён до завершения служебной проверки.",
    "Куәлігін жоғалтты, жаңасы дайындалуда.",
)
RETIREMENT_NOTES = ("Өз қалауы бойынша.", "По собственному желанию.", "Переезд в другой город.", "Оқуын аяқтады.")


@dataclass
class _Person:
    district: str
    last_name: str
    first_name: str
    patronymic: str
    female: bool
    birth_date: datetime.date
    iin: str = ""
    phone: str = ""
    status: str = VolunteerStatus.REGISTERED
    applied_on: datetime.date = AS_OF
    vetted_on: datetime.date | None = None
    registered_on: datetime.date | None = None
    left_on: datetime.date | None = None
    registration_number: str = ""
    refusal_reason: str = ""
    id_card_number: str = ""
    badge_number: str = ""
    consent_at: datetime.datetime | None = None
    consent_version: str = CURRENT_CONSENT_VERSION
    has_documents: bool = False
    history: list[tuple[str, str, datetime.date, str]] = field(default_factory=list)
    account: str = ""


@dataclass
class _GroupPlan:
    district: str
    name: str
    kind: str
    settlement: str = ""
    institution: str = ""
    members: list[tuple[_Person, datetime.date, datetime.date | None]] = field(default_factory=list)
    leader: _Person | None = None


@dataclass
class _Account:
    username: str
    first_name: str
    last_name: str
    role: str
    districts: tuple[str, ...] = ()
    chief_region: str = ""
    is_staff: bool = False
    is_superuser: bool = False
    language: str = "kk"


class _Planner:
    """Draws the demo's people and groups from one seeded random generator, in a fixed order."""

    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.iins: set[str] = set()
        self.tz = LOCAL_TZ

    def day_between(self, start: datetime.date, end: datetime.date) -> datetime.date:
        return start + datetime.timedelta(days=self.rng.randint(0, max((end - start).days, 0)))

    def moment(self, day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(
            day, datetime.time(self.rng.randint(9, 18), self.rng.randrange(0, 60, 5)), tzinfo=self.tz
        )

    def iin(self, birth_date: datetime.date, *, female: bool, serial: int) -> str:
        while True:
            iin = build_iin(birth_date, female=female, serial=serial)
            if iin not in self.iins:
                self.iins.add(iin)
                return iin
            serial = int(iin[7:11]) + 1

    def phone(self) -> str:
        return "+7" + self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10_000_000):07d}"

    def person(self, district: dict[str, str], *, student: bool = False, leader: bool = False) -> _Person:
        rng = self.rng
        female = rng.random() < 0.3
        if leader:
            age_days = int(rng.triangular(25, 60, 38) * 365.25)
        elif student:
            age_days = rng.randint(19 * 365 + 5, 23 * 365)
        else:
            age_days = int(rng.triangular(19.05, 64.9, 31) * 365.25)
        birth_date = AS_OF - datetime.timedelta(days=age_days)
        if rng.random() < RUSSIAN_SHARE.get(district["region"], DEFAULT_RUSSIAN_SHARE):
            last_name = rng.choice(RU_SURNAMES)[1 if female else 0]
            first_name = rng.choice(RU_WOMEN if female else RU_MEN)
            patronymic = rng.choice(RU_FATHERS)[1 if female else 0]
        else:
            last_name = rng.choice(KK_SURNAMES) + ("а" if female else "")
            first_name = rng.choice(KK_WOMEN if female else KK_MEN)
            father = rng.choice(KK_FATHERS)
            kazakh_style = rng.random() < (0.75 if age_on(birth_date, AS_OF) < 35 else 0.4)
            patronymic = father[(1 if kazakh_style else 3) + (1 if female else 0)]
        person = _Person(
            district=district["code"],
            last_name=last_name,
            first_name=first_name,
            patronymic=patronymic,
            female=female,
            birth_date=birth_date,
        )
        person.iin = self.iin(birth_date, female=female, serial=rng.randint(0, 9000))
        person.phone = self.phone()
        status = VolunteerStatus.REGISTERED
        if not leader:
            status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        self.lifecycle(person, status=status)
        return person

    def lifecycle(self, person: _Person, *, status: str, applied_on: datetime.date | None = None) -> None:
        """Dates, numbers and the status history of a person who has come as far as `status`."""
        rng = self.rng
        adult = person.birth_date + datetime.timedelta(days=18 * 366)
        earliest = max(FIRST_APPLICATION, adult)
        if applied_on is None:
            if status == VolunteerStatus.APPLICANT:
                applied_on = self.day_between(max(earliest, AS_OF - datetime.timedelta(days=60)), AS_OF)
            elif status in (VolunteerStatus.VETTED, VolunteerStatus.REFUSED):
                applied_on = self.day_between(
                    max(earliest, AS_OF - datetime.timedelta(days=150)), AS_OF - datetime.timedelta(days=60)
                )
            else:
                applied_on = self.day_between(earliest, AS_OF - datetime.timedelta(days=120))
        person.status = status
        person.applied_on = applied_on
        person.history = [("", VolunteerStatus.APPLICANT, applied_on, "")]
        if status == VolunteerStatus.REFUSED:
            person.refusal_reason = rng.choice(REFUSAL_REASONS)
            refused_on = applied_on + datetime.timedelta(days=rng.randint(15, 50))
            person.history.append((VolunteerStatus.APPLICANT, status, refused_on, person.refusal_reason))
        if status not in (VolunteerStatus.APPLICANT, VolunteerStatus.REFUSED):
            person.vetted_on = applied_on + datetime.timedelta(days=rng.randint(14, 45))
            person.history.append((VolunteerStatus.APPLICANT, VolunteerStatus.VETTED, person.vetted_on, ""))
        if status in (VolunteerStatus.REGISTERED, VolunteerStatus.SUSPENDED, VolunteerStatus.RETIRED):
            self.register(person)
        if status in (VolunteerStatus.SUSPENDED, VolunteerStatus.RETIRED):
            since = self.day_between(person.registered_on + datetime.timedelta(days=60), AS_OF)
            since = min(since, AS_OF)
            notes = SUSPENSION_REASONS if status == VolunteerStatus.SUSPENDED else RETIREMENT_NOTES
            person.history.append((VolunteerStatus.REGISTERED, status, since, rng.choice(notes)))
            if status == VolunteerStatus.RETIRED:
                person.left_on = since
        renewal = self.day_between(*CONSENT_RENEWAL)
        if person.left_on is not None and person.left_on < renewal:
            # Gone before the 2025 consent text: their consent is the one signed with the application.
            person.consent_at, person.consent_version = self.moment(applied_on), PREVIOUS_CONSENT_VERSION
        else:
            person.consent_at = self.moment(max(applied_on, renewal))

    def register(self, person: _Person) -> None:
        """The akimat's registration; numbers are given later, in the order of registration (see _number)."""
        person.registered_on = min(person.vetted_on + datetime.timedelta(days=self.rng.randint(10, 40)), AS_OF)
        person.has_documents = self.rng.random() < 0.92
        person.history.append((VolunteerStatus.VETTED, VolunteerStatus.REGISTERED, person.registered_on, ""))

    def groups_for(self, district: dict[str, str], settlements: list[dict[str, str]]) -> list[_GroupPlan]:
        rng = self.rng
        code, region = district["code"], district["region"]
        short = _short_name(district["name_kk"])
        plans = [_GroupPlan(district=code, name=f"{short} қоғамдық көмекшілері", kind=GroupKind.PUBLIC_ASSISTANTS)]
        extra = rng.randint(1, 3)
        kinds = [GroupKind.STUDENT_SQUAD, GroupKind.PUBLIC_ASSISTANTS]
        if settlements:
            kinds = [GroupKind.SAKSHY, GroupKind.SARBAZ, GroupKind.STUDENT_SQUAD]
        for kind in kinds[:extra]:
            if kind == GroupKind.PUBLIC_ASSISTANTS:
                plans.append(_GroupPlan(district=code, name=f"{short} қоғамдық көмекшілері №2", kind=kind))
            elif kind == GroupKind.STUDENT_SQUAD:
                institutions = CITY_INSTITUTIONS.get(region)
                institution = rng.choice(institutions) if institutions else f"{short} {rng.choice(COLLEGE_KINDS)}"
                name = f"«{rng.choice(SQUAD_NAMES)}» студенттік жасағы"
                plans.append(_GroupPlan(district=code, name=name, kind=kind, institution=institution))
            else:
                settlement = rng.choice(settlements)
                suffix = "«Сақшы» тобы" if kind == GroupKind.SAKSHY else "«Сарбаз» жасағы"
                plans.append(
                    _GroupPlan(
                        district=code,
                        name=f"{settlement['name_kk']} {suffix}",
                        kind=kind,
                        settlement=settlement["code"],
                    )
                )
        return plans

    def fill(self, plan: _GroupPlan, district: dict[str, str], size: int) -> None:
        """Members for a group; the first, its leader, is a registered volunteer of 25 or more (a squad's curator)."""
        student = plan.kind == GroupKind.STUDENT_SQUAD
        for index in range(size):
            person = self.person(district, student=student and index > 0, leader=index == 0)
            if index == 0:
                plan.leader = person
            if person.status == VolunteerStatus.REFUSED:
                # Refused applicants stay on the district's list; they never joined the group.
                plan.members.append((person, person.applied_on, person.applied_on))
                continue
            joined_on = min(person.applied_on + datetime.timedelta(days=self.rng.randint(0, 10)), AS_OF)
            plan.members.append((person, joined_on, person.left_on))


def _story_people(planner: _Planner) -> tuple[_Person, _Person]:
    """The `leader` and `volunteer` logins' people: registered members of the story group in Talgar District."""
    leader = _Person(
        district=STORY_DISTRICT,
        last_name="Жақыпов",
        first_name="Дәурен",
        patronymic="Сәкенұлы",
        female=False,
        birth_date=datetime.date(1988, 3, 14),
        phone="+77017771288",
        account="leader",
    )
    volunteer = _Person(
        district=STORY_DISTRICT,
        last_name="Сейітова",
        first_name="Айгерім",
        patronymic="Ерланқызы",
        female=True,
        birth_date=datetime.date(1999, 7, 21),
        phone="+77051234599",
        account="volunteer",
    )
    for person, applied_on in ((leader, datetime.date(2021, 3, 2)), (volunteer, datetime.date(2024, 2, 12))):
        person.iin = planner.iin(person.birth_date, female=person.female, serial=4242)
        planner.lifecycle(person, status=VolunteerStatus.REGISTERED, applied_on=applied_on)
    return leader, volunteer


def _inspector_account(planner: _Planner, district: dict[str, str]) -> _Account:
    if district["code"] == STORY_DISTRICT:
        return _Account("inspector", "Марат", "Жұмабеков", Role.INSPECTOR, districts=(STORY_DISTRICT,))
    female = planner.rng.random() < 0.25
    if planner.rng.random() < RUSSIAN_SHARE.get(district["region"], DEFAULT_RUSSIAN_SHARE):
        first_name = planner.rng.choice(RU_WOMEN if female else RU_MEN)
        last_name = planner.rng.choice(RU_SURNAMES)[1 if female else 0]
        language = "ru"
    else:
        first_name = planner.rng.choice(KK_WOMEN if female else KK_MEN)
        last_name = planner.rng.choice(KK_SURNAMES) + ("а" if female else "")
        language = "kk"
    username = "insp-" + district["code"][3:].lower()
    return _Account(username, first_name, last_name, Role.INSPECTOR, districts=(district["code"],), language=language)


@dataclass
class _Plan:
    districts: list[dict[str, str]]
    settlements: list[dict[str, str]]
    accounts: list[_Account]
    inspectors: dict[str, str]
    groups: list[_GroupPlan]


def _plan(*, members_per_group: tuple[int, int]) -> _Plan:
    planner = _Planner()
    districts = sorted(_read(DISTRICTS_FILE), key=lambda row: row["code"])
    settlements = _read(SETTLEMENTS_FILE)
    by_district: dict[str, list[dict[str, str]]] = {}
    for row in settlements:
        by_district.setdefault(row["district"], []).append(row)
    accounts = [
        _Account("chief", "Серік", "Әбдірахманов", Role.CHIEF, chief_region=STORY_REGION),
        _Account("analyst", "Динара", "Ахметова", Role.ANALYST, language="ru"),
        _Account("admin", "Алия", "Смағұлова", Role.ADMIN, is_staff=True, is_superuser=True),
        _Account("leader", "Дәурен", "Жақыпов", Role.LEADER),
        _Account("volunteer", "Айгерім", "Сейітова", Role.VOLUNTEER),
    ]
    inspectors: dict[str, str] = {}
    groups: list[_GroupPlan] = []
    story_leader, story_volunteer = _story_people(planner)
    for district in districts:
        account = _inspector_account(planner, district)
        accounts.append(account)
        inspectors[district["code"]] = account.username
        local_settlements = by_district.get(district["code"], [])
        if district["code"] == STORY_DISTRICT:
            plans = _story_groups(local_settlements)
            low, high = MEMBERS_PER_STORY_GROUP
        else:
            plans = planner.groups_for(district, local_settlements)
            low, high = members_per_group
        for plan in plans:
            planner.fill(plan, district, planner.rng.randint(low, high))
        if district["code"] == STORY_DISTRICT:
            story = plans[0]
            story.members[:0] = [
                (story_leader, story_leader.applied_on, None),
                (story_volunteer, story_volunteer.applied_on, None),
            ]
            story.leader = story_leader
        groups.extend(plans)
    # A few volunteers are in two groups of their district: a public assistant who also patrols with the village.
    for plan in groups:
        if plan.kind not in (GroupKind.SAKSHY, GroupKind.SARBAZ):
            continue
        helpers = [
            g for g in groups if g.district == plan.district and g.kind == GroupKind.PUBLIC_ASSISTANTS and g is not plan
        ]
        for helper in helpers[:1]:
            for person, joined, left in helper.members[:: max(len(helper.members) // 2, 1)]:
                if left is None and person.status == VolunteerStatus.REGISTERED and person not in _people(plan):
                    plan.members.append((person, max(joined, datetime.date(2025, 5, 1)), None))
    _number(groups)
    return _Plan(districts, _with_katos(districts, settlements), accounts, inspectors, groups)


def _with_katos(districts: list[dict[str, str]], settlements: list[dict[str, str]]) -> list[dict[str, str]]:
    """The districts and real settlements with their demo KATO codes, and the made-up villages after them."""
    district_kato = district_katos(districts)
    settlement_kato = real_settlement_katos(settlements, districts)
    for row in districts:
        row["kato"] = district_kato[row["code"]]
    real = [{**row, "kato": settlement_kato[row["code"]]} for row in settlements]
    return real + villages(districts, settlements, story_region_boundaries(districts))


def _number(groups: list[_GroupPlan]) -> None:
    """Akimat numbers (by district and year), ID cards and badges (by district), in the order of registration."""
    people = {person.iin: person for group in groups for person in _people(group)}
    registered = sorted(
        (person for person in people.values() if person.registered_on is not None),
        key=lambda person: (person.district, person.registered_on, person.iin),
    )
    in_year: Counter[tuple[str, int]] = Counter()
    in_district: Counter[str] = Counter()
    for person in registered:
        region, abbr, year = person.district[3:5], person.district[6:], person.registered_on.year
        in_year[(person.district, year)] += 1
        person.registration_number = f"{region}-{abbr}/{year}-{in_year[(person.district, year)]:03d}"
        person.history = [
            (old, new, day, person.registration_number if new == VolunteerStatus.REGISTERED else note)
            for old, new, day, note in person.history
        ]
        if person.has_documents:
            in_district[person.district] += 1
            number = in_district[person.district]
            person.id_card_number = f"{region}{abbr}{number:05d}"
            person.badge_number = f"{region}-{abbr}-{number:04d}"


def _people(plan: _GroupPlan) -> list[_Person]:
    return [person for person, _joined, _left in plan.members]


def _story_groups(settlements: list[dict[str, str]]) -> list[_GroupPlan]:
    """Talgar District's four groups, one of each kind: the demo's story happens here."""
    by_code = {row["code"]: row for row in settlements}
    beskainar, tuzdybastau = by_code["KZ-19-TAL-BSK"], by_code["KZ-19-TAL-TUZ"]
    return [
        _GroupPlan(district=STORY_DISTRICT, name=STORY_GROUP, kind=GroupKind.PUBLIC_ASSISTANTS),
        _GroupPlan(
            district=STORY_DISTRICT,
            name="«Жас қыран» студенттік жасағы",
            kind=GroupKind.STUDENT_SQUAD,
            institution="Талғар аграрлық-техникалық колледжі",
        ),
        _GroupPlan(
            district=STORY_DISTRICT,
            name=f"{beskainar['name_kk']} «Сақшы» тобы",
            kind=GroupKind.SAKSHY,
            settlement=beskainar["code"],
        ),
        _GroupPlan(
            district=STORY_DISTRICT,
            name=f"{tuzdybastau['name_kk']} «Сарбаз» жасағы",
            kind=GroupKind.SARBAZ,
            settlement=tuzdybastau["code"],
        ),
    ]


def _save_geography(plan: _Plan) -> tuple[dict[str, District], dict[str, Settlement], int, int]:
    """Create the missing demo districts and settlements; ones already there (maybe imported) stay as they are."""
    regions = Region.objects.in_bulk(field_name="code")
    boundaries = story_region_boundaries(plan.districts)
    existing = District.objects.in_bulk([row["code"] for row in plan.districts], field_name="code")
    new_districts = [
        District(
            region=regions[row["region"]],
            code=row["code"],
            name_kk=row["name_kk"],
            name_ru=row["name_ru"],
            name_en=row["name_en"],
            kato=row.get("kato"),
            centre=_point(row),
            boundary=boundaries.get(row["code"]),
        )
        for row in plan.districts
        if row["code"] not in existing
    ]
    District.objects.bulk_create(new_districts)
    districts = District.objects.in_bulk([row["code"] for row in plan.districts], field_name="code")
    existing_settlements = Settlement.objects.in_bulk([row["code"] for row in plan.settlements], field_name="code")
    new_settlements = [
        Settlement(
            district=districts[row["district"]],
            code=row["code"],
            name_kk=row["name_kk"],
            name_ru=row["name_ru"],
            name_en=row["name_en"],
            kato=row.get("kato"),
            centre=_point(row),
        )
        for row in plan.settlements
        if row["code"] not in existing_settlements
    ]
    insert_rows(Settlement, new_settlements)
    settlements = Settlement.objects.in_bulk([row["code"] for row in plan.settlements], field_name="code")
    return districts, settlements, len(new_districts), len(new_settlements)


def _save_accounts(plan: _Plan, *, password: str, districts: dict[str, District]) -> tuple[dict[str, User], int]:
    """Demo accounts by username: missing ones created; every one gets the password again, the six logins their role."""
    # One hash for every demo account: they share the password anyway, and hashing a hundred times would take a minute.
    encoded = make_password(password)
    usernames = [account.username for account in plan.accounts]
    existing = User.objects.in_bulk(usernames, field_name="username")
    regions = Region.objects.in_bulk(field_name="code")
    new_users = [
        User(
            username=account.username,
            first_name=account.first_name,
            last_name=account.last_name,
            role=account.role,
            chief_region=regions.get(account.chief_region),
            is_staff=account.is_staff,
            is_superuser=account.is_superuser,
            language=account.language,
            password=encoded,
        )
        for account in plan.accounts
        if account.username not in existing
    ]
    User.objects.bulk_create(new_users)
    User.objects.filter(username__in=usernames).update(password=encoded)
    for account in plan.accounts:
        if account.username in DEMO_LOGINS and account.username in existing:
            User.objects.filter(username=account.username).update(
                role=account.role,
                chief_region=regions.get(account.chief_region),
                is_staff=account.is_staff,
                is_superuser=account.is_superuser,
                is_active=True,
            )
    users = User.objects.in_bulk(usernames, field_name="username")
    links = User.inspector_districts.through
    bound = set(links.objects.filter(user__in=users.values()).values_list("user_id", "district_id"))
    links.objects.bulk_create(
        [
            links(user_id=users[account.username].pk, district_id=districts[code].pk)
            for account in plan.accounts
            for code in account.districts
            if (users[account.username].pk, districts[code].pk) not in bound
        ]
    )
    return users, len(new_users)


def _save_groups(
    plan: _Plan, *, districts: dict[str, District], settlements: dict[str, Settlement], users: dict[str, User]
) -> tuple[dict[tuple[str, str], Group], int]:
    keys = {(group.district, group.name) for group in plan.groups}
    existing = {
        (group.district.code, group.name): group
        for group in Group.objects.filter(district__in=[districts[code] for code, _name in keys]).select_related(
            "district"
        )
    }
    new_groups = [
        Group(
            name=group.name,
            kind=group.kind,
            district=districts[group.district],
            settlement=settlements.get(group.settlement),
            institution=group.institution,
            inspector=users[plan.inspectors[group.district]],
        )
        for group in plan.groups
        if (group.district, group.name) not in existing
    ]
    Group.objects.bulk_create(new_groups)
    for group in new_groups:
        existing[(group.district.code, group.name)] = group
    return existing, len(new_groups)


def _save_people(
    plan: _Plan,
    *,
    districts: dict[str, District],
    groups: dict[tuple[str, str], Group],
    users: dict[str, User],
) -> dict[str, int]:
    people: dict[str, _Person] = {}
    for group in plan.groups:
        for person in _people(group):
            people.setdefault(person.iin, person)
    existing = set(Volunteer.objects.filter(iin__in=list(people)).values_list("iin", flat=True))
    new_people = [person for iin, person in people.items() if iin not in existing]
    insert_rows(
        Volunteer,
        [
            Volunteer(
                district=districts[person.district],
                user=users.get(person.account),
                last_name=person.last_name,
                first_name=person.first_name,
                patronymic=person.patronymic,
                iin=person.iin,
                phone=person.phone,
                birth_date=person.birth_date,
                status=person.status,
                applied_on=person.applied_on,
                vetted_on=person.vetted_on,
                registration_number=person.registration_number,
                registered_on=person.registered_on,
                refusal_reason=person.refusal_reason,
                id_card_number=person.id_card_number,
                badge_number=person.badge_number,
                medical_check_passed=None if person.vetted_on is None else True,
                consent_at=person.consent_at,
                consent_version=person.consent_version,
            )
            for person in new_people
        ],
        batch_size=500,
    )
    volunteer_ids = dict(Volunteer.objects.filter(iin__in=list(people)).values_list("iin", "pk"))

    group_ids = [group.pk for group in groups.values()]
    joined = set(Membership.objects.filter(group_id__in=group_ids).values_list("volunteer_id", "group_id"))
    memberships = []
    for plan_group in plan.groups:
        group = groups[(plan_group.district, plan_group.name)]
        for person, joined_on, left_on in plan_group.members:
            key = (volunteer_ids[person.iin], group.pk)
            if person.status != VolunteerStatus.REFUSED and key not in joined:
                joined.add(key)
                memberships.append(Membership(volunteer_id=key[0], group=group, joined_on=joined_on, left_on=left_on))
    insert_rows(Membership, memberships)

    leaderless = []
    for plan_group in plan.groups:
        group = groups[(plan_group.district, plan_group.name)]
        if group.leader_id is None and plan_group.leader is not None:
            group.leader_id = volunteer_ids[plan_group.leader.iin]
            leaderless.append(group)
    Group.objects.bulk_update(leaderless, ["leader"], batch_size=500)

    changes = []
    for person in new_people:
        inspector = users[plan.inspectors[person.district]]
        for from_status, to_status, day, note in person.history:
            changes.append(
                VolunteerStatusChange(
                    volunteer_id=volunteer_ids[person.iin],
                    from_status=from_status,
                    to_status=to_status,
                    note=note,
                    by=inspector,
                    at=datetime.datetime.combine(day, datetime.time(11, 0), tzinfo=LOCAL_TZ),
                )
            )
    # `at` (filled on insert otherwise, auto_now_add) is the day each step really happened.
    insert_rows(VolunteerStatusChange, changes, keep=("at",))
    return {"volunteers": len(new_people), "memberships": len(memberships), "status_changes": len(changes)}
