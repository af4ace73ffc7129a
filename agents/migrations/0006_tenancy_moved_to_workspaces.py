# Workspace, Membership and ApiKey now belong to the workspaces app (workspaces.0001),
# with their tables: agents forgets them here, after every foreign key to the workspace
# names workspaces.Workspace. State only; no table is dropped or renamed.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0005_api_keys"),
        ("workspaces", "0001_initial"),
        ("analytics", "0004_workspace_moved"),
        ("customers", "0003_workspace_moved"),
        ("experiments", "0002_workspace_moved"),
        ("security", "0004_workspace_moved"),
        ("widgets", "0009_workspace_moved"),
    ]

    state_operations = [
        migrations.AlterField(
            model_name="agent",
            name="workspace",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="agents",
                to="workspaces.workspace",
            ),
        ),
        migrations.DeleteModel(name="ApiKey"),
        migrations.DeleteModel(name="Membership"),
        migrations.DeleteModel(name="Workspace"),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations)]
