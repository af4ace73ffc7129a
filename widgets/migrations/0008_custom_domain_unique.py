# The constraint in a migration of its own: on PostgreSQL an index cannot be built in the
# transaction that just changed the table's rows (0007's data step).

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("widgets", "0007_custom_domain_ownership"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="widgetconfig",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("custom_domain"),
                condition=models.Q(("custom_domain", ""), _negated=True),
                name="uniq_widget_custom_domain",
            ),
        ),
    ]
