"""The bundled sample crawl: a small synthetic WARC with ground truth that the demo and the tests run on.

Use `jwc.pipeline.sample.generate.generate_sample` (or `python -m jwc.pipeline.sample.generate OUT`); nothing is imported
here so running the module with -m does not import it twice.
"""
