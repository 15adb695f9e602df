"""Embedded synthetic data, written in the on-disk formats of `research.data.formats`.

One module per domain (workout, keypoints, semg, hht, npz, ts); each `generate(out_dir, **options)`
is `launch/make_data.py NAME` and, with an empty `config.data.path`, the loader's default data
(`research.data.sources`, options from `config.data.synthetic`). `mixture` makes its signals in
memory (the frequency-filter task has no file format). Generators import formats and layouts only.
"""
