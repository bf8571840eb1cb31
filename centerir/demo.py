"""The built-in demo data set: SYNTHETIC EEG-like windows with a depression-like score.

This is NOT real EEG and says nothing about real patients or real depression markers; it
exists so that every command runs without data, and so that tests have a known signal to
find. The generating model, all in microvolts:

- Every subject gets a severity score s in 0..15 (an integer, like the 15-item Geriatric
  Depression Scale short form), drawn from a negative binomial (n=1.2, p=0.3: mean 2.8,
  median 2, right-skewed: most subjects score 0-4, few above 10). The draws are stratified
  over the distribution's quantiles, so the 60 default subjects always include two or three
  with s >= 10 however the seed falls.
- Every window (default 2 s at 250 Hz over the 19 channels of the 10-20 system) is the sum
  of
  - 1/f background noise, power ~ 1/f^a with a per-subject exponent a in [1.0, 1.5], made
    by shaping white noise in the frequency domain, ~10 µV standard deviation;
  - an alpha rhythm (8-12 Hz), strongest over occipital/parietal channels (~12 µV peak),
    whose amplitude falls with s (by 5 % per point);
  - a theta rhythm (4-7 Hz), strongest over frontal/central channels (~6 µV peak), whose
    amplitude rises with s (by 15 % per point);
  - frontal alpha asymmetry that grows with s: left frontal alpha (Fp1, F7, F3) gains 3 %
    per point and right frontal alpha (Fp2, F8, F4) loses 3 % per point.
- Rhythm frequencies are set per subject and jittered slightly per window; phases are
  random per window and channel.
- Nuisance variation keeps the task learnable but not trivial: per-window amplitude jitter
  of each rhythm and of the whole window, and per subject an overall gain, per-channel
  gains and alpha/theta amplitude offsets unrelated to s. These subject traits act as a
  fingerprint: a model that has seen a subject's windows in training can recognise the
  subject in testing, so splitting one subject's windows across folds inflates scores, and
  subject-disjoint (group-aware) CV matters here as it does on real data.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import nbinom

from centerir.data import EEGDataset

CHANNEL_NAMES_10_20 = (
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T3", "C3", "Cz",
    "C4", "T4", "T5", "P3", "Pz", "P4", "T6", "O1", "O2",
)  # fmt: skip
SFREQ = 250.0  # Hz
MAX_SCORE = 15
SCORE_N, SCORE_P = 1.2, 0.3  # negative binomial: mean n(1-p)/p = 2.8

# Relative strength (0..1) of each rhythm by channel; unlisted channels get the floor.
ALPHA_TOPOGRAPHY = {"O1": 1.0, "O2": 1.0, "P3": 0.8, "Pz": 0.8, "P4": 0.8, "T5": 0.7, "T6": 0.7}
THETA_TOPOGRAPHY = {"Fz": 1.0, "F3": 0.8, "F4": 0.8, "Cz": 0.9, "C3": 0.6, "C4": 0.6}
ALPHA_FLOOR, THETA_FLOOR = 0.35, 0.3
LEFT_FRONTAL = ("Fp1", "F7", "F3")
RIGHT_FRONTAL = ("Fp2", "F8", "F4")

BACKGROUND_UV = 10.0  # std of the 1/f background
ALPHA_UV, THETA_UV = 12.0, 6.0  # peak amplitudes at s = 0 where the topography is 1
ALPHA_SLOPE, THETA_SLOPE, ASYMMETRY_SLOPE = -0.05, 0.15, 0.03  # relative change per point


def draw_scores(rng: np.random.Generator, n_subjects: int) -> np.ndarray:
    """Right-skewed integer scores in 0..15, float64 (n_subjects,).

    One draw per quantile stratum of the negative binomial, then shuffled: a small demo
    still holds its share of the rare high scores.
    """
    quantiles = (np.arange(n_subjects) + rng.uniform(size=n_subjects)) / n_subjects
    scores = np.minimum(nbinom.ppf(quantiles, SCORE_N, SCORE_P), MAX_SCORE)
    return rng.permutation(scores).astype(np.float64)


def topography(names: tuple[str, ...], weights: dict[str, float], floor: float) -> np.ndarray:
    """Per-channel weights, float64 (C,); ``floor`` where a channel is not listed."""
    return np.array([weights.get(name, floor) for name in names])


def pink_noise(rng: np.random.Generator, shape: tuple[int, ...], exponent: np.ndarray):
    """Noise with power ~ 1/f^exponent along the last axis, unit std per row.

    ``exponent`` broadcasts against ``shape[:-1] + (1,)``; amplitudes are scaled by
    f^(-exponent/2) in the frequency domain, and the DC bin is zeroed so rows have mean 0.
    """
    spectrum = np.fft.rfft(rng.standard_normal(shape), axis=-1)
    freqs = np.fft.rfftfreq(shape[-1])
    freqs[0] = np.inf  # inf ** -positive == 0 removes the DC offset
    noise = np.fft.irfft(spectrum * freqs ** (-np.asarray(exponent) / 2), n=shape[-1], axis=-1)
    return noise / noise.std(axis=-1, keepdims=True)


def check_demo_args(
    n_subjects: int, segments_per_subject: int, n_channels: int, sfreq: float, window_s: float
) -> int:
    """Validate :func:`make_demo_dataset` arguments; return T, the samples per window."""
    if n_subjects < 1:
        raise ValueError(f"n_subjects must be >= 1, got {n_subjects}.")
    if segments_per_subject < 1:
        raise ValueError(f"segments_per_subject must be >= 1, got {segments_per_subject}.")
    if not 1 <= n_channels <= len(CHANNEL_NAMES_10_20):
        raise ValueError(
            f"n_channels must be between 1 and {len(CHANNEL_NAMES_10_20)} (the 10-20 "
            f"channels), got {n_channels}."
        )
    if not sfreq > 0:
        raise ValueError(f"sfreq must be > 0 Hz, got {sfreq}.")
    n_times = int(round(window_s * sfreq))
    if n_times < 2:
        raise ValueError(
            f"window_seconds * sfreq must give at least 2 samples, got {window_s} s at {sfreq} Hz."
        )
    return n_times


def make_demo_dataset(
    seed: int = 0,
    n_subjects: int = 60,
    segments_per_subject: int = 8,
    n_channels: int = 19,
    sfreq: float = SFREQ,
    window_seconds: float = 2.0,
) -> EEGDataset:
    """Synthetic EEG windows, scores and subject ids (see the module docstring).

    Parameters
    ----------
    seed : int
        The same seed gives the same data.
    n_subjects, segments_per_subject : int
        N = n_subjects * segments_per_subject windows, subject by subject.
    n_channels : int
        The first ``n_channels`` of :data:`CHANNEL_NAMES_10_20` (1..19).
    sfreq : float
        Sampling rate in Hz.
    window_seconds : float
        Window length in seconds; T = round(window_seconds * sfreq).

    Returns
    -------
    EEGDataset
        ``x`` float32 (N, 1, C, T) in µV, in memory; ``y`` float64 (N,) integer scores in
        0..15, each subject's score repeated for its windows; ``groups`` int64 (N,) subject
        ids 0..n_subjects-1; ``source`` "demo data (seed S)".
    """
    n_times = check_demo_args(n_subjects, segments_per_subject, n_channels, sfreq, window_seconds)
    rng = np.random.default_rng(seed)
    names = CHANNEL_NAMES_10_20[:n_channels]
    scores = draw_scores(rng, n_subjects)
    groups = np.repeat(np.arange(n_subjects), segments_per_subject)
    n = len(groups)

    def per_subject(values: np.ndarray) -> np.ndarray:
        # (n_subjects,) or (n_subjects, C) -> (N, 1 or C, 1), broadcasting over time
        values = values[groups]
        return values.reshape(n, -1, 1)

    s = per_subject(scores)
    alpha_freq = per_subject(rng.uniform(8.5, 11.5, n_subjects)) + rng.normal(0, 0.2, (n, 1, 1))
    theta_freq = per_subject(rng.uniform(4.5, 6.5, n_subjects)) + rng.normal(0, 0.15, (n, 1, 1))
    exponent = per_subject(rng.uniform(1.0, 1.5, n_subjects))
    subject_gain = per_subject(rng.lognormal(0.0, 0.1, n_subjects))
    channel_gain = per_subject(rng.lognormal(0.0, 0.1, (n_subjects, n_channels)))
    alpha_trait = per_subject(rng.lognormal(0.0, 0.15, n_subjects))
    theta_trait = per_subject(rng.lognormal(0.0, 0.15, n_subjects))
    window_gain = rng.lognormal(0.0, 0.1, (n, 1, 1))
    alpha_state = rng.lognormal(0.0, 0.2, (n, 1, 1))
    theta_state = rng.lognormal(0.0, 0.2, (n, 1, 1))

    side = np.zeros(n_channels)  # +1 left frontal, -1 right frontal
    side[[names.index(c) for c in LEFT_FRONTAL if c in names]] = 1.0
    side[[names.index(c) for c in RIGHT_FRONTAL if c in names]] = -1.0
    alpha_amp = (
        ALPHA_UV
        * topography(names, ALPHA_TOPOGRAPHY, ALPHA_FLOOR)[:, None]
        * (1.0 + ALPHA_SLOPE * s)
        * (1.0 + ASYMMETRY_SLOPE * s * side[:, None])
        * alpha_trait
        * alpha_state
    )
    theta_amp = (
        THETA_UV
        * topography(names, THETA_TOPOGRAPHY, THETA_FLOOR)[:, None]
        * (1.0 + THETA_SLOPE * s)
        * theta_trait
        * theta_state
    )

    t = np.arange(n_times) / sfreq
    phases = rng.uniform(0, 2 * np.pi, (2, n, n_channels, 1))
    x = BACKGROUND_UV * pink_noise(rng, (n, n_channels, n_times), exponent)
    x += alpha_amp * np.sin(2 * np.pi * alpha_freq * t + phases[0])
    x += theta_amp * np.sin(2 * np.pi * theta_freq * t + phases[1])
    x *= subject_gain * channel_gain * window_gain
    return EEGDataset(
        x=x[:, None].astype(np.float32),
        y=scores[groups],
        groups=groups.astype(np.int64),
        source=f"demo data (seed {seed})",
    )
