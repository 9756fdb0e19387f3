"""FashionEdit generator service: text -> design image (the paper's Initialization).

Plain logic lives in :mod:`.serving` and :mod:`.backends`; :mod:`.service` is the
thin BentoML binding. Settings: :class:`.settings.GeneratorSettings`.
"""

__version__ = "0.1.0"
