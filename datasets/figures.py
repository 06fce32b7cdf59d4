"""Random front-facing stick figures (right side on the image's left) in the 16-joint order:
geometry tells left from right, also under a flip; limb colours are only an extra cue.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# (parent, child, side): side -1 = right, +1 = left, 0 = centre line.
LIMBS = (
    *((2, 1, -1), (1, 0, -1), (12, 11, -1), (11, 10, -1), (6, 2, -1), (7, 12, -1)),
    *((3, 4, 1), (4, 5, 1), (13, 14, 1), (14, 15, 1), (6, 3, 1), (7, 13, 1)),
    *((6, 7, 0), (7, 8, 0)),
)
HEAD_TOP, NECK = 9, 8


def pixel(point: np.ndarray) -> tuple[int, int]:
    return (int(np.round(point[0])), int(np.round(point[1])))


def _rot(vector: np.ndarray, degrees: float) -> np.ndarray:
    a = math.radians(degrees)
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) @ vector


def _chain(
    start: np.ndarray, lengths: tuple[float, float], first: float, bend: float, side: int
) -> tuple[np.ndarray, np.ndarray]:
    """Two segments hanging down from ``start``; angles in degrees, positive = away from body."""
    down = np.array([0.0, 1.0])
    middle = start + lengths[0] * _rot(down, -side * first)  # +angle turns x negative
    end = middle + lengths[1] * _rot(down, -side * (first + bend))
    return middle, end


# Per side: (side sign, hip, knee, ankle, shoulder, elbow, wrist) in the 16-joint order.
_SIDES = ((-1, 2, 1, 0, 12, 11, 10), (1, 3, 4, 5, 13, 14, 15))


def random_pose(rng: np.random.Generator) -> np.ndarray:
    """(16, 2) joints in body units (torso length 1, y down), upright, right side at x < 0."""
    joints = np.zeros((16, 2))
    joints[7] = (0.0, -0.85)  # thorax / spine
    joints[8] = (0.0, -1.05)  # upper neck
    joints[9] = (0.0, -1.5)  # head top
    for side, hip, knee, ankle, shoulder, elbow, wrist in _SIDES:
        joints[hip] = (side * 0.2, 0.05)
        joints[shoulder] = (side * 0.33, -0.9)
        joints[elbow], joints[wrist] = _chain(
            joints[shoulder], (0.5, 0.45), rng.uniform(-20, 170), rng.uniform(-140, 140), side
        )
        joints[knee], joints[ankle] = _chain(
            joints[hip], (0.65, 0.6), rng.uniform(-15, 55), rng.uniform(-100, 100), side
        )
    return joints


def draw_figure(image: np.ndarray, joints: np.ndarray, rng: np.random.Generator) -> None:
    """Draw torso, limbs, joints and a face in place; ``joints`` are pixel coordinates."""
    head_len = float(np.linalg.norm(joints[HEAD_TOP] - joints[NECK]))
    width = max(2, round(0.28 * head_len))
    jitter = rng.integers(-30, 31, size=3)
    right, left, middle = (210, 90, 40), (40, 70, 210), (60, 170, 60)  # BGR: blue-ish, red-ish
    shades = {-1: np.add(right, jitter), 1: np.add(left, jitter[::-1]), 0: np.add(middle, jitter)}
    colours = {side: tuple(int(v) for v in np.clip(c, 0, 255)) for side, c in shades.items()}
    torso = np.round(joints[[12, 13, 3, 2]]).astype(np.int32)
    cv2.fillConvexPoly(image, torso, colours[0], lineType=cv2.LINE_AA)
    for parent, child, side in LIMBS:
        p, c = pixel(joints[parent]), pixel(joints[child])
        cv2.line(image, p, c, colours[side], width, lineType=cv2.LINE_AA)
    for joint in range(16):
        if joint != HEAD_TOP:
            dot = max(1, width // 2 + 1)
            cv2.circle(image, pixel(joints[joint]), dot, (30, 30, 30), -1, lineType=cv2.LINE_AA)
    centre = (joints[HEAD_TOP] + joints[NECK]) / 2
    radius = max(2, round(head_len / 2))
    cv2.circle(image, pixel(centre), radius, (150, 190, 230), -1, lineType=cv2.LINE_AA)
    up = (joints[HEAD_TOP] - joints[NECK]) / max(head_len, 1e-6)
    across = np.array([-up[1], up[0]])
    for sign in (-1, 1):  # two eyes: the figure faces the camera
        eye = centre + 0.15 * head_len * up + sign * 0.2 * head_len * across
        cv2.circle(image, pixel(eye), max(1, radius // 5), (20, 20, 20), -1)


def background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Smooth random colour field with a few grey distractor shapes."""
    coarse = rng.integers(40, 216, size=(3, 3, 3)).astype(np.uint8)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    noise = rng.normal(0, 8, size=image.shape)
    image = np.clip(image.astype(np.float64) + noise, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(0, 4))):
        grey = int(rng.integers(60, 200))
        p = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        q = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(image, p, q, (grey, grey, grey), int(rng.integers(1, 5)))
    return image


def add_occluder(image: np.ndarray, joints: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Paint a random rectangle over one random joint; returns the (16,) mask of joints it hides."""
    head_len = float(np.linalg.norm(joints[HEAD_TOP] - joints[NECK]))
    target = joints[int(rng.integers(0, 16))]
    half = rng.uniform(0.4, 1.0, size=2) * head_len
    p0, p1 = target - half, target + half
    colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
    cv2.rectangle(image, tuple(int(v) for v in p0), tuple(int(v) for v in p1), colour, -1)
    return ((joints >= p0) & (joints <= p1)).all(axis=1)


def place(
    pose: np.ndarray, rng: np.random.Generator, height_px: float, centre: np.ndarray
) -> np.ndarray:
    """Rotate (+-25 degrees), scale so the figure is ``height_px`` tall, centre it."""
    joints = pose @ _rot(np.eye(2), rng.uniform(-25, 25)).T
    low, high = joints.min(axis=0), joints.max(axis=0)
    return (joints - (high + low) / 2) * height_px / max(high[1] - low[1], 1e-6) + centre
