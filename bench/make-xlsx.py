#!/usr/bin/python3
"""make-xlsx.py PATH ROWS: the benchmark's recipient list as an .xlsx, every text in the shared strings as
Excel writes them (each address its own: the worst case for the table), numbers inline."""
import sys, zipfile
path, rows = sys.argv[1], int(sys.argv[2])


with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="List" sheetId="1" r:id="rId1"/></sheets></workbook>')
    z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    fixed = ["email", "first", "last", "event", "city", "date", "Müller", "Spring fair", "Zürich", "1 May 2027"]
    with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
        f.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
        for s in fixed:
            f.write(f"<si><t>{s}</t></si>".encode())
        for i in range(rows):
            f.write(f"<si><t>person{i}@example.org</t></si><si><t>Anna{i}</t></si>".encode())
        f.write(b"</sst>")
    with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
        f.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
        f.write(b'<row r="1">' + b"".join(f'<c t="s"><v>{i}</v></c>'.encode() for i in range(6)) + b'<c t="inlineStr"><is><t>seat</t></is></c></row>')
        for i in range(rows):
            a = 10 + 2 * i
            f.write(f'<row r="{i + 2}"><c r="A{i + 2}" t="s"><v>{a}</v></c><c t="s"><v>{a + 1}</v></c><c t="s"><v>6</v></c><c t="s"><v>7</v></c><c t="s"><v>8</v></c><c t="s"><v>9</v></c><c><v>{i % 500}</v></c></row>'.encode())
        f.write(b"</sheetData></worksheet>")
