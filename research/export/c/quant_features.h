/* QUANT features (Dempster, Schmidt & Webb 2024) in portable C99: float32, no malloc.
 *
 * The definitions of research/heads/quant.py, per channel of a series x[t * channels + c]
 * (t < length, the layout of a (T, C) float32 array), in quant.transform's order:
 * channel, representation, interval, quantile. The four representations of a channel:
 *   0  the series                       1  its first difference, smoothed by a moving average of 5
 *   2  its second difference               (the difference's edge values repeated twice)
 *   3  |DFT|, bins 0 .. length / 2 (a naive O(length^2 / 2) real DFT over a cosine/sine table)
 * The intervals, their quantile ranks and interpolation weights are tables written by
 * research/export/c/quant.py from quant.py's own functions, so C re-derives no float32 rounding.
 *
 * Exactness: the series and both differences, every quantile (a sorted copy of the interval,
 * torch.lerp's two-sided interpolation) and the interval means (a float32 sum in order, as
 * NumPy reduces quant.py's gathered intervals of a batch) are bit-identical to NumPy's; the
 * |DFT| features differ from NumPy's float32 FFT by float32 rounding (~1e-6 of the largest
 * |DFT| value). NumPy alone sums pairwise when a batch holds one univariate series: then the
 * means may differ in the last bit. Compile with -std=c99 (or
 * -ffp-contract=off) on a target that evaluates float in float (FLT_EVAL_METHOD 0: any FPU
 * but x87), so that every operation rounds as NumPy's does.
 */
#ifndef QUANT_FEATURES_H_
#define QUANT_FEATURES_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Floats of scratch memory quant_extract needs for series of `length` frames: the channel,
 * the current representation, the sorted interval. */
#define QUANT_SCRATCH_FLOATS(length) (3 * (length))

/* One fitted QUANT: the tables of model_features.h (research/export/c/quant.py). */
typedef struct {
  int length;       /* frames of a series (the fitted length; shorter series are zero-padded) */
  int channels;
  int intervals;    /* per channel, over the four representations */
  int features;     /* per channel */
  const uint8_t *interval_representation;   /* 0 .. 3, as above */
  const uint16_t *interval_start;           /* [start, end) frames of the representation */
  const uint16_t *interval_end;
  const uint32_t *interval_first_feature;   /* intervals + 1 entries: interval i's features */
  const uint16_t *feature_lower;            /* ranks into the interval's sorted values */
  const uint16_t *feature_upper;
  const float *feature_weight;              /* interpolation weight between the two ranks */
  const uint8_t *feature_centred;           /* 1: the interval's mean is subtracted */
  const float *dft_cos;                     /* cos and sin of 2 pi m / length, m < length */
  const float *dft_sin;
  float *scratch;                           /* QUANT_SCRATCH_FLOATS(length) floats */
} quant_model;

/* Fills out[c * features + f] (features * channels floats) for one series; returns 0. */
int quant_extract(const quant_model *model, const float *series, float *out);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_FEATURES_H_ */
