/* MultiRocket-Hydra features and its ridge decision in portable C99, float32, no malloc.
 *
 * The same numbers as research/heads/hydra.py and research/heads/multirocket.py (the features,
 * in their order: Hydra's, then MultiRocket's) and research/heads/feature_maps_quant_hydra.py
 * (the scaling) followed by the ridge head: the tables of an mrh_model come from a fitted run
 * (research/export/c/multirocket_hydra.py writes them into model.h).
 *
 * A window is a (T, C) float32 array, window[t * C + c]. The caller owns every buffer:
 *   scratch   MRH_SCRATCH_FLOATS(T, K) floats (K = Hydra's kernels per group)
 *   features  mrh_num_features(model) floats (only for mrh_features)
 *   decision  model->classes floats
 */
#ifndef MULTIROCKET_HYDRA_FEATURES_H_
#define MULTIROCKET_HYDRA_FEATURES_H_

#include <stdint.h>

#define MRH_KERNEL_LENGTH 9
#define MRH_ROCKET_KERNELS 84
/* A zero-padded series (T + 8 d <= 2 T, since every dilation d <= (T - 1) / 8), one kernel's
 * outputs (T) and Hydra's per-kernel outputs, soft and hard counts (3 K). */
#define MRH_SCRATCH_FLOATS(T, K) (3 * (T) + 3 * (K))

/* MiniRocket's fit for one representation (the series or its first difference). */
typedef struct {
  int32_t dilations_count;
  const int32_t *dilations;            /* [dilations_count] */
  const int32_t *biases_per_dilation;  /* [dilations_count] */
  const float *biases;                 /* [84 x sum(biases_per_dilation)]: dilation, kernel, bias */
} mrh_rocket;

typedef struct {
  int32_t length, channels, classes;
  /* Hydra: groups per half (series, difference), kernels per group, channels read per group. */
  int32_t hydra_dilations_count, hydra_halves, hydra_groups, hydra_kernels, hydra_read;
  const int32_t *hydra_dilations;   /* [D] */
  const float *hydra_weights;       /* [D][halves][groups][kernels][9] */
  const uint16_t *hydra_channels;   /* [D][halves][groups][read], with repeats */
  /* MultiRocket: rocket[0] the series, rocket[1] the difference; both read the series' channel
   * combinations: combination d * 84 + k holds combo_channels[combo_start[i] .. combo_start[i + 1]). */
  mrh_rocket rocket[2];
  const int32_t *combo_start;       /* [84 x series dilations + 1] */
  const uint16_t *combo_channels;
  /* Scaling (Hydra: sqrt, zeros stay zero; MultiRocket: standard) and the ridge. */
  const float *hydra_mean, *hydra_std;    /* [Hydra features] */
  const float *rocket_mean, *rocket_std;  /* [MultiRocket features] */
  const float *coef;                      /* [features][classes], the scaled features' weights */
  const float *intercept;                 /* [classes] */
} mrh_model;

int32_t mrh_num_hydra_features(const mrh_model *model);
int32_t mrh_num_features(const mrh_model *model);

/* The raw (unscaled) features of one window, in the Python order. Returns 0. */
int mrh_features(const mrh_model *model, const float *window, float *scratch, float *features);

/* The ridge decision (one score per class) of one window, each feature scaled and weighted as
 * it is made (no feature buffer). Returns the class with the highest score (the first on ties). */
int mrh_decision(const mrh_model *model, const float *window, float *scratch, float *decision);

#endif /* MULTIROCKET_HYDRA_FEATURES_H_ */
