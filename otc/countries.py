"""Countries: the ISO 3166-1 codes the suite accepts and how a document prints an address."""

# ISO 3166-1 alpha-2, the codes customers and addresses may use.
COUNTRIES = {
    "AD": "Andorra",
    "AE": "United Arab Emirates",
    "AR": "Argentina",
    "AT": "Austria",
    "AU": "Australia",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "BR": "Brazil",
    "CA": "Canada",
    "CH": "Switzerland",
    "CL": "Chile",
    "CN": "China",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "EE": "Estonia",
    "EG": "Egypt",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GB": "United Kingdom",
    "GR": "Greece",
    "HK": "Hong Kong",
    "HR": "Croatia",
    "HU": "Hungary",
    "IE": "Ireland",
    "IL": "Israel",
    "IN": "India",
    "IS": "Iceland",
    "IT": "Italy",
    "JP": "Japan",
    "KR": "South Korea",
    "LI": "Liechtenstein",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "MA": "Morocco",
    "MC": "Monaco",
    "MT": "Malta",
    "MX": "Mexico",
    "MY": "Malaysia",
    "NG": "Nigeria",
    "NL": "Netherlands",
    "NO": "Norway",
    "NZ": "New Zealand",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "RS": "Serbia",
    "SA": "Saudi Arabia",
    "SE": "Sweden",
    "SG": "Singapore",
    "SI": "Slovenia",
    "SK": "Slovakia",
    "TR": "Türkiye",
    "UA": "Ukraine",
    "US": "United States",
    "ZA": "South Africa",
}
COUNTRY_CHOICES = sorted(COUNTRIES.items(), key=lambda item: item[1])
COUNTRY_NAMES = dict(COUNTRY_CHOICES)


def address_lines(address: dict, fallback_name: str) -> list[str]:
    """An address snapshot (name, line1, line2, postal_code, city, region, country) as printed lines;
    `fallback_name` when it names no one."""
    city = " ".join(part for part in (address.get("postal_code", ""), address.get("city", "")) if part)
    lines = [address.get("name") or fallback_name, address.get("line1", ""), address.get("line2", ""), city]
    lines.append(address.get("region", ""))
    lines.append(str(COUNTRY_NAMES.get(address.get("country", ""), address.get("country", ""))))
    return [line for line in lines if line]
