/* sEMG window features in portable C99; see semg_features.h for the definitions. */
#include "semg_features.h"

#include <math.h>

#ifndef NAN
#define NAN (0.0f / 0.0f)
#endif

/* Compensated (Kahan) float32 sum: the error stays near one rounding, whatever n. */
typedef struct {
  float sum;
  float carry;
} kahan_sum;

static void kahan_add(kahan_sum *k, float value) {
  float y = value - k->carry;
  float t = k->sum + y;
  k->carry = (t - k->sum) - y;
  k->sum = t;
}

static float mean_of(const float *x, int n, int stride) {
  kahan_sum k = {0.0f, 0.0f};
  int t;
  for (t = 0; t < n; ++t) kahan_add(&k, x[t * stride]);
  return k.sum / (float)n;
}

float semg_mav(const float *x, int n, int stride) {
  kahan_sum k = {0.0f, 0.0f};
  int t;
  if (n < 1) return NAN;
  for (t = 0; t < n; ++t) kahan_add(&k, fabsf(x[t * stride]));
  return k.sum / (float)n;
}

float semg_rms(const float *x, int n, int stride) {
  kahan_sum k = {0.0f, 0.0f};
  int t;
  if (n < 1) return NAN;
  for (t = 0; t < n; ++t) kahan_add(&k, x[t * stride] * x[t * stride]);
  return sqrtf(k.sum / (float)n);
}

float semg_wl(const float *x, int n, int stride) {
  kahan_sum k = {0.0f, 0.0f};
  int t;
  for (t = 0; t + 1 < n; ++t) kahan_add(&k, fabsf(x[(t + 1) * stride] - x[t * stride]));
  return k.sum;
}

float semg_zc(const float *x, int n, int stride, float threshold) {
  int t, count = 0;
  for (t = 0; t + 1 < n; ++t) {
    float a = x[t * stride], b = x[(t + 1) * stride];
    float product = a * b; /* float32, as NumPy: tiny products may underflow to zero */
    if (product < 0.0f && fabsf(a - b) >= threshold) ++count;
  }
  return (float)count;
}

float semg_ssc(const float *x, int n, int stride, float threshold) {
  int t, count = 0;
  for (t = 1; t + 1 < n; ++t) {
    float mid = x[t * stride];
    float product = (mid - x[(t - 1) * stride]) * (mid - x[(t + 1) * stride]);
    if (product > threshold) ++count;
  }
  return (float)count;
}

float semg_var(const float *x, int n, int stride) {
  kahan_sum k = {0.0f, 0.0f};
  float mean;
  int t;
  if (n < 2) return NAN; /* NumPy's var with ddof=1 */
  mean = mean_of(x, n, stride);
  for (t = 0; t < n; ++t) {
    float d = x[t * stride] - mean;
    kahan_add(&k, d * d);
  }
  return k.sum / (float)(n - 1);
}

float semg_wamp(const float *x, int n, int stride, float threshold) {
  int t, count = 0;
  for (t = 0; t + 1 < n; ++t) {
    if (fabsf(x[(t + 1) * stride] - x[t * stride]) > threshold) ++count;
  }
  return (float)count;
}

static int is_power_of_two(int n) { return n > 0 && (n & (n - 1)) == 0; }

static const double TWO_PI = 6.283185307179586476925286766559;

/* In-place iterative radix-2 FFT of n complex values (re, im interleaved). twiddle: n floats,
 * exp(-2 pi i j / n) for j < n / 2. */
static void fft_radix2(float *buf, int n, const float *twiddle) {
  int i, j, bit, len;
  for (i = 1, j = 0; i < n; ++i) { /* bit-reversal permutation */
    for (bit = n >> 1; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      float re = buf[2 * i], im = buf[2 * i + 1];
      buf[2 * i] = buf[2 * j];
      buf[2 * i + 1] = buf[2 * j + 1];
      buf[2 * j] = re;
      buf[2 * j + 1] = im;
    }
  }
  for (len = 2; len <= n; len <<= 1) {
    int half = len >> 1, step = n / len;
    for (i = 0; i < n; i += len) {
      for (j = 0; j < half; ++j) {
        float wr = twiddle[2 * j * step], wi = twiddle[2 * j * step + 1];
        float *u = buf + 2 * (i + j), *v = buf + 2 * (i + j + half);
        float vr = v[0] * wr - v[1] * wi, vi = v[0] * wi + v[1] * wr;
        v[0] = u[0] - vr;
        v[1] = u[1] - vi;
        u[0] += vr;
        u[1] += vi;
      }
    }
  }
}

/* The periodogram of x - mean at k = 0 .. n/2, written into work; returns a pointer to it. */
static const float *power_spectrum(const float *x, int n, int stride, float *work) {
  float mean = mean_of(x, n, stride);
  int bins = n / 2 + 1, k, j;
  if (is_power_of_two(n)) {
    float *buf = work, *twiddle = work + 2 * n;
    for (j = 0; j < n / 2; ++j) {
      twiddle[2 * j] = cosf((float)(TWO_PI * j / n));
      twiddle[2 * j + 1] = -sinf((float)(TWO_PI * j / n));
    }
    for (j = 0; j < n; ++j) {
      buf[2 * j] = x[j * stride] - mean;
      buf[2 * j + 1] = 0.0f;
    }
    fft_radix2(buf, n, twiddle);
    for (k = 0; k < bins; ++k) { /* in place: bin k reads 2k, 2k+1 >= k */
      float re = buf[2 * k], im = buf[2 * k + 1];
      buf[k] = re * re + im * im;
    }
    return buf;
  } else {
    float *table = work, *power = work + 2 * n;
    for (j = 0; j < n; ++j) {
      table[2 * j] = cosf((float)(TWO_PI * j / n));
      table[2 * j + 1] = sinf((float)(TWO_PI * j / n));
    }
    for (k = 0; k < bins; ++k) {
      float re = 0.0f, im = 0.0f;
      int m = 0; /* (k * j) mod n, kept exact by stepping */
      for (j = 0; j < n; ++j) {
        float y = x[j * stride] - mean;
        re += y * table[2 * m];
        im -= y * table[2 * m + 1];
        m += k;
        if (m >= n) m -= n;
      }
      power[k] = re * re + im * im;
    }
    return power;
  }
}

float semg_mnf(const float *x, int n, int stride, float sampling_rate, float *work) {
  const float *power;
  kahan_sum weighted = {0.0f, 0.0f}, total = {0.0f, 0.0f};
  int k;
  if (n < 1) return NAN;
  power = power_spectrum(x, n, stride, work);
  for (k = 0; k <= n / 2; ++k) {
    kahan_add(&weighted, ((float)k * sampling_rate / (float)n) * power[k]);
    kahan_add(&total, power[k]);
  }
  return weighted.sum / (total.sum > 1e-20f ? total.sum : 1e-20f);
}

float semg_mdf(const float *x, int n, int stride, float sampling_rate, float *work) {
  const float *power;
  kahan_sum total = {0.0f, 0.0f}, cumulative = {0.0f, 0.0f};
  int k, bins, below = 0;
  float half;
  if (n < 1) return NAN;
  power = power_spectrum(x, n, stride, work);
  bins = n / 2 + 1;
  for (k = 0; k < bins; ++k) kahan_add(&total, power[k]);
  half = total.sum / 2.0f;
  for (k = 0; k < bins; ++k) { /* count of bins whose cumulative power is below half */
    kahan_add(&cumulative, power[k]);
    if (cumulative.sum < half) ++below;
  }
  if (below > bins - 1) below = bins - 1;
  return (float)below * sampling_rate / (float)n;
}

float semg_feature_value(semg_feature feature, const float *x, int n, int stride, float threshold,
                         float sampling_rate, float *work) {
  switch (feature) {
    case SEMG_MAV: return semg_mav(x, n, stride);
    case SEMG_RMS: return semg_rms(x, n, stride);
    case SEMG_WL: return semg_wl(x, n, stride);
    case SEMG_ZC: return semg_zc(x, n, stride, threshold);
    case SEMG_SSC: return semg_ssc(x, n, stride, threshold);
    case SEMG_VAR: return semg_var(x, n, stride);
    case SEMG_WAMP: return semg_wamp(x, n, stride, threshold);
    case SEMG_MNF: return semg_mnf(x, n, stride, sampling_rate, work);
    case SEMG_MDF: return semg_mdf(x, n, stride, sampling_rate, work);
  }
  return NAN;
}

int semg_extract(const float *window, int n, int channels, const semg_feature *names, int n_names,
                 float threshold, float sampling_rate, float *work, float *out) {
  int i, c;
  if (n < 1 || channels < 1 || n_names < 0) return -1;
  for (i = 0; i < n_names; ++i) {
    if ((names[i] == SEMG_MNF || names[i] == SEMG_MDF) && work == 0) return -1;
    for (c = 0; c < channels; ++c) {
      out[i * channels + c] = semg_feature_value(names[i], window + c, n, channels, threshold,
                                                 sampling_rate, work);
    }
  }
  return 0;
}
