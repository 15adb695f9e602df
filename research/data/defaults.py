"""`config.data` groups that several configs share (configs import these; readers do not).

Each group says where its data come from: `path`, or with `path` empty the default data its
generator (research.data.synthetic) writes from the options of `synthetic`.
"""

from __future__ import annotations

import ml_collections


# The `smoke` variants' generated set: three classes of short, unequal-length bivariate series.
SMOKE_SERIES = {"classes": 3, "train": 12, "test": 8, "dims": 2, "min_length": 20, "max_length": 30,
                "problem": "SmokeMotions"}


def ts_data(**synthetic) -> ml_collections.ConfigDict:
  """A UEA/UCR `.ts` dataset group; with path empty, the synthetic `.ts` set `synthetic` describes."""
  data = ml_collections.ConfigDict()
  data.name = "ts"  # ts | npz
  data.path = ""  # *_TRAIN.ts (its *_TEST.ts beside it is the test split) or .npz; empty: synthetic
  data.test_path = ""  # TEST file when it is not <name>_TEST.ts beside the TRAIN file
  data.test_fraction = 0.2  # only without a predefined test split, stratified
  data.val_fraction = 0.15  # of the training split, stratified; 0 = none
  data.split_seed = 0
  data.normalize = "none"  # none | center | zscore, per channel, from the training split
  data.cache_dir = "data_cache"  # where the synthetic set is generated once; "" = every time
  data.synthetic = ml_collections.ConfigDict(  # launch/make_data.py ts options (data.path empty)
      {"classes": 4, "train": 40, "test": 40, "dims": 6, "min_length": 100, "max_length": 100,
       "missing_rate": 0.0, "seed": 0, "problem": "SyntheticMotions", **synthetic})
  return data


def semg_data() -> ml_collections.ConfigDict:
  """The sEMG window group (defaults: the embedded synthetic set, domains L3 -> L4)."""
  cfg = ml_collections.ConfigDict()
  cfg.name = "semg"
  cfg.path = ""  # .npz file or recordings folder; "" = embedded synthetic data
  cfg.format = "auto"  # auto | npz | recordings
  cfg.manifest = "manifest.csv"  # recordings: CSV file,label[,domain,subject,start,end]
  cfg.window = 3000  # samples per window (recordings; and the synthetic window length)
  cfg.stride = 3000  # samples between window starts (recordings)
  cfg.sampling_rate = 1000.0  # Hz (also the synthetic windows' rate)
  cfg.normalize = "window"  # none | recording | window: z-score per recording or per window
  cfg.source_domain = "L3"  # train/val domain when the data carry a domain tag
  cfg.target_domain = "L4"  # test domain; "" = stratified test split instead
  cfg.test_fraction = 0.2  # without a target domain
  cfg.val_fraction = 0.2  # of the training pool, stratified
  cfg.split_seed = 42  # train/val/test assignment (the model's seed never moves data between splits)
  cfg.allow_outside_paths = False  # recordings: manifest files outside the folder (../x.npy, /abs) allowed
  cfg.cache_dir = "data_cache"  # where the synthetic windows are generated once; "" = every time
  cfg.synthetic = ml_collections.ConfigDict()  # launch/make_data.py semg options (data.path empty)
  cfg.synthetic.num_classes = 4
  cfg.synthetic.windows_per_class = 50  # per domain: 200 source windows, as the seed's ~200
  cfg.synthetic.subjects = 5
  cfg.synthetic.channels = 1
  cfg.synthetic.separation = 0.5  # class envelopes/spectra blended halfway to a common one; 0 = no information
  cfg.synthetic.domain_shift = 0.5  # strength of the L3 -> L4 shift (1 = gain x0.6, floor +0.25, -25 Hz)
  cfg.synthetic.seed = 0
  return cfg
