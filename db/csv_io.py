"""CSV import and export of customers, so a call center can bring its existing CRM data.

Import reads a header row, then one customer a row. Known columns:

    external_ref, name (required), company, email, vip, priority, notes,
    phone, mobile, work, home, fax   (one number each; the column name is the kind),
    phones                           (several: "mobile:0171 5551234; work:030 1234567"),
    street, city, postal_code, region, country   (one postal address),
    custom                           (a JSON object of custom fields)

Any other column becomes a custom field of that name. A bad row (no name, a number the
tenant's dial plan cannot read, a bad flag, an external_ref seen before) is reported with its
line number and skipped; the good rows are stored. Export writes the same columns back (phones
in the ``phones`` form, custom fields as JSON), so an export imports again unchanged.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import Connection, Engine, select

from db import models as m
from db.customers import InvalidPhone, canonical_phone, create_customer
from db.records import Address, Phone, Tenant

PHONE_COLUMNS = ("phone", "mobile", "work", "home", "fax")
ADDRESS_COLUMNS = ("street", "city", "postal_code", "region", "country")
BASE_COLUMNS = ("external_ref", "name", "company", "email", "vip", "priority", "notes")
EXPORT_COLUMNS = (*BASE_COLUMNS, "phones", *ADDRESS_COLUMNS, "custom")
_KNOWN = {*BASE_COLUMNS, *PHONE_COLUMNS, "phones", *ADDRESS_COLUMNS, "custom"}
_TRUE = {"1", "true", "yes", "y", "x", "vip"}
_FALSE = {"", "0", "false", "no", "n"}


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.errors)


@dataclass(frozen=True)
class CustomerRow:
    """One validated CSV row, ready to store."""

    line: int
    name: str
    external_ref: str | None
    company: str | None
    email: str | None
    vip: bool
    priority: int
    notes: str | None
    phones: tuple[Phone, ...]
    address: Address | None
    custom: dict[str, Any]


class RowError(ValueError):
    pass


def parse_row(tenant: Tenant, line: int, row: dict[str, str | None]) -> CustomerRow:
    """Validate one CSV row (header -> value); RowError says what is wrong with it."""
    values = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
    if None in row:
        raise RowError("more fields than the header has columns")
    name = values.get("name", "")
    if not name:
        raise RowError("name is empty")
    vip_text = values.get("vip", "").lower()
    if vip_text not in _TRUE | _FALSE:
        raise RowError(f"vip must be yes/no, got {values['vip']!r}")
    try:
        priority = int(values.get("priority") or 0)
    except ValueError:
        raise RowError(f"priority must be a whole number, got {values['priority']!r}") from None
    phones = []
    try:
        for kind in PHONE_COLUMNS:
            if values.get(kind):
                phones.append(Phone(canonical_phone(tenant, values[kind]), kind, values[kind]))
        for item in filter(None, (p.strip() for p in values.get("phones", "").split(";"))):
            kind, sep, number = item.partition(":")
            if not sep:
                kind, number = "phone", item
            kind, number = kind.strip() or "phone", number.strip()
            phones.append(Phone(canonical_phone(tenant, number), kind, number))
    except InvalidPhone as error:
        raise RowError(str(error)) from None
    custom: dict[str, Any] = {}
    if values.get("custom"):
        try:
            custom = json.loads(values["custom"])
        except json.JSONDecodeError:
            raise RowError("custom is not valid JSON") from None
        if not isinstance(custom, dict):
            raise RowError("custom must be a JSON object")
    custom.update({k: v for k, v in values.items() if k not in _KNOWN and v})
    address = None
    if any(values.get(c) for c in ADDRESS_COLUMNS):
        country = values.get("country") or None
        if country is not None and len(country) != 2:
            raise RowError(f"country must be a two-letter code, got {country!r}")
        address = Address(
            street=values.get("street") or None, city=values.get("city") or None,
            postal_code=values.get("postal_code") or None, region=values.get("region") or None,
            country=country.upper() if country else None,
        )
    return CustomerRow(
        line=line, name=name, external_ref=values.get("external_ref") or None,
        company=values.get("company") or None, email=values.get("email") or None,
        vip=vip_text in _TRUE, priority=priority, notes=values.get("notes") or None,
        phones=tuple(phones), address=address, custom=custom,
    )


def import_customers(
    engine: Engine, tenant: Tenant, source: IO[str], *, batch_size: int = 1000
) -> ImportReport:
    """Store every good row of `source` for `tenant`; report the bad ones by line number.

    Rows are committed in batches, so a large file does not hold one huge transaction.
    """
    report = ImportReport()
    seen_refs: dict[str, int] = {}
    batch: list[CustomerRow] = []
    for line, row in _rows(source):
        try:
            parsed = parse_row(tenant, line, row)
        except RowError as error:
            report.errors.append((line, str(error)))
            continue
        if parsed.external_ref is not None:
            first = seen_refs.setdefault(parsed.external_ref, line)
            if first != line:
                report.errors.append(
                    (line, f"external_ref {parsed.external_ref!r} already on line {first}")
                )
                continue
        batch.append(parsed)
        if len(batch) >= batch_size:
            _store(engine, tenant, batch, report)
            batch = []
    if batch:
        _store(engine, tenant, batch, report)
    report.errors.sort()
    return report


def export_customers(conn: Connection, tenant: Tenant, out: IO[str], *, chunk: int = 5000) -> int:
    """Write the tenant's customers as CSV in import format; returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    last_id = 0
    while True:
        customers = conn.execute(
            select(m.Customer)
            .where(m.Customer.tenant_id == tenant.id, m.Customer.id > last_id)
            .order_by(m.Customer.id)
            .limit(chunk)
        ).all()
        if not customers:
            return count
        ids = [c.id for c in customers]
        phones: dict[int, list[str]] = {i: [] for i in ids}
        for r in conn.execute(
            select(m.CustomerPhone.customer_id, m.CustomerPhone.kind, m.CustomerPhone.number)
            .where(m.CustomerPhone.tenant_id == tenant.id, m.CustomerPhone.customer_id.in_(ids))
            .order_by(m.CustomerPhone.id)
        ):
            phones[r.customer_id].append(f"{r.kind}:{r.number}")
        addresses: dict[int, Any] = {}
        for r in conn.execute(
            select(m.CustomerAddress)
            .where(m.CustomerAddress.tenant_id == tenant.id,
                   m.CustomerAddress.customer_id.in_(ids))
            .order_by(m.CustomerAddress.id.desc())
        ):
            addresses[r.customer_id] = r
        for c in customers:
            address = addresses.get(c.id)
            writer.writerow([
                c.external_ref or "", c.name, c.company or "", c.email or "",
                "yes" if c.vip else "no", c.priority, c.notes or "", "; ".join(phones[c.id]),
                *(("" if address is None else getattr(address, col) or "") for col in ADDRESS_COLUMNS),
                json.dumps(c.custom, ensure_ascii=False, sort_keys=True) if c.custom else "",
            ])
            count += 1
        last_id = ids[-1]


def _rows(source: IO[str]) -> Iterator[tuple[int, dict[str, str | None]]]:
    sample = source.readline()
    if not sample.strip():
        return
    # The header decides the delimiter (Excel writes ';' in much of Europe); quoting is Excel's.
    delimiter = max(",;\t", key=sample.count)
    reader = csv.DictReader(_chain(sample, source), delimiter=delimiter)
    if reader.fieldnames and "name" not in {f.strip().lower() for f in reader.fieldnames}:
        raise ValueError("the CSV header has no 'name' column")
    for row in reader:
        if any((v or "").strip() for k, v in row.items() if k is not None) or None in row:
            yield reader.line_num, row


def _chain(first: str, rest: IO[str]) -> Iterator[str]:
    yield first.lstrip("\ufeff")
    yield from rest


def _store(engine: Engine, tenant: Tenant, batch: list[CustomerRow], report: ImportReport) -> None:
    refs = [r.external_ref for r in batch if r.external_ref]
    with engine.begin() as conn:
        existing = set()
        for start in range(0, len(refs), 500):
            existing.update(conn.execute(
                select(m.Customer.external_ref).where(
                    m.Customer.tenant_id == tenant.id,
                    m.Customer.external_ref.in_(refs[start:start + 500]),
                )
            ).scalars())
        for row in batch:
            if row.external_ref in existing:
                report.errors.append(
                    (row.line, f"external_ref {row.external_ref!r} is already a customer")
                )
                continue
            create_customer(
                conn, tenant, row.name, phones=row.phones, company=row.company, email=row.email,
                vip=row.vip, priority=row.priority, external_ref=row.external_ref,
                notes=row.notes, custom=row.custom,
                addresses=[row.address] if row.address else (),
            )
            report.imported += 1
