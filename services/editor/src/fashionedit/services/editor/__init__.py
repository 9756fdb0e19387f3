"""The editing gateway: the paper's text-as-prompt (Vanilla) and image-into-prompt (BUG) editing.

``serving.EditorServing`` holds the logic (plain Python); ``service.Editor`` is the thin BentoML class.
Backends (``backends/``): ``openai-responses`` (the paper's method), ``openai-images`` and ``local``.
"""
