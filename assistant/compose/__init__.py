"""Compose a cited answer from what retrieval found (``answering``; ``generate`` for the optional
chat model), decide whether the documents answer at all (``abstention``, ``asked``,
``references``), cite (``citations``) and read follow-ups (``conversation``). Nothing is imported
here."""
