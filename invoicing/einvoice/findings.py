"""What a rule set says about a document: each broken rule with its id, its text and where."""

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleFailure:
    """One broken rule: its id (BR-CO-10, PEPPOL-EN16931-R042, BR-DE-15, XSD), the rule's own text, and where."""

    rule_id: str
    text: str
    location: str = ""

    def __str__(self) -> str:
        return f"[{self.rule_id}] {self.text}"
