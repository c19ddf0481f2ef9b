"""Files opened in a spreadsheet: the service's one CSV writer and its XLSX cell writer.

French Excel opens a CSV as UTF-8 only with a byte-order mark, and expects ``;`` between
fields and a decimal comma: that is the default; ``sep=","`` and ``decimal="point"`` give
the international form. Values are typed: numbers stay plain decimals (``15,00``, no
thousands separator, so that spreadsheets read them as numbers), dates are ``dd/mm/yyyy``.

Formula injection (CWE-1236): a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return runs as a formula when a spreadsheet opens the file. Any text of a CSV that
starts so gets a leading apostrophe; in an XLSX such text is stored as a string cell, which a
spreadsheet shows and never evaluates (openpyxl would otherwise write ``=...`` as a formula).
Numbers are never touched: ``-15,00`` stays a negative amount.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EUROS = '#,##0.00\\ "€"'
PERCENT = "0.0%"
DAY = "DD/MM/YYYY"


def guarded(text: str) -> str:
    """Text that a spreadsheet shows as typed, never as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cents_to_euros(cents: int) -> Decimal:
    """Exact euros for a file (``Decimal('15.00')``): no binary-float rounding in money."""
    return Decimal(cents).scaleb(-2)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence], *, sep: str = ";", decimal: str = "comma") -> bytes:
    """A whole CSV file (BOM, CRLF) of typed values: str, int, float, Decimal, date, datetime, bool or None."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    writer.writerow([guarded(title) for title in header])
    point = decimal != "comma"
    for row in rows:
        writer.writerow([_csv_text(value, point) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_text(value, point: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, Decimal)):
        # repr() is the shortest exact form of a float; Decimal spells it without an exponent.
        text = format(value if isinstance(value, Decimal) else Decimal(repr(value)), "f")
        text = text.removesuffix(".0") if isinstance(value, float) else text
        return text if point else text.replace(".", ",")
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return guarded(str(value))


def append_row(sheet, values: Sequence, formats: Sequence[str | None] = ()) -> int:
    """Append typed values to an openpyxl sheet, text guarded, each cell with its number format; the row's index."""
    sheet.append([float(v) if isinstance(v, Decimal) else v for v in values])
    row = sheet.max_row
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=column)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"
        if column <= len(formats) and formats[column - 1]:
            cell.number_format = formats[column - 1]
        elif isinstance(value, (date, datetime)):
            cell.number_format = DAY
    return row


def header(sheet, row: int, widths: Sequence[int]) -> None:
    """Bold header row, frozen under it, column widths."""
    for cell in sheet[row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = sheet.cell(row=row + 1, column=1)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def title(sheet, text: str) -> None:
    append_row(sheet, [text])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, size=13)


def xlsx_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
