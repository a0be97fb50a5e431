"""Tooling that measures the assistant, never imported by ``answer()``: the eval (``evaluate``,
``eval_report``, ``tuning``), the fuzz campaign (``fuzz``), the benchmarks (``bench``,
``bench_load``, ``bench_scale``) and the learned lexicon's figures (``lexicon_eval``)."""
