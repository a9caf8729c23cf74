"""Generated CRM exports for scoring tests and bench/bench_score.py: Salesforce-shaped accounts
with the mess real exports carry (number and date formats, full country names and state codes,
empty cells, free text with negations), reproducible from a seed."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from pathlib import Path

HEADER = [
    "Account ID", "Account Name", "Industry", "Employees", "Annual Revenue", "Billing City",
    "Billing State/Province", "Billing Country", "Account Source", "Technologies", "Sites",
    "Signal Date", "Description", "Tags", "Account Owner",
]  # fmt: skip

INDUSTRIES = [
    "Transportation", "Logistics", "Logistics and Supply Chain", "Warehousing", "3PL",
    "Third-party logistics", "Retail", "Wholesale", "Food & Beverage", "Pharmaceuticals",
    "Cold-chain logistics", "Manufacturing", "E-commerce", "Healthcare", "Software", "",
    "N/A", "3PL / e-commerce fulfilment", "Agency", "-",
]  # fmt: skip
EMPLOYEES = [
    "650", "1,200", "1.2k", "200-500", "~400", "500+", "", "n/a", "45", "310", "800", "1 500",
    "１,２００", "<50", "about 350", "3,000", "90", "150 - 300", "420.0",
]  # fmt: skip
REVENUE = [
    "$120,000,000.00", "USD 85,000,000", "120000000", "$1.5bn", "€40 Mio", "5-10M", "",
    "~$90M", "$52,000,000.00", "CAD 90,000,000", "EUR 45,000,000", "400000000", "$6M", "50M+",
    "up to $75M", "n/a", "$210M",
]  # fmt: skip
PLACES = [
    ("Dallas", "TX", "United States"), ("Columbus", "OH", "USA"), ("Lincoln", "Nebraska", "US"),
    ("Chicago", "IL", ""), ("Toronto", "ON", "Canada"), ("Hamburg", "", "Germany"),
    ("Berlin", "", "Deutschland"), ("London", "", "UK"), ("Atlanta", "Georgia", "United States"),
    ("Tbilisi", "", "Georgia"), ("Monterrey", "NL", "Mexico"), ("Austin", "Texas", "U.S."),
    ("Albuquerque", "New Mexico", "United States"), ("", "", ""), ("Portland", "OR", ""),
    ("San Diego", "CA", "USA"), ("Vancouver", "BC", "Canada"), ("Milwaukee", "WI", "US"),
    ("Zürich", "", "Schweiz"), ("Denver", "CO", "United States of America"),
    ("Houston", "tx", "united states"), ("Paris", "", "France"), ("Dublin", "", "Ireland"),
]  # fmt: skip
SOURCES = [
    "Word of mouth", "Partner Referral", "Web", "Trade Show", "", "Employee Referral",
    "Purchased List", "Phone Inquiry", "referral", "LinkedIn",
]  # fmt: skip
TECH = [
    "", "", "Manhattan; UKG", "Blue Yonder", "SAP", "Excel", "NetSuite; Excel", "Kronos",
    "no WMS", "Manhattan (being replaced)", "Oracle",
]  # fmt: skip
SITES = ["", "", "4", "12", "1", "6", "2-3", "20"]
DATES = ["", "", "", "2026-10-01", "31.12.2025", "Oct 1, 2026", "2026/11/02", "1 Nov 2026",
         "2026-09-30T08:00:00Z", "2024-02-29", "Sept 3 2026"]
BAD = {"employees": ["lots", "1.2.3", "12abc"], "date": ["someday", "2025-02-29", "99/99/9999"]}  # fmt: skip
FRAGMENTS = [
    "3PL with {n} warehouses", "runs Manhattan WMS and UKG", "new VP of Operations started in Sept",
    "Cold-chain and pharma distribution", "Not a cold-chain operation", "dry goods only",
    "migrating off SAP to NetSuite", "no Kronos", "time clocks on Kronos", "shift plans in Excel",
    "rough peak last November", "go-live of a second site planned", "e-commerce fulfillment",
    "contact us for a demo", "serves the US Midwest", "Blue Yonder WMS", "family-owned",
    "evaluating Manhattan", "previously on Kronos", "Kronos, phased out last year",
    "temperature-controlled storage", "single-site operation", "third-party logistics provider",
    "we are not an agency", "digital agency", "3pl for DTC brands", "warehouse operator",
    "word-of-mouth growth", "ERP is SAP but WMS is Manhattan", "no longer uses Excel",
    "Excel\nManhattan", "fulfilment centers in Texas",
]  # fmt: skip
TAGS = ["", "", "3PL; warehousing", "pharma", "cold chain", "ecommerce", "SaaS", "logistics"]


def rows(count: int, seed: int = 19) -> Iterator[list[str]]:
    """`count` account rows (no header)."""
    rnd = random.Random(seed)
    for i in range(count):
        city, state, country = rnd.choice(PLACES)
        parts = rnd.sample(FRAGMENTS, rnd.randint(0, 4))
        text = "; ".join(p.format(n=rnd.randint(1, 20)) for p in parts)
        if rnd.random() < 0.3:
            text = text.replace("; ", ". ", 1)
        yield [
            f"0015e{i:010d}AAA",
            f"Account {i} {rnd.choice(['Logistics', 'Fulfillment', 'Supply', 'Group', 'Inc'])}",
            rnd.choice(INDUSTRIES),
            rnd.choice(EMPLOYEES) if rnd.random() < 0.99 else rnd.choice(BAD["employees"]),
            rnd.choice(REVENUE),
            city,
            state,
            country,
            rnd.choice(SOURCES),
            rnd.choice(TECH),
            rnd.choice(SITES),
            rnd.choice(DATES) if rnd.random() < 0.99 else rnd.choice(BAD["date"]),
            text,
            rnd.choice(TAGS),
            rnd.choice(["Dana Ruiz", "Sam Lee", ""]),
        ]


def write(path: Path, count: int, seed: int = 19) -> Path:
    """Write a generated export with its header; returns the path."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        chunk = io.StringIO()
        chunk_writer = csv.writer(chunk)
        for n, row in enumerate(rows(count, seed), 1):
            chunk_writer.writerow(row)
            if n % 10000 == 0:
                handle.write(chunk.getvalue())
                chunk.seek(0)
                chunk.truncate()
        handle.write(chunk.getvalue())
    return path
