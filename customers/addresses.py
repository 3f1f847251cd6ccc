"""Addresses as a document prints them."""

from customers.validators import COUNTRY_CHOICES

COUNTRY_NAMES = dict(COUNTRY_CHOICES)


def address_lines(address: dict, fallback_name: str) -> list[str]:
    """An address snapshot (name, line1, line2, postal_code, city, region, country) as printed lines;
    `fallback_name` when it names no one."""
    city = " ".join(part for part in (address.get("postal_code", ""), address.get("city", "")) if part)
    lines = [address.get("name") or fallback_name, address.get("line1", ""), address.get("line2", ""), city]
    lines.append(address.get("region", ""))
    lines.append(str(COUNTRY_NAMES.get(address.get("country", ""), address.get("country", ""))))
    return [line for line in lines if line]
