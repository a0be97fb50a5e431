"""Read reports into the project's records, whatever their format: ``corpus`` (the files of a
library folder; ``load_any`` picks the reader), ``pdf`` with ``layout``, ``structure``, ``cover``
and ``language`` (a UN report as published), ``markdown`` (the seed's text format). Nothing is
imported here, so ``import assistant`` does not load the PDF reader.
"""
