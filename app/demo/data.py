"""Deterministic demo data for Herald.

``build_demo_database`` writes a small SQLite database of fictional customers
and their account transactions, used by the demo "customer statement" report.
Only the standard library is used so it can run anywhere Herald runs.

Sign convention for ``transactions.amount_cents``: charges to the customer
(invoices, subscriptions) are negative, payments received and credit notes are
positive.  ``customers.balance_cents`` is the sum of all transactions booked on
or before ``today``.
"""

from __future__ import annotations

import calendar
import json
import random
import sqlite3
from datetime import date
from pathlib import Path

__all__ = ["DEMO_CUSTOMER_WITHOUT_EMAIL", "build_demo_database"]

#: The id of the one demo customer that has an empty e-mail address (when the
#: database has at least this many customers; otherwise the last customer).
DEMO_CUSTOMER_WITHOUT_EMAIL = 7

_SEED = 42
_MONTHS_BEFORE = 6
_MONTHS_AFTER = 1

# Fictional names, streets and (city, country, postcode style) triples: data, kept as data.
_NAMES = json.loads((Path(__file__).with_name("names.json")).read_text(encoding="utf-8"))
_FIRST_NAMES = tuple(_NAMES["first_names"])
_LAST_NAMES = tuple(_NAMES["last_names"])
_STREETS = tuple(_NAMES["streets"])
_CITIES = tuple(tuple(city) for city in _NAMES["cities"])

_UK_AREAS = {"London": "SW", "Manchester": "M", "Bristol": "BS", "Edinburgh": "EH"}
_CA_PREFIX = {"Toronto": "M", "Vancouver": "V", "Montreal": "H"}
_US_PREFIX = {
    "Portland": "972",
    "Austin": "787",
    "Denver": "802",
    "Boston": "021",
    "Seattle": "981",
    "Chicago": "606",
    "Minneapolis": "554",
    "Raleigh": "276",
}
_DE_PREFIX = {"Berlin": "10", "Hamburg": "20"}
_NL_PREFIX = {"Amsterdam": "10", "Rotterdam": "30"}
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"

# (description, min cents, max cents) -- charges, stored as negative amounts.
_CHARGES = (
    ("Consulting hours", 24000, 180000),
    ("Office supplies", 1500, 32000),
    ("Printer paper (10 reams)", 4200, 6800),
    ("Toner cartridges", 8900, 38000),
    ("Shipping & handling", 900, 7500),
    ("Freight delivery", 12000, 64000),
    ("Warehouse storage", 15000, 90000),
    ("Installation service", 18000, 75000),
    ("Laptop stands", 5900, 29500),
    ("Ergonomic office chairs", 34900, 139600),
    ("Training workshop", 45000, 150000),
    ("Support contract (monthly)", 9900, 24900),
    ("Packaging materials", 2500, 18000),
    ("Cleaning supplies", 1800, 9600),
)

_PLANS = (
    ("Subscription — Basic plan", 1900),
    ("Subscription — Pro plan", 4900),
    ("Subscription — Team plan", 12900),
    ("Subscription — Enterprise plan", 49900),
)

_CREDIT_REASONS = (
    "Damaged goods",
    "Returned items",
    "Pricing adjustment",
    "Late delivery goodwill",
    "Duplicate charge",
)

_PAYMENT = "Payment received — thank you"

_SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    address TEXT NOT NULL,
    city TEXT NOT NULL,
    postcode TEXT NOT NULL,
    country TEXT NOT NULL,
    balance_cents INTEGER NOT NULL
);
CREATE TABLE transactions (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    booked_on TEXT NOT NULL,
    description TEXT NOT NULL,
    amount_cents INTEGER NOT NULL
);
"""

_INDEX = "CREATE INDEX ix_transactions_customer_booked ON transactions (customer_id, booked_on);"


def _postcode(rng: random.Random, city: str, style: str) -> str:
    if style == "us":
        return f"{_US_PREFIX[city]}{rng.randint(1, 99):02d}"
    if style == "ca":
        l1, l2, l3 = (rng.choice(_LETTERS) for _ in range(3))
        return (
            f"{_CA_PREFIX[city]}{rng.randint(1, 9)}{l1} {rng.randint(0, 9)}{l2}{rng.randint(0, 9)}"
        )
    if style == "uk":
        inward = f"{rng.randint(1, 9)}{rng.choice(_LETTERS)}{rng.choice(_LETTERS)}"
        return f"{_UK_AREAS[city]}{rng.randint(1, 20)} {inward}"
    if style == "ie":
        return f"D{rng.randint(1, 24):02d} {rng.choice(_LETTERS)}{rng.randint(100, 999)}"
    if style == "nl":
        return (
            f"{_NL_PREFIX[city]}{rng.randint(10, 99)} {rng.choice(_LETTERS)}{rng.choice(_LETTERS)}"
        )
    if style == "de":
        return f"{_DE_PREFIX[city]}{rng.randint(100, 999)}"
    raise ValueError(style)


def _email_part(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _people(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Return ``count`` distinct (display name, email local part) pairs."""
    pairs = [(f, last) for f in _FIRST_NAMES for last in _LAST_NAMES]  # 2,500 combinations
    rng.shuffle(pairs)
    people = [(f"{f} {s}", f"{_email_part(f)}.{_email_part(s)}") for f, s in pairs[:count]]
    # Beyond the plain combinations, add middle initials (still all distinct).
    extra = count - len(people)
    if extra > 0:
        initials = _LETTERS
        for n in range(extra):
            f, last = pairs[n % len(pairs)]
            rnd, idx = divmod(n // len(pairs), len(initials))
            initial = initials[idx] + (str(rnd + 1) if rnd else "")
            people.append(
                (
                    f"{f} {initial}. {last}",
                    f"{_email_part(f)}.{_email_part(initial)}.{_email_part(last)}",
                )
            )
    return people


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def build_demo_database(path: Path, customers: int = 30, today: date | None = None) -> None:
    """Create (or overwrite) the demo SQLite database at ``path``.

    Deterministic for a given ``customers`` and ``today``.  Transactions cover
    every month from six months before ``today``'s month to one month after it.
    """
    if customers < 1:
        raise ValueError("customers must be >= 1")
    today = today or date.today()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)

    rng = random.Random(_SEED)
    randint = rng.randint
    rnd = rng.random
    choice = rng.choice

    no_email_id = min(DEMO_CUSTOMER_WITHOUT_EMAIL, customers)
    today_iso = today.isoformat()

    months = []
    for delta in range(-_MONTHS_BEFORE, _MONTHS_AFTER + 1):
        y, m = _add_months(today.year, today.month, delta)
        months.append((f"{y:04d}-{m:02d}-", calendar.monthrange(y, m)[1]))

    customer_rows = []
    tx_rows = []
    invoice_no = 10001
    credit_no = 2001
    n_charges = len(_CHARGES)

    for cid, (name, local) in enumerate(_people(rng, customers), start=1):
        city, country, style = choice(_CITIES)
        address = f"{randint(1, 2400)} {choice(_STREETS)}"
        if rnd() < 0.2:
            address += f", Suite {randint(100, 950)}"
        email = "" if cid == no_email_id else f"{local}@example.com"
        plan_name, plan_cents = choice(_PLANS)
        # How reliably this customer pays: most pay in full, some partially.
        reliability = 0.97 if rnd() < 0.8 else 0.75
        balance = 0  # booked on or before today
        running = 0  # everything generated so far
        for prefix, days in months:
            count = randint(8, 15)
            entries = []
            # Monthly subscription on the 1st.
            entries.append((1, plan_name, -plan_cents, False))
            # Payment of what was owed at the end of last month (1 or 2 instalments,
            # sometimes partial, sometimes missed -- then caught up the month after).
            owed = -running
            n_pay = 0 if owed <= 0 or rnd() > reliability else (2 if rnd() < 0.25 else 1)
            if n_pay:
                total = owed if rnd() < 0.85 else owed // 2
                first = total if n_pay == 1 else total // 2
                entries.append((randint(3, 14), _PAYMENT, first, False))
                if n_pay == 2:
                    entries.append((randint(15, days), _PAYMENT, total - first, False))
            # Occasional credit note.
            if rnd() < 0.15:
                entries.append(
                    (
                        randint(2, days),
                        f"Credit note CN-{credit_no} — {choice(_CREDIT_REASONS)}",
                        randint(5, 120) * 100,
                        False,
                    )
                )
                credit_no += 1
            for _ in range(max(count - len(entries), 0)):
                desc, lo, hi = _CHARGES[int(rnd() * n_charges)]
                cents = int(lo + rnd() * (hi - lo))
                if rnd() < 0.7:
                    cents = cents // 100 * 100  # many invoices are whole amounts
                entries.append((randint(1, days), desc, -cents, True))
            entries.sort(key=lambda e: e[0])
            for day, desc, cents, is_invoice in entries:
                if is_invoice:  # number invoices in booking order
                    desc = f"Invoice {invoice_no} — {desc}"
                    invoice_no += 1
                booked = f"{prefix}{day:02d}"
                tx_rows.append((cid, booked, desc, cents))
                running += cents
                if booked <= today_iso:
                    balance += cents
        customer_rows.append(
            (cid, name, email, address, city, _postcode(rng, city, style), country, balance)
        )

    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(_SCHEMA)
        with conn:  # single transaction
            conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?)", customer_rows)
            conn.executemany(
                "INSERT INTO transactions (customer_id, booked_on, description, amount_cents)"
                " VALUES (?, ?, ?, ?)",
                tx_rows,
            )
            conn.execute(_INDEX)
    finally:
        conn.close()
