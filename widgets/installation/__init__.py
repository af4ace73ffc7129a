"""Installation: where the widget loaded, where it was refused and why (the Deploy panel)."""
