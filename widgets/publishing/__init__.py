"""Publishing: releases of a widget's config, their diffs, core builds and bulk export/import."""
