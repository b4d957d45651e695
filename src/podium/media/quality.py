"""No-reference image quality: BRISQUE plus classical measures, folded into one 0–1 score.

Each measure is reported raw (so a reader can check it) and mapped to a 0–1 factor where 1 is
good. The quality score is the weighted geometric mean of the factors, so one bad property —
heavy noise, blown highlights, a blurred subject — pulls the whole score down instead of being
averaged away by the others.

BRISQUE (the ``brisque`` package, with the model it ships) was trained on natural photographs.
On clean computer-generated renders it reads large flat areas as unnatural and rates added
grain as an *improvement*, so it carries a modest weight here and a direct noise estimate
stands beside it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Images are measured at this longest side so scores of different sizes compare.
MEASURE_SIDE = 512

# Weights of the factors in the geometric mean (they sum to 1).
WEIGHTS: dict[str, float] = {
    "brisque": 0.15,
    "sharpness": 0.2,
    "exposure": 0.25,
    "noise": 0.25,
    "blockiness": 0.1,
    "colourfulness": 0.05,
}

_LUMA = np.array([0.2126, 0.7152, 0.0722])
Image = NDArray[np.uint8]
Plane = NDArray[np.float64]


@dataclass(frozen=True)
class ImageQuality:
    """Measures of one image and the quality score they fold into.

    Attributes:
        quality: the combined score, 0 (worst) to 1 (best).
        brisque: BRISQUE score (lower is better; about 0–100 on photographs).
        sharpness: variance of the Laplacian of luminance (0–1 units).
        exposure: tonal range used without clipping, 0–1.
        colourfulness: Hasler–Süsstrunk colourfulness (0 grey, ~100 very colourful).
        noise: estimated noise standard deviation in 8-bit levels (Immerkær).
        blockiness: gradient across 8×8 block edges over gradient inside blocks (1: none).
        factors: each measure mapped to 0–1 (1 good), as combined.
    """

    quality: float
    brisque: float
    sharpness: float
    exposure: float
    colourfulness: float
    noise: float
    blockiness: float
    factors: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, figures rounded to what they mean."""
        data = asdict(self)
        return {
            k: {n: round(f, 4) for n, f in v.items()} if isinstance(v, dict) else round(v, 6)
            for k, v in data.items()
        }


def load_rgb(path: str | Path) -> Image:
    """Read an image file as 8-bit RGB (alpha composited on white, as a viewer shows it)."""
    from PIL import Image as PILImage

    with PILImage.open(path) as im:
        if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
            rgba = im.convert("RGBA")
            flat = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
            flat.alpha_composite(rgba)
            return np.asarray(flat.convert("RGB"), dtype=np.uint8)
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def fit_side(rgb: Image, side: int = MEASURE_SIDE) -> Image:
    """Shrink ``rgb`` so its longest side is at most ``side`` (area averaging)."""
    import cv2

    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return rgb
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def luminance(rgb: Image) -> Plane:
    """Relative luminance in 0–1 (Rec. 709 weights on the encoded values)."""
    return np.asarray(rgb[..., :3].astype(np.float64) / 255.0 @ _LUMA, dtype=np.float64)


@functools.cache
def _brisque_model() -> Any:
    from brisque import BRISQUE

    return BRISQUE(url=False)


def brisque_score(rgb: Image) -> float:
    """BRISQUE score of ``rgb`` with the model the ``brisque`` package ships (lower is better).

    The package's own ``score()`` fails on numpy 2: its feature fit returns 1-element arrays
    that numpy 2 refuses to turn into floats. We compute the same features with its methods,
    flatten them to float64, and hand them to its scorer.
    """
    import cv2
    import skimage.color

    model = _brisque_model()
    gray = skimage.color.rgb2gray(rgb[..., :3])
    half = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_CUBIC)
    features = [
        np.ravel(np.asarray(value, dtype=np.float64))[0]
        for scale in (gray, half)
        for value in model.calculate_brisque_features(scale, kernel_size=7, sigma=7 / 6)
    ]
    return float(model.calculate_image_quality_score(np.asarray(features, dtype=np.float64)))


def sharpness(lum: Plane) -> float:
    """Variance of the Laplacian of luminance: falls fast as an image blurs."""
    import cv2

    return float(cv2.Laplacian(lum, cv2.CV_64F, ksize=3).var())


def noise_sigma(lum: Plane, block: int = 16) -> float:
    """Noise standard deviation in 8-bit levels, from the image's smoothest parts.

    Immerkær's fast estimator (1996) mistakes texture and edges for noise, so it is taken per
    ``block``×``block`` tile and the 10th percentile of the tiles is reported: sensor or
    render noise covers the whole frame, texture does not. Clipped tiles are left out, since
    clipping hides noise.
    """
    import cv2

    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)
    response = np.abs(cv2.filter2D(lum * 255.0, -1, kernel))[1:-1, 1:-1]
    inner = lum[1:-1, 1:-1]
    h, w = (response.shape[0] // block) * block, (response.shape[1] // block) * block
    if h == 0 or w == 0:
        return float(math.sqrt(math.pi / 2) * response.mean() / 6.0)
    tiles = response[:h, :w].reshape(h // block, block, w // block, block).mean(axis=(1, 3))
    means = inner[:h, :w].reshape(h // block, block, w // block, block).mean(axis=(1, 3))
    usable = tiles[(means > 0.02) & (means < 0.98)]
    if usable.size < 4:
        usable = tiles.ravel()
    return float(math.sqrt(math.pi / 2) * np.percentile(usable, 10) / 6.0)


def exposure(lum: Plane) -> float:
    """Tonal range used without clipping, 0–1.

    The entropy of the 64-bin luminance histogram (normalised) times the unclipped fraction:
    under-exposure crushes the tones into a few dark bins, over-exposure piles them at white.
    """
    hist = np.histogram(lum, bins=64, range=(0.0, 1.0))[0] / lum.size
    nz = hist[hist > 0]
    entropy = float(-(nz * np.log2(nz)).sum()) / 6.0
    clipped = float(((lum >= 254.5 / 255) | (lum <= 0.5 / 255)).mean())
    return entropy * (1.0 - clipped)


def colourfulness(rgb: Image) -> float:
    """Hasler–Süsstrunk colourfulness (2003): spread and strength of opponent colours."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def blockiness(lum: Plane) -> float:
    """Luminance step across 8×8 block edges over the step inside blocks (1: no blocks).

    The step at each position is the mean over the lines crossing it (JPEG's block edges are
    faint but run the whole frame); the edge and inner figures are medians over positions, so
    a letterbox bar that happens to end on the grid does not count as a block edge.
    """
    ratios = []
    for axis in (0, 1):
        if lum.shape[axis] < 24:
            continue
        steps = np.abs(np.diff(lum, axis=axis)).mean(axis=1 - axis)
        idx = np.arange(steps.size)
        edge = float(np.median(steps[idx % 8 == 7]))
        inner = float(np.median(steps[idx % 8 != 7]))
        ratios.append((edge + 1e-4) / (inner + 1e-4))
    return float(np.mean(ratios)) if ratios else 1.0


def factors(
    *, brisque: float, sharp: float, expo: float, colour: float, noise: float, block: float
) -> dict[str, float]:
    """Each raw measure mapped to 0–1, 1 good. The mappings' knees are documented in docs/3d.md."""
    return {
        # logistic around 60: photographs of good quality score 10-40, broken ones 80+
        # floored at 0.3: BRISQUE misreads clean renders (see the module docstring)
        "brisque": max(0.3, 1.0 / (1.0 + math.exp((brisque - 60.0) / 15.0))),
        # log scale: 1e-4 (a blurred frame) -> 0, 1e-1 (crisp detail everywhere) -> 1
        "sharpness": min(1.0, max(0.0, (math.log10(sharp + 1e-12) + 4.0) / 3.0)),
        "exposure": min(1.0, max(0.0, expo)),
        # 0 for grey, 0.5 at 35 ("moderately colourful" in Hasler-Süsstrunk's scale)
        "colourfulness": colour / (colour + 35.0),
        # unseen below sigma 1 level, half at 2.2: grain shows on flat areas
        "noise": 1.0 / (1.0 + (max(0.0, noise - 1.0) / 1.2) ** 2),
        # 1 at no block structure, half at 1.5x the inner-block step
        "blockiness": 1.0 / (1.0 + (max(0.0, block - 1.0) / 0.5) ** 2),
    }


def combine(fs: dict[str, float]) -> float:
    """Weighted geometric mean of the factors (each floored at 0.01 so none is fatal alone)."""
    log = sum(WEIGHTS[name] * math.log(max(0.01, fs[name])) for name in WEIGHTS)
    return math.exp(log)


def measure(rgb: Image) -> ImageQuality:
    """Measure one 8-bit RGB image (at most :data:`MEASURE_SIDE` on its longest side, except
    blockiness, which is measured on a central crop at full resolution)."""
    rgb = np.ascontiguousarray(rgb[..., :3])
    small = fit_side(rgb)
    lum = luminance(small)
    # blocks live on the file's own 8-pixel grid, which resizing would smear
    h, w = rgb.shape[:2]
    top, left = max(0, (h - 1024) // 16 * 8), max(0, (w - 1024) // 16 * 8)
    full = luminance(rgb[top : top + 1024, left : left + 1024])
    raw = {
        "brisque": brisque_score(small),
        "sharp": sharpness(lum),
        "expo": exposure(lum),
        "colour": colourfulness(small),
        "noise": noise_sigma(lum),
        "block": blockiness(full),
    }
    fs = factors(**raw)
    return ImageQuality(
        quality=combine(fs),
        brisque=raw["brisque"],
        sharpness=raw["sharp"],
        exposure=raw["expo"],
        colourfulness=raw["colour"],
        noise=raw["noise"],
        blockiness=raw["block"],
        factors=fs,
    )


def measure_file(path: str | Path) -> ImageQuality:
    """Measure an image file."""
    return measure(load_rgb(path))


def sample_frames(path: str | Path, out_dir: Path, count: int = 3) -> list[Path]:
    """Extract ``count`` frames spread over a video (at 1/6, 1/2, 5/6 for three) as PNGs.

    Raises:
        BadOutput: the file is not a readable video.
    """
    from podium.errors import BadOutput
    from podium.media.ffmpeg import probe, run_ffmpeg

    info = probe(path)
    if info.video is None:
        raise BadOutput(f"{Path(path).name} has no video stream")
    duration = info.duration_s or 0.0
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = []
    for i in range(count):
        at = duration * (2 * i + 1) / (2 * count)
        frame = out_dir / f"frame-{i}.png"
        # -ss before -i seeks by keyframe then decodes forward: exact and fast
        run_ffmpeg(
            ["-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1", str(frame)],
            what=f"frame extraction from {Path(path).name}",
        )
        if frame.exists():
            frames.append(frame)
    if not frames:
        raise BadOutput(f"no frame could be read from {Path(path).name}")
    return frames


def mean_quality(measures: list[ImageQuality]) -> ImageQuality:
    """The mean of several frames' measures (a video's score)."""
    names = list(WEIGHTS)
    fs = {n: float(np.mean([m.factors[n] for m in measures])) for n in names}
    return ImageQuality(
        quality=float(np.mean([m.quality for m in measures])),
        brisque=float(np.mean([m.brisque for m in measures])),
        sharpness=float(np.mean([m.sharpness for m in measures])),
        exposure=float(np.mean([m.exposure for m in measures])),
        colourfulness=float(np.mean([m.colourfulness for m in measures])),
        noise=float(np.mean([m.noise for m in measures])),
        blockiness=float(np.mean([m.blockiness for m in measures])),
        factors=fs,
    )


@dataclass(frozen=True)
class AudioQuality:
    """Simple technical measures of an audio file and the score they fold into.

    Attributes:
        quality: 0–1, 1 best.
        loudness_lufs: integrated loudness (ITU-R BS.1770), ``-inf`` when silent.
        clipping: fraction of samples at full scale.
        silence: fraction of 50 ms windows below -50 dBFS.
    """

    quality: float
    loudness_lufs: float
    clipping: float
    silence: float


def measure_audio(path: str | Path, work_dir: Path) -> AudioQuality:
    """Measure clipping, loudness and silence of an audio file (decoded by ffmpeg)."""
    import pyloudnorm
    import soundfile

    from podium.media.ffmpeg import run_ffmpeg

    wav = work_dir / (Path(path).stem + "-decoded.wav")
    run_ffmpeg(["-i", str(path), "-vn", "-c:a", "pcm_f32le", str(wav)], what="audio decoding")
    data, rate = soundfile.read(str(wav), dtype="float64", always_2d=True)
    if data.size == 0:
        return AudioQuality(0.0, float("-inf"), 0.0, 1.0)
    clipping = float((np.abs(data) >= 0.999).mean())
    mono = data.mean(axis=1)
    win = max(1, int(rate * 0.05))
    n = len(mono) // win
    rms = np.sqrt((mono[: n * win].reshape(n, win) ** 2).mean(axis=1) + 1e-20) if n else np.zeros(1)
    silence = float((20 * np.log10(rms) < -50).mean())
    loudness = float("-inf")
    if len(mono) >= int(0.4 * rate):  # BS.1770 gating needs at least one 400 ms block
        with np.errstate(divide="ignore"):
            loudness = float(pyloudnorm.Meter(rate).integrated_loudness(data))
    # a delivered mix sits near -14 LUFS; 10 LU away halves the factor
    loud_f = 0.0 if not math.isfinite(loudness) else 1.0 / (1.0 + ((loudness + 14.0) / 10.0) ** 2)
    clip_f = 1.0 / (1.0 + (clipping / 0.001) ** 2)  # 0.1 % of samples clipped: audible
    quality = math.exp(
        0.4 * math.log(max(0.01, loud_f))
        + 0.4 * math.log(max(0.01, clip_f))
        + 0.2 * math.log(max(0.01, 1.0 - silence))
    )
    return AudioQuality(quality, loudness, clipping, silence)
