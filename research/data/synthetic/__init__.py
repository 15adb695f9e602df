"""Embedded synthetic data, written in the on-disk layouts the readers of `research.data` read.

One module per domain (workout, keypoints, semg, hht, npz, ts); each `generate(out_dir, **options)`
is `launch/make_data.py NAME`. Loaders with an empty `config.data.path` make their data here.
"""
