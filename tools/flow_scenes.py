"""Synthetic optical-flow scenes with exact ground truth (recipe: shared/specs/optical-flow.md §7).

Convention (OpenCV, Middlebury): I0(x) = I1(x + u(x)).  Textures are drawn at twice the target
resolution, frame 0 is the 2x texture pulled through the upsampled flow, and both frames are
area-averaged down by two so they carry the same blur.  Used by make-flow-fixtures.py (test
fixtures) and Benchmarks/flow_bench.py (timing pairs), so both see the same scenes.
"""
import cv2
import numpy as np


def _pink(h, w, rng, beta):
    spec = np.fft.rfft2(rng.standard_normal((h, w)))
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    radius = np.hypot(fx, fy)
    radius[0, 0] = 1.0
    spec /= radius ** beta
    spec[0, 0] = 0.0
    img = np.fft.irfft2(spec, s=(h, w))
    return ((img - img.mean()) / (img.std() + 1e-6)).astype(np.float32)


def procedural_texture(h, w, seed, shapes=60):
    """1/f noise, hard-edged discs and boxes, fine noise; blurred (sigma 1) at 2x."""
    rng = np.random.default_rng(seed)
    tex = _pink(h, w, rng, 1.0) * 28.0 + 128.0
    for _ in range(shapes):
        grey = float(rng.uniform(20, 235))
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        size = int(rng.uniform(0.01, 0.06) * w)
        if rng.random() < 0.5:
            cv2.circle(tex, (x, y), size, grey, -1, lineType=cv2.LINE_AA)
        else:
            cv2.rectangle(tex, (x, y), (x + size, y + int(size * rng.uniform(0.5, 2))), grey, -1)
    tex += _pink(h, w, rng, 0.5) * 6.0
    return np.clip(cv2.GaussianBlur(tex, (0, 0), 1.0), 0, 255).astype(np.float32)


def photo_texture(h, w, name):
    """A grey photograph from scikit-image's bundled data, resized to (h, w) and blurred like the procedural one."""
    from skimage import data
    img = getattr(data, name)()
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    img = cv2.resize(img.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(img, (0, 0), 1.0)


def _grid(h, w):
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return xs, ys


def flow_translate(h, w, s):
    u = np.empty((h, w, 2), np.float32)
    u[..., 0], u[..., 1] = 2.6 * s, -1.3 * s
    return u


def flow_affine(h, w, s):
    xs, ys = _grid(h, w)
    cx, cy = w / 2.0, h / 2.0
    z, a = 1.03, np.deg2rad(1.5)
    ca, sa = np.cos(a) * z, np.sin(a) * z
    dx, dy = xs - cx, ys - cy
    u = np.empty((h, w, 2), np.float32)
    u[..., 0] = ca * dx - sa * dy + cx - xs + 3.0 * s
    u[..., 1] = sa * dx + ca * dy + cy - ys + 1.0 * s
    return u


def flow_smooth(h, w, s, seed=7, amp=6.0):
    rng = np.random.default_rng(seed)
    u = np.empty((h, w, 2), np.float32)
    for c in range(2):
        n = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), w / 10.0)
        u[..., c] = n / (np.abs(n).max() + 1e-6) * amp * s
    u[..., 0] += 1.5 * s
    return u


def render_pair(tex2, u):
    """Frames (float) and in-frame mask for flow u (h, w, 2) over the 2x texture."""
    h, w = u.shape[:2]
    u2 = cv2.resize(u, (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR) * 2.0
    xs2, ys2 = _grid(2 * h, 2 * w)
    warped = cv2.remap(tex2, xs2 + u2[..., 0], ys2 + u2[..., 1], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REFLECT101)
    i0 = cv2.resize(warped, (w, h), interpolation=cv2.INTER_AREA)
    i1 = cv2.resize(tex2, (w, h), interpolation=cv2.INTER_AREA)
    xs, ys = _grid(h, w)
    tx, ty = xs + u[..., 0], ys + u[..., 1]
    return i0, i1, (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)


def render_layers(h, w, s, bg, fg):
    """Translating background plus a disc moving the other way; occluded background is invalid."""
    ub = np.array([2.0 * s, 1.0 * s], np.float32)
    uf = np.array([-6.0 * s, 4.0 * s], np.float32)
    cx, cy, r = w * 0.45, h * 0.5, h * 0.22
    xs2, ys2 = _grid(2 * h, 2 * w)

    def frame(b, f):
        bx, by = xs2 - 2 * b[0], ys2 - 2 * b[1]
        fx, fy = xs2 - 2 * f[0], ys2 - 2 * f[1]
        inside = ((fx / 2 - cx) ** 2 + (fy / 2 - cy) ** 2) <= r * r
        B = cv2.remap(bg, bx, by, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
        F = cv2.remap(fg, fx, fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
        return cv2.resize(np.where(inside, F, B), (w, h), interpolation=cv2.INTER_AREA)

    i0 = frame(np.zeros(2, np.float32), np.zeros(2, np.float32))
    i1 = frame(ub, uf)
    xs, ys = _grid(h, w)
    in_fg = ((xs - cx) ** 2 + (ys - cy) ** 2) <= r * r
    u = np.empty((h, w, 2), np.float32)
    u[..., 0] = np.where(in_fg, uf[0], ub[0])
    u[..., 1] = np.where(in_fg, uf[1], ub[1])
    tx, ty = xs + u[..., 0], ys + u[..., 1]
    inframe = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    covered = ((tx - uf[0] - cx) ** 2 + (ty - uf[1] - cy) ** 2) <= r * r
    return i0, i1, u, inframe & ~((~in_fg) & covered)


def make_scenes(w, h, seed=1, photos=()):
    """Returns {name: (I0 uint8, I1 uint8, flow float32 (h,w,2), valid bool)}."""
    s = w / 640.0
    tex2 = procedural_texture(2 * h, 2 * w, seed)
    raw = {}
    for name, fn in [("translate", flow_translate), ("affine", flow_affine), ("smooth", flow_smooth)]:
        u = fn(h, w, s)
        i0, i1, valid = render_pair(tex2, u)
        raw[name] = (i0, i1, u, valid)
    u = flow_smooth(h, w, s, seed=11)
    i0, i1, valid = render_pair(tex2, u)
    rng = np.random.default_rng(5)
    raw["photometric"] = (i0 + rng.normal(0, 2.0, i0.shape), i1 * 1.15 - 10 + rng.normal(0, 2.0, i1.shape),
                          u, valid)
    bg = procedural_texture(2 * h, 2 * w, seed + 3)
    fg = procedural_texture(2 * h, 2 * w, seed + 103, shapes=20)
    raw["layers"] = render_layers(h, w, s, bg, fg)
    u = np.empty((h, w, 2), np.float32)
    u[..., 0], u[..., 1] = 40.0 * s, -12.0 * s
    i0, i1, valid = render_pair(tex2, u)
    raw["large"] = (i0, i1, u, valid)
    for photo in photos:
        ptex = photo_texture(2 * h, 2 * w, photo)
        u = flow_smooth(h, w, s, seed=23)
        i0, i1, valid = render_pair(ptex, u)
        raw["photo-" + photo] = (i0, i1, u, valid)
    out = {}
    for k, (a, b, u, v) in raw.items():
        out[k] = (np.clip(np.round(a), 0, 255).astype(np.uint8), np.clip(np.round(b), 0, 255).astype(np.uint8),
                  u.astype(np.float32), v)
    return out


def epe(flow, gt, valid):
    return float(np.sqrt(((flow - gt) ** 2).sum(-1))[valid].mean())


PRESETS = {"ultrafast": 0, "fast": 1, "medium": 2}


def opencv_dis(preset, threads=1, **knobs):
    cv2.setNumThreads(threads)
    d = cv2.DISOpticalFlow_create(PRESETS[preset])
    for k, v in knobs.items():
        getattr(d, "set" + k)(v)
    return d
