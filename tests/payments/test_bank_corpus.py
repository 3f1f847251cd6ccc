"""The bank file corpus (tests/payments/bank_files/README.md names each file's source): every file with
what it must import to, statement by statement and line by line, or the refusal it must get with
nothing written. A file the parsers misread is a parser bug; its expected result stays here."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from otc.errors import InvalidInput
from payments.cash_application.bank_formats import MalformedStatement
from payments.cash_application.errors import NotOurBankAccount
from payments.cash_application.statement_import import import_bank_statement
from payments.models import BankStatement, BankStatementLine, CompanyBankAccount, Payment

pytestmark = pytest.mark.django_db
D = Decimal
FILES = Path(__file__).parent / "bank_files"


@dataclass(frozen=True)
class Line:
    amount: Decimal
    booking_date: date
    counterparty_name: str
    end_to_end_id: str
    remittance_information: str
    structured_reference: str = ""


@dataclass(frozen=True)
class Statement:
    account: str
    statement_id: str
    currency: str
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    period: tuple[date, date]
    lines: list[Line]


@dataclass(frozen=True)
class Accepted:
    filename: str
    format: str
    statements: list[Statement]


@dataclass(frozen=True)
class Refused:
    filename: str
    format: str
    error: type[InvalidInput]
    message: str


CORPUS = [
    Accepted(
        "bai2_no_balances_ca.bai",
        "bai2",
        [
            Statement(
                "026009593/5566778899",
                "240319-0319B",
                "CAD",
                None,
                None,
                (date(2024, 3, 18), date(2024, 3, 18)),
                [
                    Line(D("310.00"), date(2024, 3, 18), "", "", "CHEQUE DEPOSIT MAPLE CAFE INV-2024-000042", ""),
                    Line(
                        D("1000.00"),
                        date(2024, 3, 18),
                        "",
                        "MAPLE-EFT-0318",
                        "EFT CREDIT MAPLE CAFE LTD RF18539007547034",
                        "RF18539007547034",
                    ),
                    Line(D("-42.50"), date(2024, 3, 18), "", "", "MONTHLY SERVICE CHARGE", ""),
                ],
            ),
        ],
    ),
    Accepted(
        "bai2_two_groups_continuations.bai",
        "bai2",
        [
            Statement(
                "021000021/0123456789",
                "240319-240319A",
                "USD",
                D("7440.50"),
                D("16190.50"),
                (date(2024, 3, 18), date(2024, 3, 18)),
                [
                    Line(
                        D("4000.00"),
                        date(2024, 3, 18),
                        "",
                        "INV-2024-000039",
                        "LOCKBOX DEPOSIT LAKESIDE DINER LLC INVOICE INV-2024-000039",
                        "",
                    ),
                    Line(
                        D("5000.00"),
                        date(2024, 3, 18),
                        "",
                        "ACME-WIRE-20240318-0002",
                        "WIRE IN ACME CORPORATION ORG=ACME CORPORATION OBI=INV-2024-000040 INV-2024-000041",
                        "",
                    ),
                    Line(D("-250.00"), date(2024, 3, 18), "", "1042", "CHECK PAID 1042", ""),
                ],
            ),
            Statement(
                "026009593/4455667788",
                "240319-240319A",
                "USD",
                D("1000.00"),
                D("1500.00"),
                (date(2024, 3, 18), date(2024, 3, 18)),
                [
                    Line(D("600.00"), date(2024, 3, 18), "", "", "ACH CREDIT BAYSIDE GRILL INC", ""),
                    Line(D("-100.00"), date(2024, 3, 18), "", "", "ACH DEBIT ANALYSIS FEE", ""),
                ],
            ),
        ],
    ),
    Accepted(
        "camt052_v08_two_reports.xml",
        "camt052",
        [
            Statement(
                "DE89370400440532013000",
                "052-DE89-20240318-1200",
                "EUR",
                D("5211.44"),
                D("5806.44"),
                (date(2024, 3, 18), date(2024, 3, 18)),
                [
                    Line(
                        D("595.00"), date(2024, 3, 18), "Bistro Central GmbH", "BISTRO-2024-0318", "INV-2024-000035", ""
                    ),
                ],
            ),
            Statement(
                "NL20INGB0001234567",
                "052-NL20-20240318-1200",
                "EUR",
                None,
                None,
                (date(2024, 3, 18), date(2024, 3, 18)),
                [
                    Line(
                        D("210.00"),
                        date(2024, 3, 18),
                        "Van der Berg Logistiek B.V.",
                        "VDB-0318-A",
                        "INV-2024-000037",
                        "",
                    ),
                ],
            ),
        ],
    ),
    Accepted(
        "camt053_multi_othr.xml",
        "camt053",
        [
            Statement(
                "DE89370400440532013000",
                "2024-03-07-DE89",
                "EUR",
                D("100.00"),
                D("1290.00"),
                (date(2024, 3, 7), date(2024, 3, 7)),
                [
                    Line(
                        D("1190.00"),
                        date(2024, 3, 7),
                        "Nordwind Handel GmbH",
                        "NORDWIND-ERP-2024-03-07-PAYMENT-RUN-0042-ITEM-0001",
                        "INV-2024-000002",
                        "",
                    ),
                ],
            ),
            Statement(
                "DE12500105170648489890",
                "2024-03-07-0648489890",
                "EUR",
                D("0.00"),
                D("238.00"),
                (date(2024, 3, 7), date(2024, 3, 7)),
                [
                    Line(D("238.00"), date(2024, 3, 7), "Atelier Lumiere", "", "", ""),
                ],
            ),
        ],
    ),
    Accepted(
        "camt053_v02_batch_booking.xml",
        "camt053",
        [
            Statement(
                "DE89370400440532013000",
                "2024-03-11-DE89-001",
                "EUR",
                D("1000.00"),
                D("4570.00"),
                (date(2024, 3, 11), date(2024, 3, 11)),
                [
                    Line(
                        D("1190.00"),
                        date(2024, 3, 11),
                        "Nordwind Handel GmbH",
                        "NW-2024-03-11-RUN18-ITEM-0001",
                        "INV-2024-000021",
                        "",
                    ),
                    Line(
                        D("1190.00"),
                        date(2024, 3, 11),
                        "Nordwind Handel GmbH",
                        "NW-2024-03-11-RUN18-ITEM-0002",
                        "INV-2024-000022",
                        "",
                    ),
                    Line(D("1190.00"), date(2024, 3, 11), "Brasserie du Parc SARL", "", "Facture INV-2024-000023", ""),
                ],
            ),
        ],
    ),
    Accepted(
        "camt053_v02_fx_amtdtls.xml",
        "camt053",
        [
            Statement(
                "DE89370400440532013000",
                "2024-03-14-DE89-001",
                "EUR",
                D("4570.00"),
                D("5211.44"),
                (date(2024, 3, 14), date(2024, 3, 14)),
                [
                    Line(
                        D("918.44"),
                        date(2024, 3, 14),
                        "ACME Corporation",
                        "ACME-PO-88123",
                        "INV-2024-000028 USD 1,000.00",
                        "",
                    ),
                    Line(
                        D("-277.00"),
                        date(2024, 3, 14),
                        "Brighton Tea Rooms Ltd",
                        "OTC-SUP-2024-0314-GB",
                        "PO 2024-044 Darjeeling",
                        "",
                    ),
                ],
            ),
        ],
    ),
    Accepted(
        "camt053_v02_gb_othr_no_bic.xml",
        "camt053",
        [
            Statement(
                "GB29NWBK60161331926819",
                "NWBK-60161331926819-20240314",
                "GBP",
                D("4505.00"),
                D("5065.00"),
                (date(2024, 3, 14), date(2024, 3, 14)),
                [
                    Line(
                        D("560.00"),
                        date(2024, 3, 14),
                        "Brighton Tea Rooms Ltd",
                        "BTR-REMIT-0314",
                        "INV-2024-000033",
                        "",
                    ),
                ],
            ),
        ],
    ),
    Accepted(
        "camt053_v02_three_days_one_account.xml",
        "camt053",
        [
            Statement(
                "DE12500105170648489890",
                "2024-03-13-0648489890",
                "EUR",
                D("-250.00"),
                D("940.00"),
                (date(2024, 3, 13), date(2024, 3, 13)),
                [
                    Line(
                        D("1190.00"),
                        date(2024, 3, 13),
                        "Nordwind Handel GmbH",
                        "NW-2024-03-13-0001",
                        "INV-2024-000029",
                        "",
                    ),
                ],
            ),
            Statement(
                "DE12500105170648489890",
                "2024-03-14-0648489890",
                "EUR",
                D("940.00"),
                D("940.00"),
                (date(2024, 3, 14), date(2024, 3, 14)),
                [],
            ),
            Statement(
                "DE12500105170648489890",
                "2024-03-15-0648489890",
                "EUR",
                D("940.00"),
                D("-60.00"),
                (date(2024, 3, 15), date(2024, 3, 15)),
                [
                    Line(
                        D("-1000.00"),
                        date(2024, 3, 15),
                        "Finanzamt Muenchen",
                        "OTC-TAX-2024-Q1",
                        "USt-VA 02/2024 StNr 143/123/45678",
                        "",
                    ),
                ],
            ),
        ],
    ),
    Accepted(
        "camt053_v02_us_account_othr.xml",
        "camt053",
        [
            Statement(
                "CHASUS33/000987654321",
                "CHAS20240314US01",
                "USD",
                D("25000.00"),
                D("38115.75"),
                (date(2024, 3, 14), date(2024, 3, 14)),
                [
                    Line(
                        D("12500.00"),
                        date(2024, 3, 14),
                        "ACME Corporation",
                        "ACME-WIRE-20240314-0001",
                        "INV-2024-000030 INV-2024-000031",
                        "",
                    ),
                    Line(
                        D("615.75"), date(2024, 3, 14), "Lakeside Diner LLC", "", "RMR*IV*INV-2024-000032**615.75\\", ""
                    ),
                ],
            ),
        ],
    ),
    Accepted(
        "camt053_v04_chf_qrr.xml",
        "camt053",
        [
            Statement(
                "CH9300762011623852957",
                "20240315000000000000001",
                "CHF",
                D("10000.00"),
                D("13483.00"),
                (date(2024, 3, 15), date(2024, 3, 15)),
                [
                    Line(
                        D("2187.00"),
                        date(2024, 3, 15),
                        "Boulangerie Martin Sarl",
                        "",
                        "",
                        "210000000003139471430009017",
                    ),
                    Line(
                        D("1296.00"),
                        date(2024, 3, 15),
                        "Café du Lac SA",
                        "",
                        "Rechnung INV-2024-000034",
                        "RF18539007547034",
                    ),
                ],
            ),
        ],
    ),
    Accepted(
        "camt053_v04_reversal_debits_charges.xml",
        "camt053",
        [
            Statement(
                "NL20ABNA0517852257",
                "ABNA-2024-03-14",
                "EUR",
                D("13600.05"),
                D("12554.70"),
                (date(2024, 3, 14), date(2024, 3, 14)),
                [
                    Line(
                        D("-1190.00"),
                        date(2024, 3, 14),
                        "Nordwind Handel GmbH",
                        "NW-2024-03-12-0009",
                        "INV-2024-000014 and INV-2024-000015",
                        "",
                    ),
                    Line(
                        D("84.70"), date(2024, 3, 14), "KPN B.V.", "KPN-0123456789-2403", "Factuur 0123456789 maart", ""
                    ),
                    Line(D("-12.10"), date(2024, 3, 14), "", "", "Kosten zakelijk betalingsverkeer februari", ""),
                    Line(
                        D("72.05"), date(2024, 3, 14), "Brasserie du Parc SARL", "BDP-2024-0314", "INV-2024-000027", ""
                    ),
                ],
            ),
        ],
    ),
    Accepted(
        "camt053_v08_datetime_offsets.xml",
        "camt053",
        [
            Statement(
                "NL20INGB0001234567",
                "053-2024-0072",
                "EUR",
                D("7689.50"),
                D("8570.75"),
                (date(2024, 3, 12), date(2024, 3, 12)),
                [
                    Line(
                        D("952.00"),
                        date(2024, 3, 12),
                        "Van der Berg Logistiek B.V.",
                        "E2E-3FA85F64-5717-4562-B3FC-2C963F",
                        "INV-2024-000024",
                        "",
                    ),
                    Line(
                        D("-70.75"),
                        date(2024, 3, 12),
                        "Drukkerij Jansen",
                        "OTC-SUP-2024-0312-0001",
                        "Order 2024-118 visitekaartjes",
                        "",
                    ),
                ],
            ),
        ],
    ),
    Accepted(
        "camt053_v08_rf_structured.xml",
        "camt053",
        [
            Statement(
                "DE12500105170648489890",
                "053-2024-0073",
                "EUR",
                D("4799.60"),
                D("6432.60"),
                (date(2024, 3, 14), date(2024, 3, 14)),
                [
                    Line(D("1190.00"), date(2024, 3, 14), "Nordwind Handel GmbH", "NW-RF-0001", "", "RF18539007547034"),
                    Line(
                        D("443.00"),
                        date(2024, 3, 14),
                        "Atelier Lumiere",
                        "",
                        "Factures INV-2024-000025 et INV-2024-000026, acompte commande 2024-0031",
                        "RF712348231",
                    ),
                ],
            ),
        ],
    ),
    Accepted(
        "camt053_v08_txssummry_pending_card.xml",
        "camt053",
        [
            Statement(
                "NL39RABO0300065264",
                "RABO-NL39-2024-03-18",
                "EUR",
                D("300.00"),
                D("1466.20"),
                (date(2024, 3, 18), date(2024, 3, 18)),
                [
                    Line(
                        D("1190.00"),
                        date(2024, 3, 18),
                        "Nordwind Handel GmbH",
                        "NW-2024-03-18-0001",
                        "INV-2024-000044",
                        "",
                    ),
                    Line(D("133.00"), date(2024, 3, 18), "", "", "Betaalautomaat 17-03 uitbetaling 4 transacties", ""),
                    Line(D("-142.30"), date(2024, 3, 18), "", "", "Maestro Makro Amsterdam NLD 17-03 14:22", ""),
                    Line(D("-14.50"), date(2024, 3, 18), "", "", "Kosten Rabo BedrijfsPakket", ""),
                ],
            ),
        ],
    ),
    Accepted(
        "camt054_v02_batch_fx_txssummry.xml",
        "camt054",
        [
            Statement(
                "DE89370400440532013000",
                "054-DE89-20240318-01",
                "EUR",
                None,
                None,
                (date(2024, 3, 18), date(2024, 3, 18)),
                [
                    Line(D("1378.00"), date(2024, 3, 18), "ACME Corporation", "ACME-PO-88124", "INV-2024-000038", ""),
                    Line(D("455.00"), date(2024, 3, 18), "Bistro Central GmbH", "", "", "RF712348231"),
                    Line(D("-10.60"), date(2024, 3, 18), "", "", "Entgelt Auslandszahlung ACME-PO-88124", ""),
                ],
            ),
        ],
    ),
    Accepted(
        "mt940_61_variants.sta",
        "mt940",
        [
            Statement(
                "DE89370400440532013000",
                "STMT240311",
                "EUR",
                D("1000.00"),
                D("1244.25"),
                (date(2024, 3, 8), date(2024, 3, 11)),
                [
                    Line(D("200.00"), date(2024, 3, 11), "", "", "Entry date and funds code R", ""),
                    Line(D("50.00"), date(2024, 3, 11), "", "", "No entry date, no reference", ""),
                    Line(D("30.00"), date(2024, 3, 11), "", "", "Reversal of a debit", ""),
                    Line(D("-20.00"), date(2024, 3, 11), "", "", "Reversal of a credit", ""),
                    Line(D("-15.75"), date(2024, 3, 11), "", "", "Entry date after value date", ""),
                ],
            ),
        ],
    ),
    Accepted(
        "mt940_abnamro_sepa.sta",
        "mt940",
        [
            Statement(
                "NL20ABNA0517852257",
                "ABN AMRO BANK NV",
                "EUR",
                D("12500.00"),
                D("13600.05"),
                (date(2024, 3, 11), date(2024, 3, 12)),
                [
                    Line(
                        D("1190.00"),
                        date(2024, 3, 12),
                        "Nordwind Handel GmbH",
                        "NW-2024-03-12-0009",
                        "INV-2024-000014 and INV-2024-000015",
                        "",
                    ),
                    Line(
                        D("-84.70"),
                        date(2024, 3, 12),
                        "KPN B.V.",
                        "KPN-0123456789-2403",
                        "Factuur 0123456789 maart",
                        "",
                    ),
                    Line(
                        D("-5.25"),
                        date(2024, 3, 12),
                        "",
                        "",
                        "BEA NR:XXX1234 12.03.24/12.54 DIRCKIII FIL2500 KATWIJK,PAS999",
                        "",
                    ),
                ],
            ),
        ],
    ),
    Accepted(
        "mt940_free_text_gbp.sta",
        "mt940",
        [
            Statement(
                "GB29NWBK60161331926819",
                "GB240312-001",
                "GBP",
                D("3000.00"),
                D("4505.00"),
                (date(2024, 3, 11), date(2024, 3, 12)),
                [
                    Line(
                        D("1250.00"),
                        date(2024, 3, 12),
                        "",
                        "",
                        "FASTER PAYMENT RECEIVED FROM BRIGHTON TEA ROOMS LIMITED REF INV-2024-000016 THANK YOU",
                        "",
                    ),
                    Line(D("-45.00"), date(2024, 3, 12), "", "", "ACCOUNT FEES MARCH", ""),
                    Line(D("300.00"), date(2024, 3, 12), "", "", "CHEQUE DEPOSIT CHEQUE 100234 BRANCH 601613", ""),
                ],
            ),
        ],
    ),
    Accepted(
        "mt940_ing_cntp_structured.sta",
        "mt940",
        [
            Statement(
                "NL20INGB0001234567",
                "P240311000000001",
                "EUR",
                D("6690.50"),
                D("7689.50"),
                (date(2024, 3, 8), date(2024, 3, 11)),
                [
                    Line(
                        D("2380.00"),
                        date(2024, 3, 11),
                        "Nordwind Handel GmbH",
                        "NW-2024-03-11-0001",
                        "RF18539007547034",
                        "RF18539007547034",
                    ),
                    Line(
                        D("-1500.00"),
                        date(2024, 3, 11),
                        "Kaffeeroesterei Berg KG",
                        "OTC-SUP-2024-0311-0001",
                        "Bestellung 4711 Rohkaffee, Lieferung 2024-03-07 und 2024-03-08",
                        "",
                    ),
                    Line(D("119.00"), date(2024, 3, 11), "Atelier Lumiere", "", "INV-2024-000013", ""),
                ],
            ),
        ],
    ),
    Accepted(
        "mt940_ing_sparkasse_multi.sta",
        "mt940",
        [
            Statement(
                "NL20INGB0001234567",
                "P240307000000001",
                "EUR",
                D("5000.00"),
                D("6690.50"),
                (date(2024, 3, 6), date(2024, 3, 7)),
                [
                    Line(D("1190.00"), date(2024, 3, 7), "Nordwind Handel GmbH", "", "INV-2024-000002", ""),
                    Line(
                        D("500.50"),
                        date(2024, 3, 7),
                        "",
                        "OTC-PAY-0000000000000000000000000000000000000042",
                        "Invoices 2024-000003 and 2024-000004",
                        "",
                    ),
                ],
            ),
            Statement(
                "DE12500105170648489890",
                "STARTUMS",
                "EUR",
                D("2500.00"),
                D("2725.50"),
                (date(2024, 3, 6), date(2024, 3, 7)),
                [
                    Line(D("238.00"), date(2024, 3, 7), "Atelier Lumiere", "", "facture INV-2024-000003", ""),
                    Line(D("-12.50"), date(2024, 3, 7), "", "", "Kontofuehrung Maerz", ""),
                ],
            ),
        ],
    ),
    Accepted(
        "mt940_multi_day_blz.sta",
        "mt940",
        [
            Statement(
                "DE12500105170648489890",
                "STARTUMSE",
                "EUR",
                D("4379.50"),
                D("4879.50"),
                (date(2024, 3, 11), date(2024, 3, 11)),
                [
                    Line(D("500.00"), date(2024, 3, 11), "Bistro Central GmbH", "", "INV-2024-000017", ""),
                ],
            ),
            Statement(
                "DE12500105170648489890",
                "STARTUMSE",
                "EUR",
                D("4879.50"),
                D("4879.50"),
                (date(2024, 3, 11), date(2024, 3, 12)),
                [],
            ),
            Statement(
                "DE12500105170648489890",
                "STARTUMSE",
                "EUR",
                D("4879.50"),
                D("4799.60"),
                (date(2024, 3, 12), date(2024, 3, 13)),
                [
                    Line(
                        D("-79.90"), date(2024, 3, 13), "Telco Deutschland GmbH", "TEL-2024-03", "Mobilfunk Maerz", ""
                    ),
                ],
            ),
        ],
    ),
    Accepted(
        "mt940_pages_60M_62M.sta",
        "mt940",
        [
            Statement(
                "DE89370400440532013000",
                "COBA240313",
                "EUR",
                D("20000.00"),
                D("20600.00"),
                (date(2024, 3, 12), date(2024, 3, 13)),
                [
                    Line(D("1000.00"), date(2024, 3, 13), "Nordwind Handel GmbH", "", "INV-2024-000018", ""),
                    Line(D("-400.00"), date(2024, 3, 13), "Immobilien Weber KG", "", "Miete April", ""),
                ],
            ),
        ],
    ),
    Accepted(
        "mt940_rabobank_two_weeks.sta",
        "mt940",
        [
            Statement(
                "NL44RABO0123456789",
                "940S130101",
                "EUR",
                D("1000.00"),
                D("965.00"),
                (date(2013, 1, 1), date(2013, 1, 8)),
                [
                    Line(
                        D("-25.00"),
                        date(2013, 1, 1),
                        "CONTRA ACCOUNT HOLDER",
                        "01-01-2013 12:00 0030000987654321",
                        "",
                        "",
                    ),
                    Line(D("-10.00"), date(2013, 1, 2), "JOHN DOE", "", "Reference 201301234", ""),
                ],
            ),
            Statement(
                "NL44RABO0123456789",
                "940S130101",
                "EUR",
                D("965.00"),
                D("930.00"),
                (date(2013, 1, 8), date(2013, 1, 15)),
                [
                    Line(
                        D("-25.00"),
                        date(2013, 1, 8),
                        "CONTRA ACCOUNT HOLDER",
                        "08-01-2013 12:00 0030000987654321",
                        "",
                        "",
                    ),
                    Line(D("-10.00"), date(2013, 1, 9), "JOHN DOE", "", "Reference 201301234", ""),
                ],
            ),
        ],
    ),
    Accepted(
        "mt940_sparkasse_gvc_multiline.sta",
        "mt940",
        [
            Statement(
                "DE12500105170648489890",
                "STARTUMSE",
                "EUR",
                D("2725.50"),
                D("4379.50"),
                (date(2024, 3, 8), date(2024, 3, 8)),
                [
                    Line(
                        D("1785.00"),
                        date(2024, 3, 8),
                        "NORDWIND HANDEL GMBH ABTEILUNG FINANZEN",
                        "NW-2024-03-08-RUN17-ITEM0003",
                        "RE INV-2024-000011 UND INV-2024-000012 KD 10042",
                        "",
                    ),
                    Line(
                        D("-250.00"),
                        date(2024, 3, 8),
                        "Hanse Versicherung AG",
                        "VERS-2024-03-4711",
                        "Beitrag Maerz 2024 Police 4711",
                        "",
                    ),
                    Line(
                        D("119.00"),
                        date(2024, 3, 8),
                        "Atelier Lumiere SARL",
                        "",
                        "RF18539007547034",
                        "RF18539007547034",
                    ),
                ],
            ),
        ],
    ),
    Accepted(
        "mt940_sparkasse_latin1_crlf.sta",
        "mt940",
        [
            Statement(
                "DE12500105170648489890",
                "STARTUMSE",
                "EUR",
                D("4879.50"),
                D("5179.10"),
                (date(2024, 3, 18), date(2024, 3, 18)),
                [
                    Line(
                        D("321.00"),
                        date(2024, 3, 18),
                        "Bäckerei Müller e.K.",
                        "",
                        "Rechnung INV-2024-000043 Grüße aus Köln",
                        "",
                    ),
                    Line(D("-21.40"), date(2024, 3, 18), "", "", "Kontoführung März", ""),
                ],
            ),
        ],
    ),
    Refused(
        "refuse_bai2_group_total_wrong.bai",
        "bai2",
        MalformedStatement,
        "line 19 (98 group trailer): group control total is 504000, the records add up to 540000",
    ),
    Refused("refuse_bai2_truncated.bai", "bai2", MalformedStatement, "line 17: the file trailer (99) is missing"),
    Refused(
        "refuse_camt053_account_not_ours.xml",
        "camt053",
        NotOurBankAccount,
        "Account DE75512108001245126199 in EUR is not one of the company's bank accounts",
    ),
    Refused(
        "refuse_camt053_batch_does_not_add_up.xml",
        "camt053",
        MalformedStatement,
        "Ntry[1]: the transactions add up to 3489.00, the entry to 3570.00",
    ),
    Refused(
        "refuse_camt053_billion_laughs.xml",
        "camt053",
        MalformedStatement,
        "DOCTYPE: a DTD or entity reference is not allowed in a bank statement",
    ),
    Refused(
        "refuse_camt053_external_entity.xml",
        "camt053",
        MalformedStatement,
        "DOCTYPE: a DTD or entity reference is not allowed in a bank statement",
    ),
    Refused(
        "refuse_camt053_third_day_does_not_add_up.xml",
        "camt053",
        MalformedStatement,
        "Stmt[3] balances: opening 940.00 + movements -1000.00 ≠ closing 60.00; a movement is missing or wrong",
    ),
    Refused(
        "refuse_camt053_truncated.xml",
        "camt053",
        MalformedStatement,
        "line 22: not well-formed XML (Premature end of data in tag TxDtls line 19, line 22, column 8)",
    ),
    Refused(
        "refuse_camt054_control_count_wrong.xml",
        "camt054",
        MalformedStatement,
        "TxsSummry/TtlNtries/NbOfNtries: says 3 entries, the report has 2",
    ),
    Refused(
        "refuse_camt054_oca_bad_debtor_iban.xml",
        "camt054",
        MalformedStatement,
        "DbtrAcct/Id/IBAN: NL46ABNA0499998748 is not a valid IBAN: Invalid checksum digits.",
    ),
    Refused(
        "refuse_camt054_v02_net_sign_wrong.xml",
        "camt054",
        MalformedStatement,
        "TxsSummry/TtlNtries/TtlNetNtryAmt: says a net -1822.40, the entries net 1822.40",
    ),
    Refused(
        "refuse_mt940_closing_balance_wrong.sta",
        "mt940",
        MalformedStatement,
        "line 1 balances: opening 2725.50 + movements 1654.00 ≠ closing 4379.05; a movement is missing or wrong",
    ),
    Refused(
        "refuse_mt940_not_ours_blz.sta",
        "mt940",
        NotOurBankAccount,
        "Account 51210800/1245126199 in EUR is not one of the company's bank accounts",
    ),
    Refused(
        "refuse_mt940_page_does_not_continue.sta",
        "mt940",
        MalformedStatement,
        "line 12: :60M: (intermediate opening balance) does not continue the statement before it",
    ),
    Refused(
        "refuse_mt940_rabobank_library_bad_iban.sta",
        "mt940",
        MalformedStatement,
        "line 3: NL71RABO0123456789 is not a valid IBAN: Invalid checksum digits.",
    ),
    Refused(
        "refuse_mt940_truncated.sta",
        "mt940",
        MalformedStatement,
        "file: an opening (:60F:) and a closing (:62F:) balance are required",
    ),
]


@pytest.fixture
def company_accounts(db) -> None:
    """The company's accounts the corpus names: by IBAN, or (US, Canada) by bank code and account number."""
    for name, currency, iban, bank_code, account_number in [
        ("Commerzbank EUR", "EUR", "DE89370400440532013000", "", ""),
        ("Sparkasse EUR", "EUR", "DE12500105170648489890", "", ""),
        ("ING EUR", "EUR", "NL20INGB0001234567", "", ""),
        ("ABN AMRO EUR", "EUR", "NL20ABNA0517852257", "", ""),
        ("Rabobank EUR", "EUR", "NL44RABO0123456789", "", ""),
        ("Rabobank EUR 2", "EUR", "NL39RABO0300065264", "", ""),
        ("NatWest GBP", "GBP", "GB29NWBK60161331926819", "", ""),
        ("UBS CHF", "CHF", "CH9300762011623852957", "", ""),
        ("Chase USD", "USD", "", "CHASUS33", "000987654321"),
        ("JPMorgan lockbox USD", "USD", "", "021000021", "0123456789"),
        ("Bank of America USD", "USD", "", "026009593", "4455667788"),
        ("Bank of America CAD", "CAD", "", "026009593", "5566778899"),
    ]:
        CompanyBankAccount.objects.create(
            name=name, currency=currency, iban=iban, bank_code=bank_code, account_number=account_number
        )


def test_the_corpus_holds_every_file_once_and_at_least_forty():
    listed = [case.filename for case in CORPUS]
    on_disk = sorted(path.name for path in FILES.iterdir() if path.name != "README.md")
    readme = (FILES / "README.md").read_text()

    assert sorted(listed) == on_disk
    assert len(on_disk) >= 40
    assert [name for name in on_disk if f"`{name}`" not in readme] == []


@pytest.mark.usefixtures("company_accounts")
@pytest.mark.parametrize(
    "case", [case for case in CORPUS if isinstance(case, Accepted)], ids=lambda case: case.filename
)
def test_a_valid_bank_file_imports_every_statement_and_line_as_written(case: Accepted, clerk):
    statements = import_bank_statement(
        content=(FILES / case.filename).read_bytes(), filename=case.filename, format=case.format, actor=clerk
    )

    assert [
        Statement(
            statement.account_iban,
            statement.statement_id,
            statement.currency,
            statement.opening_balance,
            statement.closing_balance,
            (statement.period_start, statement.period_end),
            [
                Line(*row)
                for row in statement.lines.order_by("line_no").values_list(
                    "amount",
                    "booking_date",
                    "counterparty_name",
                    "end_to_end_id",
                    "remittance_information",
                    "structured_reference",
                )
            ],
        )
        for statement in statements
    ] == case.statements
    assert BankStatementLine.objects.count() == sum(len(statement.lines) for statement in case.statements)


@pytest.mark.usefixtures("company_accounts")
@pytest.mark.parametrize("case", [case for case in CORPUS if isinstance(case, Refused)], ids=lambda case: case.filename)
def test_a_bad_bank_file_is_refused_whole_and_nothing_is_written(case: Refused, clerk):
    with pytest.raises(case.error) as refusal:
        import_bank_statement(
            content=(FILES / case.filename).read_bytes(), filename=case.filename, format=case.format, actor=clerk
        )

    assert case.message in str(refusal.value)
    assert not BankStatement.objects.exists()
    assert not BankStatementLine.objects.exists()
    assert not Payment.objects.exists()
