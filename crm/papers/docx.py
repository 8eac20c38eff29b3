"""An official paper (公文) as a Word file, in the national format GB/T 9704-2012.

A4 with the standard margins (top 37 mm, bottom 35 mm, left 28 mm, right 26 mm: a 156 × 225 mm
text block); the body in 仿宋_GB2312 3号 (16 pt) at a fixed 28.95 pt line (22 lines a page), each
paragraph indented two characters; the title in 方正小标宋简体 2号 (22 pt), centred; level-one
headings in 黑体; the issuer's header in red with the document number (将招初审〔2026〕12号) and a
red rule under it; the issuer's full name and the date (2026年12月5日) at the end, right-aligned;
page numbers "— 1 —" in 4号 (14 pt) Arabic numerals in the footer, odd pages right, even pages
left. Fonts are set as East-Asian fonts (w:rFonts/@w:eastAsia) on the styles and on every run,
so Word and WPS both use them; a machine without a font substitutes its own (the font table
names the usual fallbacks).

python-docx's default template (US Letter, blue Calibri headings, theme fonts) is overridden:
the document defaults, Normal, Title and the headings all carry the paper's own fonts.
"""
from __future__ import annotations

import re
from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
NUMBER_FONT = "宋体"          # page numbers: 4号半角宋体阿拉伯数字
LATIN_FONT = "Times New Roman"
FONT_FALLBACKS = {             # w:altName in the font table: what Word substitutes when missing
    TITLE_FONT: "宋体", BODY_FONT: "仿宋", SUBHEADING_FONT: "楷体", HEADING_FONT: "SimHei", NUMBER_FONT: "SimSun"}

BODY_SIZE = Pt(16)      # 3号
TITLE_SIZE = Pt(22)     # 2号
HEADER_SIZE = Pt(26)    # 1号, the issuer's header
PAGE_NUMBER_SIZE = Pt(14)  # 4号
TABLE_SIZE = Pt(14)     # 4号 in tables, so that a 156 mm table holds its columns
LINE = Pt(28.95)        # 225 mm / 22 lines
RED = RGBColor(0xFF, 0x00, 0x00)
BLACK = RGBColor(0, 0, 0)
TEXT_WIDTH = Mm(156)

_THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def set_fonts(rpr_owner, east_asia: str, latin: str = LATIN_FONT) -> None:
    """Set the fonts of a run or a style: East-Asian (w:eastAsia) plus Latin (ascii/hAnsi/cs),
    dropping theme fonts, which would otherwise win over the names."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in _THEME_ATTRS:
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)


def text_width(text: str) -> float:
    """Width in characters of 3号: a CJK or full-width character is 1, anything else 1/2."""
    import unicodedata

    return sum(1 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.5 for ch in text)


def chars(n: float):
    """A length of n characters of 3号 (16 pt each)."""
    return Pt(round(16 * n, 2))


def _run(paragraph, text: str, font: str = BODY_FONT, size=BODY_SIZE, bold: bool = False, color=None):
    run = paragraph.add_run(text)
    set_fonts(run.element, font)
    run.font.size = size
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    return run


def _page_field(paragraph, size) -> None:
    """A PAGE field (the page's number, filled in by Word/WPS), in 宋体 half-width numerals."""
    run = _run(paragraph, "", NUMBER_FONT, size)
    for tag, attrs, text in (("w:fldChar", {"w:fldCharType": "begin"}, None),
                             ("w:instrText", {"xml:space": "preserve"}, " PAGE "),
                             ("w:fldChar", {"w:fldCharType": "separate"}, None),
                             ("w:t", {}, "1"),
                             ("w:fldChar", {"w:fldCharType": "end"}, None)):
        el = OxmlElement(tag)
        for key, value in attrs.items():
            el.set(qn(key) if key.startswith("w:") else "{http://www.w3.org/XML/1998/namespace}space", value)
        if text is not None:
            el.text = text
        run.element.append(el)


def title_lines(text: str, per_line: float = 18.0) -> list[str]:
    """A long title in lines of about equal width (GB/T 9704: 排列对称), never splitting a
    number or a Latin word; 20 characters of 2号 fill the 156 mm line, 18 leave room for wider numerals."""
    width = text_width(text)
    if width <= per_line:
        return [text]
    count = int(-(-width // per_line))
    target = width / count
    tokens = re.findall(r"[0-9A-Za-z.%]+|.", text)
    lines, current, used = [], "", 0.0
    for token in tokens:
        w = text_width(token)
        if current and len(lines) < count - 1 and used + w / 2 > target:
            lines.append(current)
            current, used = "", 0.0
        current += token
        used += w
    lines.append(current)
    return lines


class OfficialPaper:
    """Build one paper top to bottom: header(), title(), addressee(), para(), table(), …, sign()."""

    def __init__(self, title_for_properties: str = "") -> None:
        self.doc = Document()
        self._set_up_page()
        self._set_up_styles()
        self._set_up_font_table()
        self._set_up_footer()
        self.doc.core_properties.title = title_for_properties
        self.doc.core_properties.language = "zh-CN"
        self._first = True

    # --- the page and the styles ------------------------------------------------------------

    def _set_up_page(self) -> None:
        section = self.doc.sections[0]
        section.start_type = WD_SECTION.NEW_PAGE
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.header_distance, section.footer_distance = Mm(15), Mm(24)
        grid = section._sectPr.find(qn("w:docGrid"))
        if grid is None:
            grid = OxmlElement("w:docGrid")
            section._sectPr.append(grid)
        grid.set(qn("w:type"), "lines")
        grid.set(qn("w:linePitch"), str(round(LINE.pt * 20)))  # twips: 22 lines on the page

    def _set_up_styles(self) -> None:
        styles = self.doc.styles
        defaults = styles.element.find(qn("w:docDefaults"))
        rpr_default = defaults.find(qn("w:rPrDefault"))
        rpr = rpr_default.find(qn("w:rPr"))
        fonts = rpr.find(qn("w:rFonts"))
        for attr in _THEME_ATTRS:
            fonts.attrib.pop(qn(attr), None)
        fonts.set(qn("w:ascii"), LATIN_FONT)
        fonts.set(qn("w:hAnsi"), LATIN_FONT)
        fonts.set(qn("w:cs"), LATIN_FONT)
        fonts.set(qn("w:eastAsia"), BODY_FONT)
        for tag, value in (("w:sz", "32"), ("w:szCs", "32")):
            rpr.find(qn(tag)).set(qn("w:val"), value)
        lang = rpr.find(qn("w:lang"))
        lang.set(qn("w:eastAsia"), "zh-CN")
        ppr_default = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
        spacing = ppr_default.find(qn("w:spacing"))
        spacing.attrib.clear()
        spacing.set(qn("w:after"), "0")
        spacing.set(qn("w:line"), str(round(LINE.pt * 20)))
        spacing.set(qn("w:lineRule"), "exact")

        normal = styles["Normal"]
        set_fonts(normal.element, BODY_FONT)
        normal.font.size = BODY_SIZE
        normal.font.color.rgb = BLACK
        self._fixed_lines(normal.paragraph_format)
        for name, font, size, bold in (("Title", TITLE_FONT, TITLE_SIZE, False),
                                       ("Heading 1", HEADING_FONT, BODY_SIZE, False),
                                       ("Heading 2", SUBHEADING_FONT, BODY_SIZE, False),
                                       ("Heading 3", BODY_FONT, BODY_SIZE, True)):
            style = styles[name]
            rpr = style.element.get_or_add_rPr()
            for child in list(rpr):  # the template's colours, borders, spacing, kerning
                if child.tag not in (qn("w:rFonts"),):
                    rpr.remove(child)
            set_fonts(style.element, font)
            style.font.size = size
            style.font.bold = bold
            style.font.italic = False
            style.font.color.rgb = BLACK
            ppr = style.element.pPr
            if ppr is not None:
                for child in list(ppr):
                    if child.tag in (qn("w:pBdr"), qn("w:spacing"), qn("w:contextualSpacing")):
                        ppr.remove(child)
            self._fixed_lines(style.paragraph_format)
        for name in ("Header", "Footer", "Table Grid", "List Bullet", "List Number"):
            if name in [s.name for s in styles]:
                set_fonts(styles[name].element, BODY_FONT)

    @staticmethod
    def _fixed_lines(fmt, line=LINE) -> None:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = line
        fmt.space_before = Pt(0)
        fmt.space_after = Pt(0)

    def _set_up_font_table(self) -> None:
        """Declare the Chinese fonts with their usual substitutes (w:altName), charset GB2312."""
        part = next(rel.target_part for rel in self.doc.part.rels.values() if rel.reltype.endswith("/fontTable"))
        root = parse_xml(part.blob)
        known = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
        for name, alt in FONT_FALLBACKS.items():
            if name in known:
                continue
            root.append(parse_xml(
                f'<w:font {nsdecls("w")} w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
                f'<w:family w:val="{"modern" if name in (BODY_FONT, SUBHEADING_FONT, HEADING_FONT) else "roman"}"/>'
                f'<w:pitch w:val="{"fixed" if name in (BODY_FONT, SUBHEADING_FONT, HEADING_FONT) else "variable"}"/>'
                f'</w:font>'))
        from lxml import etree

        part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    def _set_up_footer(self) -> None:
        """— 1 —: odd pages right with one character's space, even pages left (GB/T 9704 7.5)."""
        self.doc.settings.odd_and_even_pages_header_footer = True
        section = self.doc.sections[0]
        for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                              (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
            footer.is_linked_to_previous = False
            paragraph = footer.paragraphs[0]
            paragraph.alignment = align
            fmt = paragraph.paragraph_format
            self._fixed_lines(fmt, Pt(20))
            if align == WD_ALIGN_PARAGRAPH.RIGHT:
                fmt.right_indent = PAGE_NUMBER_SIZE
            else:
                fmt.left_indent = PAGE_NUMBER_SIZE
            _run(paragraph, "— ", NUMBER_FONT, PAGE_NUMBER_SIZE)
            _page_field(paragraph, PAGE_NUMBER_SIZE)
            _run(paragraph, " —", NUMBER_FONT, PAGE_NUMBER_SIZE)

    # --- content ----------------------------------------------------------------------------

    def _paragraph(self, style: str | None = None):
        return self.doc.add_paragraph(style=style)

    def header(self, issuer: str, number: str, *, missing_issuer: bool = False, draft_mark: str = "") -> None:
        """The issuer's header in red, the number line under it (centred), and the red rule."""
        p = self._paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._fixed_lines(p.paragraph_format, Pt(40))
        _run(p, issuer, TITLE_FONT if not missing_issuer else BODY_FONT,
             HEADER_SIZE if not missing_issuer else BODY_SIZE, color=RED)
        p = self._paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_before = LINE  # 发文字号: one blank line below the header
        if number:
            _run(p, number)
        elif draft_mark:
            _run(p, draft_mark, HEADING_FONT)
        # the red rule under the number, as wide as the text block
        ppr = p._p.get_or_add_pPr()
        ppr.append(parse_xml(f'<w:pBdr {nsdecls("w")}><w:bottom w:val="single" w:sz="12" w:space="4" '
                             f'w:color="FF0000"/></w:pBdr>'))
        self._blank()

    def _blank(self) -> None:
        self._paragraph()

    def title(self, text: str) -> None:
        """The title: 方正小标宋简体 2号, centred, one blank line after it."""
        p = self._paragraph("Title")
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._fixed_lines(p.paragraph_format, Pt(36))
        for n, line in enumerate(title_lines(text)):
            run = _run(p, line, TITLE_FONT, TITLE_SIZE)
            if n:
                run._r.insert(list(run._r).index(run._r.find(qn("w:t"))), OxmlElement("w:br"))
        self._blank()

    def addressee(self, text: str) -> None:
        """主送: flush left, ending with a full-width colon."""
        p = self._paragraph()
        _run(p, text if text.endswith("：") else text + "：")

    def para(self, text: str = "", *, indent: bool = True, bold_lead: str = "", align=None):
        """A body paragraph, indented two characters; `bold_lead` is set in 黑体 before the text."""
        p = self._paragraph()
        if indent:
            p.paragraph_format.first_line_indent = chars(2)
            p._p.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), "200")
        if align is not None:
            p.alignment = align
        if bold_lead:
            _run(p, bold_lead, HEADING_FONT)
        if text:
            _run(p, text)
        return p

    def heading(self, text: str) -> None:
        """A level-one heading (一、…) in 黑体, indented two characters."""
        p = self._paragraph("Heading 1")
        p.paragraph_format.first_line_indent = chars(2)
        p.paragraph_format.keep_with_next = True
        _run(p, text, HEADING_FONT)

    def labelled(self, label: str, text: str) -> None:
        """纪要 style: 出席：… with the label in 黑体, two characters in, continuation lines aligned
        with the first character after the colon."""
        p = self._paragraph()
        lead = label + "："
        p.paragraph_format.left_indent = chars(2 + text_width(lead))
        p.paragraph_format.first_line_indent = -chars(text_width(lead))
        _run(p, lead, HEADING_FONT)
        _run(p, text)

    def table(self, header: list[str], rows: list[list[str]], widths_mm: list[float]) -> None:
        """A ruled table in 仿宋 4号, as wide as the text block; the header row repeats."""
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        for row_cells, texts, head in ([table.rows[0].cells, header, True],
                                       *[[table.add_row().cells, r, False] for r in rows]):
            for cell, text, width in zip(row_cells, texts, widths_mm):
                cell.width = Mm(width)
                p = cell.paragraphs[0]
                self._fixed_lines(p.paragraph_format, Pt(22))
                if head:
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                _run(p, str(text), BODY_FONT, TABLE_SIZE, bold=head)
        tr_pr = table.rows[0]._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:tblHeader"))
        for column, width in zip(table.columns, widths_mm):
            column.width = Mm(width)

    def sign(self, issuer: str, day_text: str) -> None:
        """The issuer's full name and the date at the end, right-aligned: the date four
        characters in from the right, the issuer centred over it (GB/T 9704 7.3.5)."""
        if self.doc.paragraphs:  # the last lines of the text stay on the page of the signature
            self.doc.paragraphs[-1].paragraph_format.keep_with_next = True
        for _blank in range(2):
            self._paragraph().paragraph_format.keep_with_next = True
        date_right = 4.0
        issuer_right = max(0.0, date_right + (text_width(day_text) - text_width(issuer)) / 2)
        for text, right in ((issuer, issuer_right), (day_text, date_right)):
            p = self._paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            p.paragraph_format.right_indent = chars(right)
            p.paragraph_format.keep_with_next = text == issuer
            _run(p, text)

    def save(self, stream) -> None:
        self.doc.save(stream)


_SPACES = re.compile(r"\s+")


def one_line(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()

