#!/usr/bin/python3
"""Spreadsheets written by real tools for the recipient reader's tests, each beside the CSV that
holds the same rows as a person sees them.

    make-spreadsheets.py FOLDER [ROWS]

- people.xlsx (openpyxl) and people.ods (odfpy): a sheet "Customers" with text in several
  scripts, numbers in formats (currency, decimals, a percentage, whole numbers), dates and times,
  booleans, empty cells, a header cell merged over two columns, a hidden row, a comment, and a
  second sheet "Other"; people.csv and other.csv are what they show (the hidden row left out).
- formulas.xlsx (openpyxl): formulas without results, as a script writes them; gnumeric.xlsx and
  gnumeric.ods are the same saved by Gnumeric (ssconvert), which calculates them and shares
  repeated texts; gnumeric.csv is Gnumeric's own CSV export of it.
- big.xlsx (openpyxl, ROWS rows, 100,000 by default), big.ods (Gnumeric) and shared.xlsx (every text
  in the shared strings, as Excel writes them; Python's zipfile) with big.csv.
"""
import csv
import datetime
import os
import subprocess
import sys

import openpyxl
from openpyxl.comments import Comment
from odf.opendocument import OpenDocumentSpreadsheet
from odf.office import Annotation
from odf.table import Table, TableRow, TableCell, CoveredTableCell
from odf.text import P

folder = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
os.makedirs(folder, exist_ok=True)


def path(name):
    return os.path.join(folder, name)


HEADER = ["Name", "Email", "Amount", "Since", "Meeting", "Share", "Active", "Notes", "Address", None]
# Each value with its number format and the text a person sees.
PEOPLE = [
    [("Anna Müller", None), ("anna@example.com", None), (1234.5, '#,##0.00 [$€-407]'),
     (datetime.date(2026, 12, 6), 'dd.mm.yyyy'), (datetime.datetime(2026, 12, 6, 14, 30), 'yyyy-mm-dd hh:mm'),
     (0.125, '0.0%'), (True, None), ("", None), ("Hauptstraße 1", None), ("Berlin", None)],
    [("Zoë O’Brien", None), ("zoe@example.org", None), (42, None),
     (datetime.date(2025, 1, 2), 'd mmm yyyy'), (datetime.datetime(2026, 3, 4, 9, 5), 'h:mm AM/PM'),
     (1, '0%'), (False, None), ("says \"hi\", twice", None), ("", None), ("Dublin", None)],
    [("Hidden Row", None), ("hidden@example.com", None), (1, None), (None, None), (None, None),
     (None, None), (None, None), (None, None), (None, None), (None, None)],
    [("王小明", None), ("wang@example.cn", None), (-7.25, '"$"#,##0.00;("$"#,##0.00)'),
     (None, None), (None, None), (3.5, None), (None, None), ("line one\nline two", None), (None, None), (None, None)],
    [("Émile", None), ("emile@example.fr", None), (1000000, '#,##0'), (datetime.date(1999, 12, 31), 'yyyy-mm-dd'),
     (None, None), (0.333, '0.00'), (None, None), (None, None), ("Rue 5", None), ("Paris", None)],
]
HIDDEN = 2   # the index in PEOPLE of the row the sheet hides
SHOWN = {
    1234.5: "1,234.50 €", datetime.date(2026, 12, 6): "06.12.2026",
    datetime.datetime(2026, 12, 6, 14, 30): "2026-12-06 14:30", 0.125: "12.5%", True: "TRUE",
    datetime.date(2025, 1, 2): "2 Jan 2025", datetime.datetime(2026, 3, 4, 9, 5): "9:05 AM", 1: "100%",
    False: "FALSE", -7.25: "($7.25)", 3.5: "3.5", 1000000: "1,000,000", datetime.date(1999, 12, 31): "1999-12-31",
    0.333: "0.33", 42: "42",
}


def shown(value, index):
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if value is True or value is False:
        return "TRUE" if value else "FALSE"
    if value == 1 and index == 2:
        return "1"
    return SHOWN[value]


def expected_rows():
    out = [["Name", "Email", "Amount", "Since", "Meeting", "Share", "Active", "Notes", "Address", "Address 2"]]
    for i, row in enumerate(PEOPLE):
        if i != HIDDEN:
            out.append([shown(value, j) for j, (value, _) in enumerate(row)])
    return out


OTHER = [["Code", "Mail"], ["A-1", "first@example.com"], ["B-2", "second@example.com"]]


def write_csv(name, table):
    with open(path(name), "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(table)


def people_xlsx():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Customers"
    sheet.append(HEADER[:-1])
    sheet.merge_cells("I1:J1")
    for row in PEOPLE:
        sheet.append([None if value == "" else value for value, _ in row])
        for column, (_, number_format) in enumerate(row, start=1):
            if number_format:
                sheet.cell(row=sheet.max_row, column=column).number_format = number_format
    sheet.row_dimensions[2 + HIDDEN].hidden = True
    sheet["A2"].comment = Comment("a note, not a value", "tests")
    other = book.create_sheet("Other")
    for row in OTHER:
        other.append(row)
    book.save(path("people.xlsx"))


def ods_cell(value, index):
    text = shown(value, index)
    if text == "":
        return TableCell()
    if isinstance(value, bool):
        cell = TableCell(valuetype="boolean", booleanvalue="true" if value else "false")
    elif isinstance(value, (int, float)):
        cell = TableCell(valuetype="float", value=str(value))
    elif isinstance(value, datetime.datetime):
        cell = TableCell(valuetype="date", datevalue=value.isoformat())
    elif isinstance(value, datetime.date):
        cell = TableCell(valuetype="date", datevalue=value.isoformat())
    else:
        cell = TableCell(valuetype="string")
    for line in text.split("\n"):
        cell.addElement(P(text=line))
    return cell


def people_ods():
    doc = OpenDocumentSpreadsheet()
    table = Table(name="Customers")
    doc.spreadsheet.addElement(table)
    header = TableRow()
    for name in HEADER[:-2]:
        cell = TableCell(valuetype="string")
        cell.addElement(P(text=name))
        header.addElement(cell)
    merged = TableCell(valuetype="string", numbercolumnsspanned=2)
    merged.addElement(P(text="Address"))
    header.addElement(merged)
    header.addElement(CoveredTableCell())
    table.addElement(header)
    for i, row in enumerate(PEOPLE):
        element = TableRow(visibility="collapse") if i == HIDDEN else TableRow()
        for j, (value, _) in enumerate(row):
            cell = ods_cell(value, j)
            if i == 0 and j == 0:
                note = Annotation()
                note.addElement(P(text="a note, not a value"))
                cell.insertBefore(note, cell.firstChild)
            element.addElement(cell)
        table.addElement(element)
    # Spreadsheet programs end a sheet with empty rows and cells repeated to its size.
    filler = TableRow(numberrowsrepeated=1048000)
    filler.addElement(TableCell(numbercolumnsrepeated=1024))
    table.addElement(filler)
    other = Table(name="Other")
    doc.spreadsheet.addElement(other)
    for row in OTHER:
        element = TableRow()
        for value in row:
            element.addElement(ods_cell(value, 0))
        other.addElement(element)
    doc.save(path("people.ods"))


def formulas_xlsx():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Orders"
    sheet.append(["Customer", "Email", "Price", "Quantity", "Total", "Due", "City"])
    cities = ["Berlin", "Paris", "Berlin", "Rome", "Paris"]
    for i in range(1, 41):
        sheet.append([f"Customer {i}", f"c{i}@example.com", 9.99 + i, i % 7, f"=C{i + 1}*D{i + 1}",
                      datetime.date(2026, 1, 1) + datetime.timedelta(days=i * 11), cities[i % 5]])
        sheet.cell(row=i + 1, column=3).number_format = '#,##0.00'
        sheet.cell(row=i + 1, column=5).number_format = '#,##0.00'
        sheet.cell(row=i + 1, column=6).number_format = 'dd/mm/yyyy'
    book.save(path("formulas.xlsx"))


def gnumeric(source, target, *options):
    subprocess.run(["ssconvert", *options, path(source), path(target)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def big():
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Customers")
    table = [["Name", "Email", "Number", "Town"]]
    sheet.append(table[0])
    towns = ["Berlin", "Paris", "Rome", "Madrid", "Lisbon"]
    for i in range(1, rows + 1):
        row = [f"Customer {i}", f"customer{i}@example.com", i, towns[i % 5]]
        sheet.append(row)
        table.append([str(value) for value in row])
    book.save(path("big.xlsx"))
    write_csv("big.csv", table)
    shared_xlsx(table)


def shared_xlsx(table):
    """big.csv's rows as Excel writes text: every string once, in the shared strings table (too
    many to keep in memory: the reader sets them aside in a file)."""
    import zipfile
    from xml.sax.saxutils import escape
    strings, index = [], {}

    def ref(text):
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return index[text]

    rows_xml = []
    for r, row in enumerate(table, start=1):
        cells = []
        for c, value in enumerate(row):
            column = "ABCD"[c]
            if value.isdigit() and r > 1:
                cells.append(f'<c r="{column}{r}"><v>{value}</v></c>')
            else:
                cells.append(f'<c r="{column}{r}" t="s"><v>{ref(value)}</v></c>')
        rows_xml.append(f'<row r="{r}">{"".join(cells)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path("shared.xlsx"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("_rels/.rels", f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
                   f'<sheet name="Customers" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
                   f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{main}">' +
                   "".join(f"<si><t>{escape(text)}</t></si>" for text in strings) + "</sst>")
        z.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{main}"><sheetData>' + "".join(rows_xml) +
                   "</sheetData></worksheet>")


people_xlsx()
people_ods()
write_csv("people.csv", expected_rows())
write_csv("other.csv", OTHER)
formulas_xlsx()
gnumeric("formulas.xlsx", "gnumeric.xlsx")
gnumeric("formulas.xlsx", "gnumeric.ods")
gnumeric("formulas.xlsx", "gnumeric.csv", "-T", "Gnumeric_stf:stf_assistant", "-O", "format=preserve separator=,")
big()
gnumeric("big.csv", "big.ods")
