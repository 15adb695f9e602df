/* MultiRocket-Hydra features and its ridge decision: see multirocket_hydra_features.h. */
#include "multirocket_hydra_features.h"

#include <math.h>
#include <stddef.h>

/* Where each feature goes: into a feature array, into the decision (scaled and weighted), or both. */
typedef struct {
  const mrh_model *model;
  float *features;
  float *decision;
} mrh_sink;

static void emit(const mrh_sink *sink, int32_t index, float raw) {
  const mrh_model *m = sink->model;
  int32_t hydra = mrh_num_hydra_features(m), c;
  float scaled;
  if (sink->features != NULL) sink->features[index] = raw;
  if (sink->decision == NULL) return;
  if (index < hydra) {
    float root = sqrtf(raw > 0.0f ? raw : 0.0f);
    scaled = root != 0.0f ? (root - m->hydra_mean[index]) / m->hydra_std[index] : 0.0f;
  } else {
    scaled = (raw - m->rocket_mean[index - hydra]) / m->rocket_std[index - hydra];
  }
  for (c = 0; c < m->classes; ++c) sink->decision[c] += scaled * m->coef[(size_t)index * m->classes + c];
}

/* Frame t of channel c of the series (difference = 0) or of its first difference (= 1). */
static float input_at(const mrh_model *m, const float *window, int difference, int32_t t, int32_t c) {
  const float *frame = window + (size_t)t * m->channels;
  return difference ? frame[m->channels + c] - frame[c] : frame[c];
}

/* padded[0 .. steps + 2 half): zeros, then sum_c weight[c] * z_c[t] at half + t. */
static void channel_sum(const mrh_model *m, const float *window, int difference, int32_t steps,
                        int32_t half, const float *weight, float *padded) {
  int32_t t, c;
  for (t = 0; t < steps + 2 * half; ++t) padded[t] = 0.0f;
  for (c = 0; c < m->channels; ++c) {
    if (weight[c] == 0.0f) continue;
    for (t = 0; t < steps; ++t) padded[half + t] += weight[c] * input_at(m, window, difference, t, c);
  }
}

int32_t mrh_num_hydra_features(const mrh_model *m) {
  return m->hydra_dilations_count * m->hydra_halves * 2 * m->hydra_groups * m->hydra_kernels;
}

static int32_t rocket_features(const mrh_rocket *r) {
  int32_t d, total = 0;
  for (d = 0; d < r->dilations_count; ++d) total += r->biases_per_dilation[d];
  return MRH_ROCKET_KERNELS * total;
}

int32_t mrh_num_features(const mrh_model *m) {
  return mrh_num_hydra_features(m) + 4 * (rocket_features(&m->rocket[0]) + rocket_features(&m->rocket[1]));
}

/* Hydra: per (dilation, half, group) the soft (max) and hard (min) counts of its kernels. */
static void hydra(const mrh_model *m, const float *window, float *scratch, const mrh_sink *sink) {
  const int32_t G = m->hydra_groups, K = m->hydra_kernels;
  float *padded = scratch, *out = scratch + 2 * m->length, *soft = out + K, *hard = soft + K;
  float weight[256];  /* how often each channel is read; the writer refuses more than 256 channels */
  int32_t d, half, g, k, t, j, c;
  for (d = 0; d < m->hydra_dilations_count; ++d) {
    const int32_t dilation = m->hydra_dilations[d], pad = (MRH_KERNEL_LENGTH / 2) * dilation;
    for (half = 0; half < m->hydra_halves; ++half) {
      const int32_t steps = m->length - half;
      const int32_t base = (d * m->hydra_halves + half) * 2 * G * K;
      for (g = 0; g < G; ++g) {
        const int32_t group = (d * m->hydra_halves + half) * G + g;
        const float *w = m->hydra_weights + (size_t)group * K * MRH_KERNEL_LENGTH;
        for (c = 0; c < m->channels; ++c) weight[c] = 0.0f;
        for (j = 0; j < m->hydra_read; ++j) weight[m->hydra_channels[group * m->hydra_read + j]] += 1.0f;
        channel_sum(m, window, half, steps, pad, weight, padded);
        for (k = 0; k < K; ++k) soft[k] = hard[k] = 0.0f;
        for (t = 0; t < steps; ++t) {
          int32_t top = 0, bottom = 0;
          for (k = 0; k < K; ++k) {
            float sum = 0.0f;
            for (j = 0; j < MRH_KERNEL_LENGTH; ++j) sum += w[k * MRH_KERNEL_LENGTH + j] * padded[t + j * dilation];
            out[k] = sum;
            if (sum > out[top]) top = k;  /* the first on ties, as argmax */
            if (sum < out[bottom]) bottom = k;
          }
          soft[top] += out[top];
          hard[bottom] += 1.0f;
        }
        for (k = 0; k < K; ++k) {
          emit(sink, base + g * K + k, soft[k]);
          emit(sink, base + G * K + g * K + k, hard[k]);
        }
      }
    }
  }
}

/* MiniRocket's kernel k: weight 2 at three of the nine taps (the k-th 3-of-9 combination in
 * itertools order), -1 elsewhere. */
static void rocket_kernel(int32_t k, float *weights) {
  int32_t a, b, c, index = 0, j;
  for (a = 0; a < MRH_KERNEL_LENGTH; ++a)
    for (b = a + 1; b < MRH_KERNEL_LENGTH; ++b)
      for (c = b + 1; c < MRH_KERNEL_LENGTH; ++c, ++index)
        if (index == k) {
          for (j = 0; j < MRH_KERNEL_LENGTH; ++j) weights[j] = (j == a || j == b || j == c) ? 2.0f : -1.0f;
          return;
        }
}

/* MultiRocket on one representation: PPV, LSPV, MPV, MIPV of every (dilation, kernel, bias). */
static void rocket(const mrh_model *m, int difference, const float *window, float *scratch, int32_t first,
                   const mrh_sink *sink) {
  const mrh_rocket *r = &m->rocket[difference];
  const int32_t steps = m->length - difference, lag = difference, per_op = rocket_features(r);
  float *padded = scratch, *out = scratch + 2 * m->length;
  float weight[256], kernel[MRH_KERNEL_LENGTH];
  int32_t d, k, b, t, j, c, feature = 0, bias_index = 0;
  for (d = 0; d < r->dilations_count; ++d) {
    const int32_t dilation = r->dilations[d], pad = (MRH_KERNEL_LENGTH / 2) * dilation;
    const int32_t count = r->biases_per_dilation[d];
    for (k = 0; k < MRH_ROCKET_KERNELS; ++k) {
      const int32_t combination = d * MRH_ROCKET_KERNELS + k;
      /* Every other (dilation, kernel) reads only the positions its kernel covers unpadded. */
      const int valid = (d % 2 + k) % 2 == 1;
      const int32_t start = valid ? pad : 0, stop = valid ? steps - pad : steps, n = stop - start;
      rocket_kernel(k, kernel);
      for (c = 0; c < m->channels; ++c) weight[c] = 0.0f;
      for (j = m->combo_start[combination]; j < m->combo_start[combination + 1]; ++j)
        weight[m->combo_channels[j]] = 1.0f;
      channel_sum(m, window, difference, steps, pad, weight, padded);
      for (t = start; t < stop; ++t) {
        float sum = 0.0f;
        /* The reference transform reads the difference's four left taps one frame late. */
        for (j = 0; j < MRH_KERNEL_LENGTH; ++j)
          sum += kernel[j] * padded[t + j * dilation + (j < MRH_KERNEL_LENGTH / 2 ? lag : 0)];
        out[t] = sum;
      }
      for (b = 0; b < count; ++b, ++feature, ++bias_index) {
        const float bias = r->biases[bias_index];
        int32_t above = 0, sum_j = 0, last_below = 0, longest = 0, lspv;
        float sum_c = 0.0f;
        for (t = start; t < stop; ++t) {
          const int32_t at = t - start;
          if (out[t] > bias) {
            above += 1;
            sum_c += out[t];
            sum_j += at;
          } else if (out[t] < bias) {
            if (at - last_below > longest) longest = at - last_below;
            last_below = at;
          }
        }
        lspv = (n - 1) - last_below > longest ? (n - 1) - last_below : longest;
        emit(sink, first + feature, (float)above / (float)n);
        emit(sink, first + per_op + feature, (float)lspv);
        emit(sink, first + 2 * per_op + feature, above ? sum_c / (float)above + bias : 0.0f);
        emit(sink, first + 3 * per_op + feature, above ? (float)sum_j / (float)above : -1.0f);
      }
    }
  }
}

static void all_features(const mrh_model *m, const float *window, float *scratch, const mrh_sink *sink) {
  const int32_t hydra_count = mrh_num_hydra_features(m);
  hydra(m, window, scratch, sink);
  rocket(m, 0, window, scratch, hydra_count, sink);
  rocket(m, 1, window, scratch, hydra_count + 4 * rocket_features(&m->rocket[0]), sink);
}

int mrh_features(const mrh_model *model, const float *window, float *scratch, float *features) {
  mrh_sink sink;
  sink.model = model;
  sink.features = features;
  sink.decision = NULL;
  all_features(model, window, scratch, &sink);
  return 0;
}

int mrh_decision(const mrh_model *model, const float *window, float *scratch, float *decision) {
  mrh_sink sink;
  int32_t c, best = 0;
  sink.model = model;
  sink.features = NULL;
  sink.decision = decision;
  for (c = 0; c < model->classes; ++c) decision[c] = model->intercept[c];
  all_features(model, window, scratch, &sink);
  for (c = 1; c < model->classes; ++c)
    if (decision[c] > decision[best]) best = c;
  return best;
}
