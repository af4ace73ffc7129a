"""A widget's configuration: the fields staff edit, their rules, presets and drafts."""
