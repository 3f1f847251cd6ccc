"""Look-alike names: letters of other scripts that look Latin (Cyrillic 'о', Greek 'Ν') are folded before
the duplicate check compares names, so a homoglyph copy of a customer is flagged like a typo would be."""

import importlib

import pytest
from django.apps import apps

from customers.models import Customer
from customers.selectors import possible_duplicates
from customers.validators import name_key
from tests.factories import CustomerFactory

CYRILLIC_O, GREEK_NU, CYRILLIC_A = "\u043e", "\u039d", "\u0410"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        (f"N{CYRILLIC_O}rdwind Handel GmbH", "nordwind handel"),
        (f"{GREEK_NU}ordwind Handel GmbH", "nordwind handel"),
        (f"{CYRILLIC_A}lba Trading Ltd", "alba trading"),
        ("Müller GmbH & Co. KG", "muller"),  # accents still fold as before
        ("Société Générale SA", "societe generale"),
        ("Firma 2000 GmbH", "firma 2000"),  # ASCII is left alone (no 0 -> O)
    ],
)
def test_look_alike_letters_fold_to_latin_in_the_name_key(name, key):
    assert name_key(name) == key


@pytest.mark.django_db
def test_a_homoglyph_copy_of_a_customer_is_a_possible_duplicate(clerk):
    original = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")
    CustomerFactory(actor=clerk, legal_name="Südwind Import AG")

    spoof = f"N{CYRILLIC_O}rdwind H{CYRILLIC_A.lower()}ndel GmbH"
    assert spoof != original.legal_name
    assert possible_duplicates(legal_name=spoof, tax_id="") == [original]


@pytest.mark.django_db
def test_the_migration_refolds_the_keys_of_existing_customers(clerk):
    spoofed = CustomerFactory(actor=clerk, legal_name=f"N{CYRILLIC_O}rdwind Handel GmbH")
    plain = CustomerFactory(actor=clerk, legal_name="Alba Trading Ltd")
    Customer.objects.filter(pk=spoofed.pk).update(name_key="nrdwind handel")  # as the old key dropped the 'о'

    migration = importlib.import_module("customers.migrations.0010_fold_look_alikes_in_name_keys")
    migration.fold_name_keys(apps, None)

    assert Customer.objects.get(pk=spoofed.pk).name_key == "nordwind handel"
    assert Customer.objects.get(pk=plain.pk).name_key == "alba trading"
