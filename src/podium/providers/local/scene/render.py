"""Rendering a :class:`Scene` with moderngl: shadow map, backdrop, floor reflection, floor,
product, then the finish (:mod:`.post`).

Passes, in order: the key light's depth map (sampled with 12-tap PCF for soft shadows); the
backdrop; the product mirrored under the floor, faded with height (the floor's reflection); the
floor, blended over that reflection; the product's opaque parts; its glass, back faces then front
faces; the toon outline. A still goes into a 4× multisampled frame, optionally supersampled,
which is what anti-aliases its edges. A frame of a moving shot (``motion=True``) is drawn
without multisampling and anti-aliased by FXAA in the grade pass over the box where the
product and its reflection can have edges (motion blurs what FXAA misses), with four of the
eight PCF compares on the product; the opaque product is laid into the depth buffer first, so
the floor and the reflection behind it are never shaded. What does not change while only the
camera moves is drawn once per shot: the shadow map, and the floor's colour, which is matte
and so the same from every viewpoint — baked into a map (all eight PCF compares, texels
crowded around the product) that each frame looks up instead of lighting the floor again;
a still of more pixels than the map (a supersampled 720p hero) looks it up too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import moderngl
import numpy as np
from numpy.typing import NDArray

from podium.providers.local.scene import gl
from podium.providers.local.scene.camera import radius
from podium.providers.local.scene.model import Scene
from podium.providers.local.scene.post import finish, scene_grade

BG_KINDS = {"solid": 0, "gradient": 1, "sweep": 2, "environment": 3}
SHADOW_SIZE = 2048
LIGHT_MAP_SIZE = 1024
EXPOSURE = 0.6  # lamps are bright enough for a white sweep to sit just under clipping


def look_at(
    eye: NDArray[np.float64], target: NDArray[np.float64], up: NDArray[np.float64]
) -> NDArray[np.float64]:
    """A right-handed view matrix."""
    f = (target - eye) / float(np.linalg.norm(target - eye))
    s = np.cross(f, up)
    s = s / max(float(np.linalg.norm(s)), 1e-12)
    u = np.cross(s, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = s, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m


def perspective(fov_deg: float, aspect: float, near: float, far: float) -> NDArray[np.float64]:
    """An OpenGL perspective projection."""
    f = 1.0 / math.tan(math.radians(fov_deg) / 2)
    m = np.zeros((4, 4))
    m[0, 0], m[1, 1] = f / aspect, f
    m[2, 2], m[2, 3] = (far + near) / (near - far), 2 * far * near / (near - far)
    m[3, 2] = -1.0
    return m


def ortho(half: float, near: float, far: float) -> NDArray[np.float64]:
    """An OpenGL orthographic projection of a square ``2 * half`` wide."""
    m = np.eye(4)
    m[0, 0] = m[1, 1] = 1.0 / half
    m[2, 2], m[2, 3] = -2.0 / (far - near), -(far + near) / (far - near)
    return m


def _gl(m: NDArray[np.float64]) -> bytes:
    return m.T.astype("f4").tobytes()  # GL wants column-major


@dataclass
class Frame:
    """A rendered frame before and after the finish."""

    rgb: NDArray[np.uint8]
    depth: NDArray[np.float32] | None


class Targets:
    """Framebuffers of one size, kept between frames."""

    def __init__(self, ctx: moderngl.Context, width: int, height: int) -> None:
        samples = min(4, ctx.max_samples)
        self.size = (width, height)
        self.msaa = ctx.framebuffer(
            color_attachments=[ctx.renderbuffer((width, height), 4, samples=samples)],
            depth_attachment=ctx.depth_renderbuffer((width, height), samples=samples),
        )
        self.resolved_tex = ctx.texture((width, height), 4)
        self.resolved_tex.filter = (moderngl.LINEAR, moderngl.LINEAR)  # FXAA's edge taps
        self.resolved = ctx.framebuffer(color_attachments=[self.resolved_tex])
        # moving frames draw straight into the texture the grade pass reads: no resolve
        self.plain = ctx.framebuffer(
            color_attachments=[self.resolved_tex],
            depth_attachment=ctx.depth_renderbuffer((width, height)),
        )
        self.graded = ctx.framebuffer(color_attachments=[ctx.renderbuffer((width, height), 4)])
        self.depth = ctx.framebuffer(
            color_attachments=[ctx.renderbuffer((width, height), 1, dtype="f4")],
            depth_attachment=ctx.depth_renderbuffer((width, height)),
        )


_TARGETS: dict[tuple[int, int], Targets] = {}
_SHADOW: dict[str, moderngl.Framebuffer | moderngl.Texture] = {}
_SHADOW_DRAWN: dict[str, object] = {}  # what the shadow map now holds
_LIGHT_MAP: dict[str, object] = {}  # the floor's light map and the scene it was baked for


def _targets(width: int, height: int) -> Targets:
    key = (width, height)
    if key not in _TARGETS:
        if len(_TARGETS) > 4:
            _TARGETS.clear()
        _TARGETS[key] = Targets(gl.context(), width, height)
    return _TARGETS[key]


def _shadow_target() -> tuple[moderngl.Framebuffer, moderngl.Texture]:
    if not _SHADOW:
        ctx = gl.context()
        tex = ctx.depth_texture((SHADOW_SIZE, SHADOW_SIZE))
        tex.compare_func = "<="
        tex.repeat_x = tex.repeat_y = False
        tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        _SHADOW["tex"] = tex
        _SHADOW["fbo"] = ctx.framebuffer(depth_attachment=tex)
    return _SHADOW["fbo"], _SHADOW["tex"]  # type: ignore[return-value]


def _model(yaw_deg: float, mirror: bool = False) -> NDArray[np.float64]:
    a = math.radians(yaw_deg)
    m = np.eye(4)
    m[0, 0], m[0, 2], m[2, 0], m[2, 2] = math.cos(a), math.sin(a), -math.sin(a), math.cos(a)
    if mirror:
        m = np.diag([1.0, -1.0, 1.0, 1.0]) @ m
    return m


def camera_matrices(scene: Scene, aspect: float) -> tuple[NDArray[np.float64], float]:
    """The camera's view-projection matrix and its distance to the target."""
    cam = scene.camera
    eye, target = np.array(cam.position, float), np.array(cam.target, float)
    dist = float(np.linalg.norm(eye - target))
    fwd = (target - eye) / max(dist, 1e-9)
    up = np.array([0.0, 1.0, 0.0])
    if abs(fwd[1]) > 0.97:  # looking straight down: the product's front at the frame's bottom
        flat = np.array([fwd[0], 0.0, fwd[2]])
        n = float(np.linalg.norm(flat))
        up = flat / n if n > 1e-6 else np.array([0.0, 0.0, -1.0])
    r = radius(scene.product)
    proj = perspective(cam.fov_deg, aspect, max(dist - 60 * r, dist * 0.02), dist + 80 * r)
    return proj @ look_at(eye, target, up), dist


def render(
    scene: Scene, width: int, height: int, *, supersample: int = 1, motion: bool = False
) -> NDArray[np.uint8]:
    """Render ``scene`` to an (height, width, 3) uint8 RGB image, finish included.

    Args:
        scene: what to draw.
        width: output width in pixels.
        height: output height in pixels.
        supersample: render this many times larger and downsample (2 for stills).
        motion: a frame of a moving shot: FXAA instead of 4× MSAA and a 4-compare PCF
            (about half the CPU under llvmpipe; the difference is at edges and in the
            shadow's grain, which motion hides).
    """
    ss = max(1, int(supersample))
    w, h = width * ss, height * ss
    rgb = _draw(scene, w, h, motion=motion)
    depth = _draw_depth(scene, w, h) if scene.style.dof > 0 else None
    return finish(rgb, depth, scene, (width, height), graded=True)


def _uniforms(prog: moderngl.Program, values: dict[str, object]) -> None:
    for name, value in values.items():
        if name not in prog:
            continue
        uni = prog[name]
        if isinstance(value, bytes):
            uni.write(value)  # type: ignore[union-attr]
        else:
            uni.value = value  # type: ignore[union-attr]


def _common(
    scene: Scene,
    vp: NDArray[np.float64],
    light_vp: NDArray[np.float64],
    size: tuple[int, int],
    motion: bool = False,
) -> dict[str, object]:
    lights = scene.lighting.lights[:4]
    pad = 4 - len(lights)
    r = radius(scene.product)
    bg = scene.background
    centre = np.array([0.0, scene.product.size[1] / 2, 0.0])
    dirs, sides = [], []
    for light in lights:
        d = np.asarray(light.position) - centre
        d = d / max(float(np.linalg.norm(d)), 1e-9)
        side = np.cross(d, [0.0, 1.0, 0.0]) + 1e-4
        dirs.append(tuple(float(x) for x in d))
        sides.append(tuple(float(x) for x in side / float(np.linalg.norm(side))))
    return {
        "u_vp": _gl(vp),
        "u_cam": tuple(scene.camera.position),
        "u_centre": (0.0, scene.product.size[1] / 2, 0.0),
        "u_radius": r,
        "u_nlights": len(lights),
        "u_lpos": [tuple(x.position) for x in lights] + [(0.0, 1.0, 0.0)] * pad,
        "u_lcol": [tuple(c * x.intensity for c in x.color) for x in lights]
        + [(0.0, 0.0, 0.0)] * pad,
        "u_lsize": [x.size for x in lights] + [0.0] * pad,
        "u_ldir": dirs + [(0.0, 1.0, 0.0)] * pad,
        "u_lside": sides + [(1.0, 0.0, 0.0)] * pad,
        "u_ambient": tuple(scene.lighting.ambient),
        "u_bg_top": tuple(bg.top),
        "u_bg_bottom": tuple(bg.bottom),
        "u_floor": tuple(bg.floor),
        "u_bg_kind": BG_KINDS.get(bg.kind, 2),
        "u_viewport": (float(size[0]), float(size[1])),
        "u_light_vp": _gl(light_vp),
        "u_shadows": scene.shadows,
        "u_shadow_soft": 0.004 + 0.02 * lights[0].size if lights else 0.01,
        "u_shadow_step": 2 if motion else 1,
        "u_toon": scene.style.toon_steps,
        "u_exposure": EXPOSURE,
        "u_shadow": 0,
        "u_tex": 1,
        "u_inflate": 0.0,
        "u_mirror": False,
        "u_flat": False,
        "u_fade": 1.0,
    }


def _light_matrix(scene: Scene) -> NDArray[np.float64]:
    """The key light's view-projection: an orthographic box around the product."""
    r = radius(scene.product)
    centre = np.array([0.0, scene.product.size[1] / 2, 0.0])
    lights = scene.lighting.lights
    pos = np.array(lights[0].position if lights else (0.0, 10 * r, 0.0), float)
    d = float(np.linalg.norm(pos - centre))
    up = np.array([0.0, 1.0, 0.0]) if abs((pos - centre)[1]) < 0.99 * d else np.array([0, 0, 1.0])
    m: NDArray[np.float64] = ortho(r * 1.3, max(d - 3 * r, 1e-3), d + 120 * r) @ look_at(
        pos, centre, up
    )
    return m


def _parts(scene: Scene) -> list[gl.GpuPart]:
    return gl.product_parts(scene.product.kind, scene.product.size)


def _material(scene: Scene, part: gl.GpuPart) -> dict[str, object]:
    mat = scene.material
    role = part.part.role
    if role == "accent":
        metal = mat.accent_metallic
        return {
            "u_color": tuple(mat.accent_color),
            "u_rough": 0.22 if metal else 0.3,
            "u_metal": metal,
            "u_opacity": 1.0,
            "u_aniso": 0.5 if metal else 0.0,
            "u_textured": False,
        }
    if role == "screen":  # a switched-off screen: black glass, as the GLB and Cycles draw it
        return {
            "u_color": (0.01, 0.01, 0.012),
            "u_rough": 0.05,
            "u_metal": 0.0,
            "u_opacity": 1.0,
            "u_aniso": 0.0,
            "u_textured": False,
        }
    if role == "label":
        return {
            "u_color": tuple(scene.label.color),
            "u_rough": 0.4,
            "u_metal": 0.0,
            "u_opacity": 1.0,
            "u_aniso": 0.0,
            "u_textured": True,
        }
    return {
        "u_color": tuple(mat.color),
        "u_rough": mat.roughness,
        "u_metal": mat.metallic,
        "u_opacity": mat.opacity,
        "u_aniso": mat.anisotropy,
        "u_textured": False,
    }


def _draw_product(
    scene: Scene,
    common: dict[str, object],
    *,
    mirror: bool = False,
    glass: bool | None = None,
    motion: bool = False,
) -> None:
    ctx = gl.context()
    prog = gl.programs()["product"]
    model = _model(scene.product.yaw_deg, mirror)
    for part in _parts(scene):
        values = {**common, **_material(scene, part), "u_model": _gl(model), "u_mirror": mirror}
        is_glass = float(values["u_opacity"]) < 1.0  # type: ignore[arg-type]
        if glass is not None and is_glass != glass:
            continue
        if part.part.role == "label":
            if not scene.label.text and not scene.label.image:
                continue
            tex = gl.label_texture(scene.label, part.label_aspect)
            # llvmpipe's anisotropic filter can spin for seconds on the single-sampled frames
            # of a move (seen on a mirrored label): trilinear there, 8× only for stills
            tex.anisotropy = 1.0 if mirror or motion else 8.0
            tex.use(1)
        _uniforms(prog, values)
        if is_glass and not mirror:
            fbo = ctx.fbo
            fbo.depth_mask = False
            ctx.enable(moderngl.CULL_FACE)
            ctx.cull_face = "front"
            part.vaos["product"].render()
            ctx.cull_face = "back"
            part.vaos["product"].render()
            ctx.disable(moderngl.CULL_FACE)
            fbo.depth_mask = True
        else:
            part.vaos["product"].render()


def _draw(
    scene: Scene, w: int, h: int, *, motion: bool = False, floor_map: bool | None = None
) -> NDArray[np.uint8]:
    """The frame's GL passes and its read-back (``floor_map``: look the floor up in the baked
    map; by default moving frames do, and frames of more pixels than the map has texels, where
    baking costs less than lighting the floor per pixel: 56 dB PSNR to the lit floor for a
    supersampled 720p still)."""
    ctx = gl.context()
    vp, _ = camera_matrices(scene, w / h)
    light_vp = _light_matrix(scene)
    shadow_tex = _shadow_pass(scene, light_vp)
    targets = _targets(w, h)
    fbo = targets.plain if motion else targets.msaa
    fbo.use()
    bg = scene.background
    fbo.clear(*bg.bottom, 1.0, depth=1.0)
    shadow_tex.use(0)
    common = _common(scene, vp, light_vp, (w, h), motion)
    common["u_inv_vp"] = _gl(np.asarray(np.linalg.inv(vp), dtype=np.float64))
    if bg.kind != "sweep":  # the sweep's own wall fills the frame behind the product
        ctx.disable(moderngl.DEPTH_TEST)
        _uniforms(gl.programs()["backdrop"], common)
        gl.fullscreen().render()
    ctx.enable(moderngl.DEPTH_TEST)
    _depth_prepass(scene, common, fbo)
    # the floor is opaque and writes no depth: the product's reflection, below it, is blended
    # over it afterwards (cheaper than blending the whole floor over the reflection)
    floor = gl.floor_part(BG_KINDS.get(bg.kind, 2), radius(scene.product))
    reflect = bg.reflectivity if scene.reflections else 0.0
    program = "floor"
    if floor_map is None:
        floor_map = motion or w * h > LIGHT_MAP_SIZE**2
    if floor_map and bg.kind != "environment":  # the camera moves, the floor does not: its
        # colour is looked up in a map baked once (not the table's fine wood grain, though)
        _light_map(scene, common).use(3)
        fbo.use()
        program = "floor_mapped"
    _uniforms(
        gl.programs()[program],
        {**common, **_floor_values(scene), "u_model": _gl(np.eye(4)), "u_reflect": reflect},
    )
    fbo.depth_mask = False
    floor.vaos[program].render()
    fbo.depth_mask = True
    ctx.enable(moderngl.BLEND)
    ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
    if reflect > 0:
        ctx.front_face = "cw"
        _draw_product(scene, {**common, "u_fade": reflect}, mirror=True, motion=motion)
        ctx.front_face = "ccw"
    ctx.depth_func = "<="  # the opaque product is shaded where the pre-pass left it
    _draw_product(scene, common, glass=False, motion=motion)
    ctx.depth_func = "<"
    if scene.style.outline > 0:
        _outline(scene, common, h)
    _draw_product(scene, common, glass=True, motion=motion)
    ctx.disable(moderngl.BLEND)
    if not motion:
        ctx.copy_framebuffer(targets.resolved, fbo)
    _grade(scene, targets, (w, h), fxaa=_edge_box(scene, vp, (w, h)) if motion else None)
    pixels = bytearray(w * h * 3)  # the grade pass flipped the rows: top row first
    targets.graded.read_into(pixels, components=3)
    return np.frombuffer(pixels, dtype=np.uint8).reshape(h, w, 3)


def _shadow_pass(scene: Scene, light_vp: NDArray[np.float64]) -> moderngl.Texture:
    """The key light's depth map, redrawn only when the product or the light has moved."""
    shadow_fbo, shadow_tex = _shadow_target()
    key = (scene.product, light_vp.tobytes())
    if not scene.shadows or _SHADOW_DRAWN.get("key") == key:
        return shadow_tex
    ctx = gl.context()
    shadow_fbo.use()
    shadow_fbo.clear(depth=1.0)
    ctx.enable(moderngl.DEPTH_TEST)
    ctx.disable(moderngl.CULL_FACE)
    model = _gl(_model(scene.product.yaw_deg))
    _uniforms(gl.programs()["shadow"], {"u_vp": _gl(light_vp), "u_model": model, "u_inflate": 0.0})
    for part in _parts(scene):
        part.vaos["shadow"].render()
    _SHADOW_DRAWN["key"] = key
    return shadow_tex


def _floor_values(scene: Scene) -> dict[str, object]:
    """Uniforms of the floor's programs beside the common ones."""
    size = scene.product.size
    r = radius(scene.product)
    return {
        "u_footprint": 0.5 * min(size[0], size[2] or size[0]),
        "u_lm_extent": math.asinh(gl.FLOOR_REACH),
        "u_light_map": 3,
        "u_sweep_depth": gl.SWEEP_DEPTH * r,
        "u_sweep_cove": gl.SWEEP_COVE * r,
    }


def _light_map(scene: Scene, common: dict[str, object]) -> moderngl.Texture:
    """The floor's colour seen from anywhere (it is matte), baked with all eight PCF compares;
    redrawn only when the product, the lights, the background or the style change. Leaves
    the map's framebuffer bound."""
    key = (scene.product, scene.lighting, scene.background, scene.shadows, scene.style)
    tex = _LIGHT_MAP.get("tex")
    if tex is None:
        ctx = gl.context()
        tex = ctx.texture((LIGHT_MAP_SIZE, LIGHT_MAP_SIZE), 4)
        tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        tex.repeat_x = tex.repeat_y = False
        _LIGHT_MAP["tex"], _LIGHT_MAP["fbo"] = tex, ctx.framebuffer(color_attachments=[tex])
    assert isinstance(tex, moderngl.Texture)
    if _LIGHT_MAP.get("key") != key:
        ctx = gl.context()
        fbo = _LIGHT_MAP["fbo"]
        assert isinstance(fbo, moderngl.Framebuffer)
        fbo.use()
        depth_test = ctx.DEPTH_TEST
        ctx.disable(depth_test)
        size = float(LIGHT_MAP_SIZE)
        _uniforms(
            gl.programs()["floor_bake"],
            {**common, **_floor_values(scene), "u_shadow_step": 1, "u_viewport": (size, size)},
        )
        gl.fullscreen("floor_bake").render()
        ctx.enable(depth_test)
        _LIGHT_MAP["key"] = key
    return tex


def _depth_prepass(scene: Scene, common: dict[str, object], fbo: moderngl.Framebuffer) -> None:
    """Lay the opaque product into the depth buffer, so what it hides is never shaded."""
    prog = gl.programs()["shadow"]  # the same vertex shader as the product: the same depths
    _uniforms(prog, {"u_vp": common["u_vp"], "u_model": _gl(_model(scene.product.yaw_deg))})
    _uniforms(prog, {"u_inflate": 0.0})
    fbo.color_mask = (False, False, False, False)
    for part in _parts(scene):
        values = _material(scene, part)
        if float(values["u_opacity"]) < 1.0:  # type: ignore[arg-type]
            continue
        if part.part.role == "label" and not scene.label.text and not scene.label.image:
            continue
        part.vaos["shadow"].render()
    fbo.color_mask = (True, True, True, True)


Box = tuple[int, int, int, int]  # x, y, width, height in GL pixels (y up)


def _edge_box(scene: Scene, vp: NDArray[np.float64], size: tuple[int, int]) -> Box:
    """Where a frame can have hard edges to anti-alias: the screen box of the product and of its
    reflection, with a margin. The sweep, the floors and the gradients are smooth; only the
    environment's room (its window) has edges of its own, so there the box is the frame."""
    w, h = size
    if scene.background.kind == "environment":
        return (0, 0, w, h)
    lo, hi = gl.product_bounds(scene.product.kind, scene.product.size)
    corners = np.array(
        [[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (-hi[1], hi[1]) for z in (lo[2], hi[2])]
    )  # -hi[1]: the reflection under the floor
    clip = corners @ (vp @ _model(scene.product.yaw_deg)).T
    if (clip[:, 3] <= 1e-6).any():  # a corner behind the camera: no box on screen
        return (0, 0, w, h)
    ndc = clip[:, :2] / clip[:, 3:4]
    margin = 3 + scene.style.outline * h / 512
    x0 = max(0, int((ndc[:, 0].min() + 1) / 2 * w - margin))
    x1 = min(w, math.ceil((ndc[:, 0].max() + 1) / 2 * w + margin))
    y0 = max(0, int((ndc[:, 1].min() + 1) / 2 * h - margin))
    y1 = min(h, math.ceil((ndc[:, 1].max() + 1) / 2 * h + margin))
    return (x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def _grade(
    scene: Scene, targets: Targets, size: tuple[int, int], *, fxaa: Box | None = None
) -> None:
    """The mood's grade and vignette as one full-screen pass on the resolved frame, then again
    with FXAA over the box ``fxaa`` (moving frames: where the product's edges are, since FXAA's
    five fetches a pixel cost as much as the rest of the grade); it writes the rows flipped,
    top row first."""
    ctx = gl.context()
    g = scene_grade(scene)
    targets.graded.use()
    ctx.disable(moderngl.DEPTH_TEST)
    targets.resolved_tex.use(2)
    low, high = g.split or ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    values = {
        "u_image": 2,
        "u_tint": tuple(g.tint),
        "u_saturation": g.saturation,
        "u_contrast": g.contrast,
        "u_vignette": g.vignette,
        "u_split": g.split is not None,
        "u_split_low": tuple(low),
        "u_split_high": tuple(high),
        "u_viewport": (float(size[0]), float(size[1])),
    }
    _uniforms(gl.programs()["grade"], values)
    gl.fullscreen("grade").render()
    if fxaa is not None and fxaa[2] > 0 and fxaa[3] > 0:
        x, y, bw, bh = fxaa
        targets.graded.scissor = (x, size[1] - y - bh, bw, bh)  # the grade flips the rows
        _uniforms(gl.programs()["grade_fxaa"], values)
        gl.fullscreen("grade_fxaa").render()
        targets.graded.scissor = (0, 0, size[0], size[1])
    ctx.enable(moderngl.DEPTH_TEST)


def _outline(scene: Scene, common: dict[str, object], h: int) -> None:
    """Toon ink: the product's back faces pushed out along their normals, drawn black."""
    ctx = gl.context()
    prog = gl.programs()["product"]
    _, dist = camera_matrices(scene, 1.0)
    pixel = 2 * dist * math.tan(math.radians(scene.camera.fov_deg) / 2) / h
    ctx.enable(moderngl.CULL_FACE)
    ctx.cull_face = "front"
    for part in _parts(scene):
        if part.part.role == "label":
            continue
        _uniforms(
            prog,
            {
                **common,
                "u_model": _gl(_model(scene.product.yaw_deg)),
                "u_flat": True,
                "u_inflate": pixel * scene.style.outline * h / 512,
            },
        )
        part.vaos["product"].render()
    ctx.cull_face = "back"
    ctx.disable(moderngl.CULL_FACE)
    _uniforms(prog, {"u_flat": False, "u_inflate": 0.0})


def _draw_depth(scene: Scene, w: int, h: int) -> NDArray[np.float32]:
    """Distance along the view axis per pixel (the backdrop far away), for depth of field."""
    ctx = gl.context()
    vp, dist = camera_matrices(scene, w / h)
    targets = _targets(w, h)
    targets.depth.use()
    far = dist * 100.0
    targets.depth.clear(far, 0.0, 0.0, 1.0, depth=1.0)
    ctx.enable(moderngl.DEPTH_TEST)
    prog = gl.programs()["depth"]
    _uniforms(prog, {"u_vp": _gl(vp), "u_model": _gl(_model(scene.product.yaw_deg))})
    for part in _parts(scene):
        part.vaos["depth"].render()
    _uniforms(prog, {"u_model": _gl(np.eye(4))})
    gl.floor_part(BG_KINDS.get(scene.background.kind, 2), radius(scene.product)).vaos[
        "depth"
    ].render()
    raw = targets.depth.read(components=1, dtype="f4")
    return np.frombuffer(raw, dtype=np.float32).reshape(h, w)[::-1].copy()


def product_mask(scene: Scene, width: int, height: int) -> NDArray[np.bool_]:
    """Where the product covers a ``width`` × ``height`` frame (for checks and compositing)."""
    ctx = gl.context()
    vp, _ = camera_matrices(scene, width / height)
    targets = _targets(width, height)
    targets.depth.use()
    targets.depth.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
    ctx.enable(moderngl.DEPTH_TEST)
    prog = gl.programs()["depth"]
    _uniforms(prog, {"u_vp": _gl(vp), "u_model": _gl(_model(scene.product.yaw_deg))})
    for part in _parts(scene):
        part.vaos["depth"].render()
    raw = targets.depth.read(components=1, dtype="f4")
    depth = np.frombuffer(raw, dtype=np.float32).reshape(height, width)[::-1]
    return np.asarray(depth > 0.0)
