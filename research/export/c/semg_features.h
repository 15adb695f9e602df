/* Hand-made sEMG window features in portable C99 (float32, no malloc).
 *
 * The same definitions as research/heads/features.py, per channel of a window
 * x[t * channels + c] (t < n, the layout of a (T, C) float32 array):
 *   MAV  mean |x|                        RMS  sqrt(mean x^2)
 *   WL   sum |x[t+1] - x[t]|             ZC   #t with x[t] x[t+1] < 0 and |x[t] - x[t+1]| >= threshold
 *   SSC  #t with (x[t]-x[t-1]) (x[t]-x[t+1]) > threshold
 *   VAR  sample variance (n - 1)         WAMP #t with |x[t+1] - x[t]| > threshold
 *   MNF  sum f P(f) / max(sum P, 1e-20)  MDF  the first frequency bin where the cumulative power
 *                                              reaches half the total
 * P is the periodogram |rfft(x - mean)|^2 at f = k fs / n, k = 0 .. n/2.
 *
 * Counts (ZC, SSC, WAMP) use single float32 operations exactly as NumPy does on a
 * float32 array, so they are exact; sums use compensated (Kahan) float32 accumulation.
 * Compile with -std=c99 (or -ffp-contract=off) so that no multiply-add is fused.
 *
 * Spectrum cost: n a power of two -> in-place radix-2 FFT, O(n log n); any other n ->
 * a DFT over a cosine/sine table, O(n^2 / 2) multiply-adds (n = 3000: 4.5 M per channel).
 */
#ifndef SEMG_FEATURES_H_
#define SEMG_FEATURES_H_

#ifdef __cplusplus
extern "C" {
#endif

/* Feature ids, in the order of research/heads/features.py's FEATURES. */
typedef enum {
  SEMG_MAV = 0,
  SEMG_RMS,
  SEMG_WL,
  SEMG_ZC,
  SEMG_SSC,
  SEMG_VAR,
  SEMG_WAMP,
  SEMG_MNF,
  SEMG_MDF
} semg_feature;

/* Floats of scratch memory the spectral features (MNF, MDF) need for a window of n samples. */
#define SEMG_WORK_FLOATS(n) (3 * (n) + 4)

float semg_mav(const float *x, int n, int stride);
float semg_rms(const float *x, int n, int stride);
float semg_wl(const float *x, int n, int stride);
float semg_zc(const float *x, int n, int stride, float threshold);
float semg_ssc(const float *x, int n, int stride, float threshold);
float semg_var(const float *x, int n, int stride);
float semg_wamp(const float *x, int n, int stride, float threshold);
/* work: SEMG_WORK_FLOATS(n) floats. */
float semg_mnf(const float *x, int n, int stride, float sampling_rate, float *work);
float semg_mdf(const float *x, int n, int stride, float sampling_rate, float *work);

/* One feature of one channel: x points at the channel's first sample, stride = channels. */
float semg_feature_value(semg_feature feature, const float *x, int n, int stride, float threshold,
                         float sampling_rate, float *work);

/* Every feature of a (n, channels) window, feature-major like features.extract:
 * out[i * channels + c] = names[i] of channel c. work: SEMG_WORK_FLOATS(n) floats
 * (may be NULL when no spectral feature is asked for). Returns 0, or -1 on bad sizes. */
int semg_extract(const float *window, int n, int channels, const semg_feature *names, int n_names,
                 float threshold, float sampling_rate, float *work, float *out);

#ifdef __cplusplus
}
#endif

#endif /* SEMG_FEATURES_H_ */
