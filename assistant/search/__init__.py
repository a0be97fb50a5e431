"""Find what answers a question: embed (``embedder``, ``onnx_encoder``, ``e5_convert``), persist
the library's index (``index``, ``scale``, ``refresh``), read words (``lexical``, ``glossary``,
``lexicon``) and search (``retrieval``). Nothing is imported here: faiss and the model load on
first use."""
