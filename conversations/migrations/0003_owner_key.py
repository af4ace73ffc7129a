from django.db import migrations, models


def owner_keys_fill(apps, schema_editor):
    Conversation = apps.get_model("conversations", "Conversation")
    for conversation in Conversation.objects.select_related("customer").iterator():
        customer = conversation.customer
        conversation.owner_key = (
            f"c-{customer.pk}"
            if customer is not None and customer.is_verified
            else f"v-{conversation.visitor_id}"
        )
        conversation.save(update_fields=["owner_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0002_csat_and_starters"),
        ("customers", "0002_identity"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="owner_key",
            field=models.CharField(default="", max_length=80),
            preserve_default=False,
        ),
        migrations.RunPython(owner_keys_fill, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="conversation", name="uniq_open_conversation"),
        migrations.AddConstraint(
            model_name="conversation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "resolved"), _negated=True),
                fields=("agent", "owner_key"),
                name="uniq_open_conversation_owner",
            ),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                fields=["agent", "owner_key", "-updated_at"], name="conv_agent_owner"
            ),
        ),
    ]
