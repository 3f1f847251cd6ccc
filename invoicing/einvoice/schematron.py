"""Compile an ISO Schematron (XSLT 2 query binding) into an XSLT 3 stylesheet that writes SVRL.

Covers what the official e-invoicing schematrons use: namespaces, global and rule variables (`let`),
XSLT functions, patterns whose first matching rule fires, and `assert`/`report` with an id, a flag and
plain text. Each pattern gets its own mode, and its rules become templates in document order of
priority, which gives Schematron's "first rule that matches wins" within a pattern.
"""

from lxml import etree

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"


class SchematronNotSupported(ValueError):
    """The schematron uses a feature this compiler does not translate (it would be silently ignored)."""


def _xsl(parent: etree._Element, tag: str, /, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{XSL}}}{tag}", attributes)


def _variable(parent: etree._Element, let: etree._Element) -> None:
    _xsl(parent, "variable", name=let.get("name"), select=let.get("value"))


def _outcome(template: etree._Element, check: etree._Element, *, is_assert: bool) -> None:
    if len(check):
        raise SchematronNotSupported(f"{check.get('id')}: only plain text messages are supported.")
    test = f"not({check.get('test')})" if is_assert else check.get("test")
    condition = _xsl(template, "if", test=test)
    name = "failed-assert" if is_assert else "successful-report"
    outcome = etree.SubElement(condition, f"{{{SVRL}}}{name}", {"test": check.get("test")})
    for attribute in ("id", "flag"):
        if check.get(attribute):
            outcome.set(attribute, check.get(attribute))
    _xsl(outcome, "attribute", name="location", select="path()")
    etree.SubElement(outcome, f"{{{SVRL}}}text").text = " ".join((check.text or "").split())


def compile_schematron(source: bytes) -> bytes:
    """The stylesheet (UTF-8 bytes) that reports every failed assert and successful report as SVRL."""
    schema = etree.fromstring(source)
    namespaces = {ns.get("prefix"): ns.get("uri") for ns in schema.iterfind(f"{{{SCH}}}ns")}
    stylesheet = etree.Element(
        f"{{{XSL}}}stylesheet", {"version": "3.0"}, nsmap={"xsl": XSL, "svrl": SVRL, **namespaces}
    )
    for let in schema.iterfind(f"{{{SCH}}}let"):
        _variable(stylesheet, let)
    for function in schema.iterfind(f"{{{XSL}}}function"):
        stylesheet.append(etree.fromstring(etree.tostring(function)))
    patterns = list(schema.iterfind(f"{{{SCH}}}pattern"))
    root = _xsl(stylesheet, "template", match="/")
    output = etree.SubElement(root, f"{{{SVRL}}}schematron-output", {"title": schema.findtext(f"{{{SCH}}}title", "")})
    for number, pattern in enumerate(patterns):
        mode = f"pattern-{number}"
        etree.SubElement(output, f"{{{SVRL}}}active-pattern", {"name": mode})
        _xsl(output, "apply-templates", select="/", mode=mode)
        for let in pattern.iterfind(f"{{{SCH}}}let"):
            _variable(stylesheet, let)
        rules = list(pattern.iterfind(f"{{{SCH}}}rule"))
        for position, rule in enumerate(rules):
            if rule.get("abstract") or rule.find(f"{{{SCH}}}extends") is not None:
                raise SchematronNotSupported("Abstract rules are not supported.")
            template = _xsl(
                stylesheet, "template", match=rule.get("context"), mode=mode, priority=str(len(rules) - position)
            )
            for child in rule:
                if child.tag == f"{{{SCH}}}let":
                    _variable(template, child)
                elif child.tag in (f"{{{SCH}}}assert", f"{{{SCH}}}report"):
                    _outcome(template, child, is_assert=child.tag == f"{{{SCH}}}assert")
            _xsl(template, "apply-templates", select="@*|node()", mode=mode)
        descend = _xsl(stylesheet, "template", match="@*|node()", mode=mode, priority="-2")
        _xsl(descend, "apply-templates", select="@*|node()", mode=mode)
        _xsl(stylesheet, "template", match="text()", mode=mode, priority="-1")
    return etree.tostring(stylesheet, xml_declaration=True, encoding="UTF-8")
