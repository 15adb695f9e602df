/* QUANT features in C99 (quant_features.h): representations, interval means, sorted quantiles. */
#include "quant_features.h"

#include <math.h>

/* The interval's sum in order from its start, as NumPy sums quant.py's gathered intervals (their
 * frames lie outside the series' inner memory axis, so the reduction runs in order). */
static float ordered_sum(const float *a, int n) {
  float sum = 0.0f;
  int i;
  for (i = 0; i < n; ++i) sum += a[i];
  return sum;
}

/* Heapsort of a[0 .. n) ascending: O(n log n), in place. */
static void sift_down(float *a, int root, int n) {
  float top = a[root];
  int child;
  while ((child = 2 * root + 1) < n) {
    if (child + 1 < n && a[child + 1] > a[child]) ++child;
    if (!(a[child] > top)) break;
    a[root] = a[child];
    root = child;
  }
  a[root] = top;
}

static void sort_floats(float *a, int n) {
  int i;
  for (i = n / 2 - 1; i >= 0; --i) sift_down(a, i, n);
  for (i = n - 1; i > 0; --i) {
    float largest = a[0];
    a[0] = a[i];
    a[i] = largest;
    sift_down(a, 0, i);
  }
}

/* Representation 1: d = diff(x) (n = length - 1 values), padded as [d0, d0, d, d_last, d_last],
 * each output the sum of 5 padded values from 0 in order, divided by 5 (as quant.py). */
static void smoothed_difference(const float *x, int length, float *out) {
  int n = length - 1, t, i;
  for (t = 0; t < n; ++t) {
    float sum = 0.0f;
    for (i = 0; i < 5; ++i) {
      int j = t + i - 2;
      j = j < 0 ? 0 : j >= n ? n - 1 : j;
      sum += x[j + 1] - x[j];
    }
    out[t] = sum / 5.0f;
  }
}

static void second_difference(const float *x, int length, float *out) {
  int t;
  for (t = 0; t + 2 < length; ++t) out[t] = (x[t + 2] - x[t + 1]) - (x[t + 1] - x[t]);
}

/* |X[k]|, k = 0 .. length / 2: float32 sums of x[t] cos and sin of 2 pi (k t mod length) / length. */
static void dft_magnitude(const quant_model *model, const float *x, float *out) {
  int length = model->length, k, t;
  for (k = 0; k <= length / 2; ++k) {
    float re = 0.0f, im = 0.0f;
    int m = 0;
    for (t = 0; t < length; ++t) {
      re += x[t] * model->dft_cos[m];
      im += x[t] * model->dft_sin[m];
      m += k;
      if (m >= length) m -= length;
    }
    out[k] = sqrtf(re * re + im * im);
  }
}

static void representation(const quant_model *model, int which, const float *x, float *out) {
  if (which == 1) smoothed_difference(x, model->length, out);
  else if (which == 2) second_difference(x, model->length, out);
  else if (which == 3) dft_magnitude(model, x, out);
}

int quant_extract(const quant_model *model, const float *series, float *out) {
  const int length = model->length, channels = model->channels;
  float *x = model->scratch, *derived = x + length, *sorted = derived + length;
  int c, i, t;
  for (c = 0; c < channels; ++c) {
    int current = 0;
    float *features = out + (long)c * model->features;
    for (t = 0; t < length; ++t) x[t] = series[(long)t * channels + c];
    for (i = 0; i < model->intervals; ++i) {
      const int which = model->interval_representation[i];
      const int start = model->interval_start[i], width = model->interval_end[i] - start;
      const float *z;
      float mean;
      uint32_t f;
      if (which != current) {
        representation(model, which, x, derived);
        current = which;
      }
      z = (which == 0 ? x : derived) + start;
      mean = ordered_sum(z, width) / (float)width;
      for (t = 0; t < width; ++t) sorted[t] = z[t];
      sort_floats(sorted, width);
      for (f = model->interval_first_feature[i]; f < model->interval_first_feature[i + 1]; ++f) {
        const float below = sorted[model->feature_lower[f]], above = sorted[model->feature_upper[f]];
        const float weight = model->feature_weight[f], gap = above - below;
        float quantile = weight < 0.5f ? below + weight * gap : above - gap * (1.0f - weight); /* torch.lerp */
        if (model->feature_centred[f]) quantile -= mean;
        features[f] = quantile;
      }
    }
  }
  return 0;
}
