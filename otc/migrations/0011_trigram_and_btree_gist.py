from django.contrib.postgres.operations import BtreeGistExtension, TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    """The contrib extensions the schema builds on: pg_trgm for name search and near-duplicates,
    btree_gist for exclusion constraints over plain columns and ranges."""

    dependencies = [("otc", "0010_document_styles")]

    operations = [TrigramExtension(), BtreeGistExtension()]
