"""The workout tracker: a TCN for exercise recognition and repetition counting (classify_and_segment).

Windows of 30 frames x 25 joint angles -> 8 dilated residual blocks -> self-attention -> exercise
class and per-frame repetition-start probability; counting stitches the test windows back and
finds peaks (config.eval.counting, also launch/count_reps.py's defaults).

Run:   python launch/train.py --config configs/tcn.py
Count: python launch/count_reps.py --workdir runs/<run> --input recording.npz
Time:  about 5 minutes on a 2-core CPU (15 epochs); :full takes hours.
Reach: exercise accuracy about 0.98, counting MAE under 0.1 repetitions on held-out sets.
Live:  --config configs/tcn.py:causal (causal model; similar accuracy, counting MAE about 0.2).
Smoke: --config configs/tcn.py:smoke (tiny model and data, 2 epochs, seconds).
Own data: --config.data.path=/data/workout_npz
Timings: benchmarks/results.md.
"""

import ml_collections

from research import config_defaults

from research.data import layouts


def get_config(arg=None):
  config = config_defaults.base(seed=42, variant=arg, variants=("full", "causal", "smoke"), file=__file__)

  config.data = ml_collections.ConfigDict()
  config.data.name = "workout"
  config.data.path = ""  # folder of recording .npz files; empty: embedded synthetic sessions
  config.data.cache_dir = "data_cache"  # where the synthetic sessions are generated once; "" = every time
  config.data.class_names = layouts.WORKOUT_CLASSES  # must include "none"
  config.data.fps = 30.0  # recordings at another rate are refused (resample them first)
  config.data.window = 30  # frames per window
  config.data.stride = 10  # frames between train/validation window starts
  config.data.eval_stride = 5  # frames between test window starts (stitched for counting)
  config.data.label_mode = "majority"  # majority | center
  config.data.target_half_width = 4.0  # frames at which the Gaussian target falls to 0.5
  config.data.target_delay = 0  # frames the target lags each start (causal models need > 0)
  config.data.val_fraction = 0.15  # of the recordings
  config.data.test_fraction = 0.3  # of the recordings (more held-out sets for counting)
  config.data.split_seed = 0  # recording assignment (the model's seed never moves data between splits)
  config.data.synthetic = ml_collections.ConfigDict()  # launch/make_data.py workout options (data.path empty)
  config.data.synthetic.sessions = 14
  config.data.synthetic.seed = 0
  config.data.synthetic.fps = 30.0
  config.data.synthetic.sets_per_exercise = 1
  config.data.synthetic.min_reps = 4
  config.data.synthetic.max_reps = 10
  config.data.synthetic.noise_std = 1.5  # degrees

  config.model = ml_collections.ConfigDict()
  config.model.name = "tcn"
  config.model.features = 128
  config.model.num_blocks = 8
  config.model.kernel_size = 3
  config.model.dilation_base = 2
  config.model.convs_per_block = 2
  config.model.dropout = 0.25
  config.model.num_heads = 4
  config.model.head_sizes = (128, 64, 32)
  config.model.causal = False  # True: the segmentation at frame t sees frames <= t only (live use)
  config.model.conv = "auto"  # matmul | xla | auto: the faster form for this backend and train.stepping

  config.task = ml_collections.ConfigDict()
  config.task.name = "classify_and_segment"
  config.task.gamma = 1.0  # focal loss
  config.task.alpha = 0.5
  config.task.cls_weight = 1.0
  config.task.seg_weight = 5.0
  config.task.threshold = 0.5  # probability for the per-frame metrics

  config.optim = config_defaults.optim(lr=5e-4)

  config.train = config_defaults.train(epochs=15, batch_size=32, eval_batch_size=256, sampler="balanced",
                                       monitor="val_seg_loss", early_stopping={"patience": 20},
                                       plateau={"min_lr": 1e-6})
  config.train.sampler_args = ml_collections.ConfigDict()
  config.train.sampler_args.share = 0.2  # windows with a repetition start, per batch, at least
  config.train.sampler_args.positive_key = "has_start"

  config.eval.counting = ml_collections.ConfigDict()  # the one place these settings live
  config.eval.counting.min_spacing = 15  # frames between two repetition starts at least
  config.eval.counting.height = 0.5  # stitched probability a peak must reach
  config.eval.counting.min_segment = 30  # frames; shorter predicted exercise runs are merged away
  config.eval.counting.tolerance = 4  # frames a start may lie outside its set
  config.eval.counting.max_gap = 90  # frames; a shorter 'none' pause inside one exercise is bridged

  if arg == "full":
    config.data.synthetic.sessions = 36
    config.data.synthetic.sets_per_exercise = 2
    config.data.synthetic.max_reps = 12
    config.data.stride = 4
    config.data.test_fraction = 0.2
    config.train.epochs = 250
  elif arg == "causal":  # live use: the segmentation at frame t sees frames <= t only
    config.model.causal = True
    config.data.target_delay = 10  # a start is marked 1/3 s late, once the movement is visible
  elif arg == "smoke":
    config.data.synthetic.sessions = 3
    config.data.synthetic.min_reps = 2
    config.data.synthetic.max_reps = 3
    config.data.stride = 15
    config.data.eval_stride = 10
    config.model.features = 16
    config.model.num_blocks = 2
    config.model.num_heads = 2
    config.model.head_sizes = (16, 8)
    config.train.epochs = 2
    config.train.batch_size = 8
    config.train.eval_batch_size = 64
  return config
