# The live platform and the demo customer site, as the widget's own tests use them.
from widgets.tests.conftest import sites  # noqa: F401
