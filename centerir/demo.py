"""The built-in demo data set: SYNTHETIC EEG-like windows with a depression-like score.

This is not real EEG and says nothing about real patients; it exists so that every command
runs without data, and so that tests have a signal to find. The generating model:

- Subjects get a severity score s in 0..15 (integers, like the 15-item Geriatric Depression
  Scale), drawn from a negative binomial (mean ~2.8, right-skewed: most subjects 0-4, few
  above 10). Draws are stratified over the distribution's quantiles, so even a small demo
  holds its rare high scores.
- Each window (default 2 s at 250 Hz, 19 channels of the 10-20 system, microvolts) is
  1/f^1.2 background noise (~10 µV) plus a theta (4-7 Hz) and an alpha (8-12 Hz) rhythm:
  - alpha is strongest over parietal/occipital channels and weakens as s rises;
  - theta is strongest over frontal/central channels and grows with s;
  - frontal alpha asymmetry grows with s: left frontal alpha (Fp1, F3, F7) rises and right
    frontal alpha (Fp2, F4, F8) falls.
- Each subject has its own rhythm frequencies, overall gain and per-channel gains (a
  "fingerprint"), and each window its own amplitude jitter and phases. A model that sees a
  subject in training can recognise it in testing, so splitting a subject's windows across
  folds inflates scores: the group-aware CV matters here as on real data.
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

# Where each rhythm is strong (0..1), by channel name.
ALPHA_TOPOGRAPHY = {"O1": 1.0, "O2": 1.0, "P3": 0.8, "Pz": 0.8, "P4": 0.8, "T5": 0.7, "T6": 0.7}
THETA_TOPOGRAPHY = {"Fz": 1.0, "F3": 0.8, "F4": 0.8, "Cz": 0.9, "C3": 0.6, "C4": 0.6}
LEFT_FRONTAL = ("Fp1", "F3", "F7")
RIGHT_FRONTAL = ("Fp2", "F4", "F8")


def draw_scores(rng: np.random.Generator, n_subjects: int) -> np.ndarray:
    """Right-skewed integer scores 0..15, one per subject, stratified over quantiles."""
    quantiles = (np.arange(n_subjects) + rng.uniform(size=n_subjects)) / n_subjects
    scores = np.minimum(nbinom.ppf(quantiles, SCORE_N, SCORE_P), MAX_SCORE)
    return rng.permutation(scores).astype(np.float64)


def topography(names: tuple[str, ...], weights: dict[str, float], floor: float) -> np.ndarray:
    """Per-channel weights (C,), ``floor`` where a channel is not listed."""
    return np.array([weights.get(name, floor) for name in names])


def pink_noise(rng: np.random.Generator, shape: tuple[int, ...], exponent: float = 1.2):
    """Noise with power ~ 1/f^exponent along the last axis, unit standard deviation."""
    spectrum = np.fft.rfft(rng.standard_normal(shape), axis=-1)
    freqs = np.fft.rfftfreq(shape[-1])
    scale = np.ones_like(freqs)
    scale[1:] = freqs[1:] ** (-exponent / 2)
    scale[0] = 0.0
    noise = np.fft.irfft(spectrum * scale, n=shape[-1], axis=-1)
    return noise / noise.std(axis=-1, keepdims=True)


def make_demo_dataset(
    seed: int = 0,
    n_subjects: int = 60,
    segments_per_subject: int = 8,
    n_channels: int = 19,
    sfreq: float = SFREQ,
    window_seconds: float = 2.0,
) -> EEGDataset:
    """Synthetic EEG windows, scores and subject ids (see the module docstring).

    Returns
    -------
    EEGDataset
        x float32 (N, 1, C, T) in µV with N = n_subjects * segments_per_subject and
        T = window_seconds * sfreq; y float64 (N,) in 0..15; groups int64 (N,). The same
        seed gives the same data.
    """
    if not 1 <= n_channels <= len(CHANNEL_NAMES_10_20):
        raise ValueError(f"n_channels must be between 1 and 19, got n_channels={n_channels}.")
    rng = np.random.default_rng(seed)
    names = CHANNEL_NAMES_10_20[:n_channels]
    n_times = int(round(window_seconds * sfreq))
    scores = draw_scores(rng, n_subjects)
    groups = np.repeat(np.arange(n_subjects), segments_per_subject)
    s = scores[groups][:, None, None]  # (N, 1, 1)
    n = len(groups)
    t = np.arange(n_times) / sfreq

    alpha_freq = rng.uniform(8.5, 11.5, n_subjects)[groups][:, None, None]
    theta_freq = rng.uniform(4.5, 6.5, n_subjects)[groups][:, None, None]
    subject_gain = rng.lognormal(0.0, 0.1, n_subjects)[groups][:, None, None]
    fingerprint = rng.lognormal(0.0, 0.1, (n_subjects, n_channels))[groups][:, :, None]
    jitter = rng.lognormal(0.0, 0.1, (n, 1, 1))

    asymmetry = np.zeros(n_channels)
    asymmetry[[names.index(c) for c in LEFT_FRONTAL if c in names]] = 1.0
    asymmetry[[names.index(c) for c in RIGHT_FRONTAL if c in names]] = -1.0
    alpha_amp = (
        12.0
        * topography(names, ALPHA_TOPOGRAPHY, 0.35)[None, :, None]
        * (1.0 - 0.05 * s)
        * (1.0 + 0.03 * s * asymmetry[None, :, None])
    )
    theta_amp = 6.0 * topography(names, THETA_TOPOGRAPHY, 0.3)[None, :, None] * (1.0 + 0.15 * s)

    phases = rng.uniform(0, 2 * np.pi, (2, n, n_channels, 1))
    alpha = alpha_amp * np.sin(2 * np.pi * alpha_freq * t + phases[0])
    theta = theta_amp * np.sin(2 * np.pi * theta_freq * t + phases[1])
    background = 10.0 * pink_noise(rng, (n, n_channels, n_times))
    x = (background + alpha + theta) * subject_gain * fingerprint * jitter
    return EEGDataset(
        x=x[:, None].astype(np.float32),
        y=scores[groups],
        groups=groups.astype(np.int64),
        source=f"demo data (seed {seed})",
    )
