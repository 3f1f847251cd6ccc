import django.db.models.deletion
from django.db import migrations, models

import otc.crypto

PART_SIZE = 1024 * 1024


def split_stored_files(apps, schema_editor):
    """Uploads still waiting for a worker keep their file, now in parts."""
    upload_model = apps.get_model("payments", "BankStatementUpload")
    part_model = apps.get_model("payments", "BankStatementUploadPart")
    for upload in upload_model.objects.exclude(content=None).iterator(chunk_size=1):
        part_model.objects.bulk_create(
            part_model(upload=upload, number=number, content=upload.content[start : start + PART_SIZE])
            for number, start in enumerate(range(0, len(upload.content), PART_SIZE))
        )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0014_number_sequences_owned"),
    ]

    operations = [
        migrations.CreateModel(
            name="BankStatementUploadPart",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveIntegerField(help_text="From 0, in the order of the file.")),
                ("content", otc.crypto.EncryptedBinaryField()),
                (
                    "upload",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="file_parts",
                        to="payments.bankstatementupload",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("upload", "number"), name="statement_upload_part_once")
                ],
            },
        ),
        migrations.RunPython(split_stored_files, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="bankstatementupload",
            name="content",
        ),
    ]
