from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from security.admin import WorkspaceScopedInline
from security.domains import invalid_patterns
from widgets.models import WidgetConfig


class WidgetConfigForm(forms.ModelForm):
    class Meta:
        model = WidgetConfig
        fields = ["allowed_domains", "position", "theme", "features", "custom_css"]

    def clean_allowed_domains(self) -> list[str]:
        value: Any = self.cleaned_data.get("allowed_domains") or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise forms.ValidationError('Enter a JSON list of hosts, e.g. ["shop.example.com"].')
        bad = invalid_patterns(value)
        if bad:
            raise forms.ValidationError(f"Not a host or *.host pattern: {', '.join(bad)}")
        return [v.strip() for v in value]


class WidgetConfigInline(WorkspaceScopedInline, admin.StackedInline):
    model = WidgetConfig
    form = WidgetConfigForm
    can_delete = False
    extra = 1
    max_num = 1
    verbose_name = "Widget"
