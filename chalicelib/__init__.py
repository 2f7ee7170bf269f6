"""tapcard's code (app.py wires it; the README's Layout says what each module does)."""
import importlib


class later:
    """A chalicelib module imported when one of its names is first used, not when its importer is:
    the API's routes reach checkout, payments or after-sales this way, so a Lambda container whose
    first request is a widget never loads them (cold start). import_module is thread-safe."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        return getattr(importlib.import_module(self._name), attribute)
