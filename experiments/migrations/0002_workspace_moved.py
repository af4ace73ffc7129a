# Workspace moved from agents to workspaces (its table stays agents_workspace): this
# foreign key now names workspaces.Workspace. State only; the column and its constraint
# are unchanged.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("experiments", "0001_initial"),
        ("workspaces", "0001_initial"),
    ]

    state_operations = [
        migrations.AlterField(
            model_name="experiment",
            name="workspace",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="workspaces.workspace",
            ),
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations)]
