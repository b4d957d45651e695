"""GLSL of the studio renderer: one lighting model shared by the product, its floor
reflection, the floor and the sweep.

Lighting is done in linear light and tone-mapped (ACES fit) at the end of each shader. The
studio environment that glossy surfaces reflect is procedural: the backdrop's gradient plus a
bright soft card in the direction of every light, which is what makes glass and metal read as
photographed in a studio rather than drawn.
"""

from __future__ import annotations

VERTEX = """
#version 330
uniform mat4 u_vp;
uniform mat4 u_model;
uniform float u_inflate;
in vec3 in_pos;
in vec3 in_nrm;
in vec2 in_uv;
out vec3 v_pos;
out vec3 v_nrm;
out vec2 v_uv;
void main() {
    vec4 world = u_model * vec4(in_pos + in_nrm * u_inflate, 1.0);
    v_pos = world.xyz;
    v_nrm = mat3(u_model) * in_nrm;
    v_uv = in_uv;
    gl_Position = u_vp * world;
}
"""

DEPTH_VERTEX = """
#version 330
uniform mat4 u_vp;
uniform mat4 u_model;
in vec3 in_pos;
out float v_depth;
void main() {
    gl_Position = u_vp * u_model * vec4(in_pos, 1.0);
    v_depth = gl_Position.w;
}
"""

DEPTH_FRAGMENT = """
#version 330
in float v_depth;
out vec4 f_out;
void main() { f_out = vec4(v_depth, 0.0, 0.0, 1.0); }
"""

SHADOW_FRAGMENT = """
#version 330
void main() {}
"""

# what a fragment shader of a mesh (VERTEX's outputs) takes in and writes out
MESH_IN = """
in vec3 v_pos;
in vec3 v_nrm;
in vec2 v_uv;
out vec4 f_color;
"""

COMMON = """
#version 330
const float PI = 3.14159265;
uniform vec3 u_cam;
uniform vec3 u_centre;
uniform float u_radius;
uniform int u_nlights;
uniform vec3 u_lpos[4];
uniform vec3 u_lcol[4];
uniform float u_lsize[4];
uniform vec3 u_ldir[4];         // from the product's centre towards each lamp
uniform vec3 u_lside[4];        // horizontal, across each lamp's direction
uniform vec3 u_ambient;
uniform vec3 u_bg_top;
uniform vec3 u_bg_bottom;
uniform vec3 u_floor;
uniform int u_bg_kind;          // 0 solid, 1 gradient, 2 sweep, 3 environment
uniform vec2 u_viewport;
uniform mat4 u_light_vp;
uniform sampler2DShadow u_shadow;
uniform bool u_shadows;
uniform float u_shadow_soft;
uniform int u_shadow_step;      // 1: all 8 PCF compares; 2: four of them
uniform int u_toon;
uniform float u_exposure;

const vec2 POISSON[8] = vec2[](
    vec2(-0.326, -0.406), vec2(-0.840, -0.074), vec2(-0.696, 0.457), vec2(-0.203, 0.621),
    vec2(0.962, -0.195), vec2(0.473, -0.480), vec2(0.519, 0.767), vec2(0.185, -0.893));

float shadow_at(vec3 p, vec3 n) {
    vec4 lp = u_light_vp * vec4(p + n * u_radius * 0.01, 1.0);
    vec3 s = lp.xyz / lp.w * 0.5 + 0.5;
    bool inside = u_shadows && s.x >= 0.0 && s.x <= 1.0 && s.y >= 0.0 && s.y <= 1.0 && s.z <= 1.0;
    // llvmpipe runs both sides of an if (masked) but leaves a loop whose lanes are all done:
    // the test sits in the loop so that floor outside the light's box costs no texture taps
    float lit = 0.0;
    // 8 bilinear-filtered compares (32 taps of PCF), or every other one for moving frames
    for (int i = 0; inside && i < 8; i += u_shadow_step) {
        lit += texture(u_shadow, vec3(s.xy + POISSON[i] * u_shadow_soft, s.z - 0.0015));
    }
    return inside ? lit * float(u_shadow_step) / 8.0 : 1.0;
}

vec3 backdrop(vec2 uv) {
    if (u_bg_kind == 1) {
        float g = smoothstep(0.0, 1.0, uv.y);
        vec3 c = mix(u_bg_bottom, u_bg_top, g);
        float glow = exp(-4.0 * dot(uv - vec2(0.5, 0.55), uv - vec2(0.5, 0.55)));
        return c * (0.85 + 0.3 * glow);
    }
    if (u_bg_kind == 0) return u_bg_top;
    return mix(u_bg_bottom, u_bg_top, smoothstep(0.0, 0.9, uv.y));
}

vec3 studio_env(vec3 d, float rough) {
    // a dim studio: the floor below, the backdrop's colour around, bright soft cards at the lamps
    float t = d.y * 0.5 + 0.5;
    vec3 c = mix(u_floor * 0.25, mix(u_bg_bottom, u_bg_top, 0.5) * 0.45, smoothstep(0.4, 0.6, t));
    c += u_ambient * 0.5;
    float gloss = 40.0 * exp(-rough * 8.0);
    for (int i = 0; i < u_nlights; i++) {
        vec3 ld = u_ldir[i];
        // a tall strip card: wide in height, narrow across, as softboxes are
        vec3 side = u_lside[i];
        float across = abs(dot(d, side));
        float along = dot(d, ld);
        float w = 0.1 + u_lsize[i] * 0.35 + rough * 0.6;
        float k = smoothstep(w, w * 0.4, across) * smoothstep(0.2 - rough * 0.5, 0.8, along);
        // cards are far brighter than the room: even a 4 % dielectric reflection reads white
        c += u_lcol[i] * k * gloss;
    }
    return c;
}

vec3 tonemap(vec3 x) {
    x *= u_exposure;
    x = clamp((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), 0.0, 1.0);
    return pow(x, vec3(1.0 / 2.2));
}

float band(float x) {
    if (u_toon <= 0) return x;
    return floor(x * float(u_toon) + 0.35) / float(u_toon);
}

// diffuse light of every lamp (the floor, the product's reflection: no highlight needed)
// ``others`` scales every lamp but the key: fills and rims are flagged off the floor, as on a set
vec3 diffuse_light(vec3 p, vec3 n, vec3 albedo, float sh, float others) {
    vec3 c = vec3(0.0);
    for (int i = 0; i < u_nlights; i++) {
        float nl = band(max(dot(n, normalize(u_lpos[i] - p)), 0.0));
        c += albedo * nl * u_lcol[i] * ((i == 0) ? sh : others);
    }
    return c;
}

// direct light of every lamp on a surface: diffuse + GGX highlight widened by the lamp's size
vec3 direct(vec3 p, vec3 n, vec3 v, vec3 diffuse, vec3 f0, float rough, float sh) {
    vec3 c = vec3(0.0);
    float nv = max(dot(n, v), 1e-3);
    for (int i = 0; i < u_nlights; i++) {
        vec3 l = normalize(u_lpos[i] - p);
        float nl = band(max(dot(n, l), 0.0));
        if (nl <= 0.0) continue;
        vec3 h = normalize(l + v);
        float a = clamp(rough * rough + u_lsize[i] * 0.04, 0.003, 1.0);
        float a2 = a * a;
        float nh = max(dot(n, h), 0.0);
        float dd = nh * nh * (a2 - 1.0) + 1.0;
        float D = a2 / (PI * dd * dd);
        float k = a * 0.5;
        float G = nv / (nv * (1.0 - k) + k) * nl / (nl * (1.0 - k) + k);
        float m = 1.0 - max(dot(h, v), 0.0);
        float m2 = m * m;
        vec3 F = f0 + (1.0 - f0) * (m2 * m2 * m);
        vec3 spec = D * G * F / max(4.0 * nv * nl, 1e-3);
        if (u_toon > 0) spec = vec3(step(0.5, length(spec) * 0.2)) * 0.8;
        float s = (i == 0) ? sh : 1.0;
        c += (diffuse * nl + spec * nl) * u_lcol[i] * s;
    }
    return c;
}
"""

PRODUCT_FRAGMENT = (
    COMMON
    + MESH_IN
    + """
uniform vec3 u_color;
uniform float u_rough;
uniform float u_metal;
uniform float u_opacity;
uniform float u_aniso;
uniform bool u_textured;
uniform sampler2D u_tex;
uniform bool u_mirror;
uniform bool u_flat;            // ink outline of toon style
uniform float u_fade;

float hash(float x) { return fract(sin(x * 127.1) * 43758.5453); }

void main() {
    if (u_flat) { f_color = vec4(0.02, 0.02, 0.03, 1.0); return; }
    vec3 n = normalize(v_nrm);
    if (!gl_FrontFacing) n = -n;
    vec3 v = normalize(u_cam - v_pos);
    vec3 base = u_color;
    float rough = u_rough;
    for (int k = 0; k < 1 && u_textured; k++) {  // a loop, not an if: see shadow_at
        vec4 t = texture(u_tex, v_uv);
        base = mix(base, pow(t.rgb, vec3(2.2)), t.a);
        rough = mix(rough, 0.35, t.a);
    }
    if (u_aniso > 0.0) {  // brushed metal: fine streaks along the height
        float s = hash(floor(v_uv.x * 900.0)) * 0.6 + hash(floor(v_uv.x * 230.0)) * 0.4;
        base *= 1.0 - u_aniso * 0.12 * s;
        rough = clamp(rough * (0.75 + 0.5 * s), 0.02, 1.0);
    }
    float metal = u_textured ? 0.0 : u_metal;
    vec3 f0 = mix(vec3(0.04), base, metal);
    vec3 diffuse = base * (1.0 - metal) * (u_opacity < 1.0 ? 0.25 : 1.0);
    vec3 c;
    if (u_mirror) {  // the floor's reflection: faded and blurred by nature, so cheap light
        c = diffuse_light(v_pos, n, diffuse + f0 * 0.5, 1.0, 1.0);
    } else {
        c = direct(v_pos, n, v, diffuse, f0, rough, shadow_at(v_pos, n));
    }
    float up = n.y * 0.5 + 0.5;
    c += diffuse * mix(u_floor * 0.6 + u_ambient * 0.4, u_ambient * 1.6, up);
    float nv = max(dot(n, v), 0.0);
    float m = 1.0 - nv;
    float m2 = m * m;
    vec3 fr = f0 + (max(vec3(1.0 - rough), f0) - f0) * (m2 * m2 * m);
    vec3 r = reflect(-v, n);
    if (u_toon == 0) c += studio_env(r, rough) * fr;
    float alpha = 1.0;
    if (u_opacity < 1.0) {  // glass: clear face-on, dense and tinted at grazing angles
        float edge = pow(1.0 - nv, 2.0);
        c += base * (0.12 + 0.5 * edge) * (u_ambient + 0.3);
        alpha = clamp(mix(u_opacity, 0.95, edge) + fr.r, 0.0, 1.0);
    }
    if (u_mirror) alpha *= u_fade * exp(-3.0 * max(-v_pos.y, 0.0) / u_radius);
    f_color = vec4(tonemap(c), alpha);
}
"""
)

FLOOR_LIGHT = (
    COMMON
    + """
uniform float u_reflect;
uniform float u_footprint;
uniform float u_lm_extent;      // asinh of the floor's half-width in radii: the map's reach

vec3 floor_base(vec3 p) {
    vec3 base = u_floor;
    if (u_bg_kind == 2) {
        float h = clamp(p.y / (u_radius * 6.0), 0.0, 1.0);
        base = mix(u_floor, u_bg_top, smoothstep(0.0, 1.0, h));
    }
    if (u_bg_kind == 3) {  // wooden table top
        float plank = floor(p.x / (u_radius * 0.9));
        float grain = sin(p.z * 60.0 / u_radius + sin(p.x * 9.0 / u_radius) * 2.0);
        base *= 0.85 + 0.15 * fract(sin(plank * 91.7) * 437.5) + 0.04 * grain;
        float seam = smoothstep(0.0, 0.02, abs(fract(p.x / (u_radius * 0.9)) - 0.0));
        base *= 0.75 + 0.25 * seam;
    }
    return base;
}

// the light the floor gets at p, per unit of albedo: lamps (the key shadowed, the others
// flagged down), ambient and the contact shadow; the floor's colour is base * this
vec3 floor_light(vec3 p, vec3 n) {
    float sh = shadow_at(p, n);
    vec3 e = diffuse_light(p, n, vec3(1.0), sh, 0.3);
    float d = length(p.xz);
    float near = exp(-max(d - u_footprint, 0.0) / (u_radius * 0.12));
    float ao = 1.0 - 0.55 * near * step(p.y, 0.01);  // contact shadow under the product
    e += u_ambient * 1.3 * ao;
    return e * mix(1.0, ao, 0.6);
}

vec3 floor_fade(vec3 p, vec3 col) {
    // plain and gradient backdrops: the floor dissolves into the backdrop far from the product
    // (a loop, not an if, so that the sweep's pixels skip it: see shadow_at)
    for (int k = 0; k < 1 && u_bg_kind <= 1; k++) {
        float fade = smoothstep(u_radius * 3.0, u_radius * 14.0, length(p.xz));
        col = mix(col, backdrop(gl_FragCoord.xy / u_viewport), fade);
    }
    return col;
}

// the floor's colour map: x across, y - z along the floor, up the cove and the wall (one
// number for every point of plane and sweep alike), each squeezed by asinh so that texels
// crowd where the product and its shadow are (about 100 a radius at 1024², 5 at the walls)
vec2 light_map_uv(vec3 p) {
    return 0.5 + 0.5 * asinh(vec2(p.x, p.y - p.z) / u_radius) / u_lm_extent;
}
"""
)

FLOOR_FRAGMENT = (
    FLOOR_LIGHT
    + MESH_IN
    + """

void main() {
    vec3 c = floor_base(v_pos) * floor_light(v_pos, normalize(v_nrm));
    f_color = vec4(floor_fade(v_pos, tonemap(c)), 1.0);
}
"""
)

# a moving shot's floor: its colour is looked up in the map baked for the shot (the floor
# is matte, so what it looks like does not depend on where the camera is)
FLOOR_MAPPED_FRAGMENT = (
    FLOOR_LIGHT
    + MESH_IN
    + """
uniform sampler2D u_light_map;

void main() {
    vec3 col = texture(u_light_map, light_map_uv(v_pos)).rgb;
    f_color = vec4(floor_fade(v_pos, col), 1.0);
}
"""
)

# one texel of the colour map: the floor point it stands for (the inverse of light_map_uv on
# the plane, or on the sweep's flat, quarter-circle cove and wall) lit as FLOOR_FRAGMENT lights
# it, with all eight PCF compares, tone-mapped; the fade into a backdrop is left to the frame
FLOOR_BAKE_FRAGMENT = (
    FLOOR_LIGHT
    + """
in vec2 v_ndc;
out vec4 f_color;
uniform float u_sweep_depth;
uniform float u_sweep_cove;

void main() {
    vec2 a = sinh(v_ndc * u_lm_extent) * u_radius;  // (x, y - z)
    float t = a.y;
    vec3 p = vec3(a.x, 0.0, -t);
    vec3 n = vec3(0.0, 1.0, 0.0);
    if (u_bg_kind == 2 && t > u_sweep_depth) {
        float d = u_sweep_depth;
        float r = u_sweep_cove;
        if (t < d + 2.0 * r) {
            float ang = 0.785398 + asin(clamp((t - d - r) / (1.41421356 * r), -1.0, 1.0));
            p = vec3(a.x, r * (1.0 - cos(ang)), -d - r * sin(ang));
            n = vec3(0.0, cos(ang), sin(ang));
        } else {
            p = vec3(a.x, t - d - r, -d - r);
            n = vec3(0.0, 0.0, 1.0);
        }
    }
    f_color = vec4(tonemap(floor_base(p) * floor_light(p, n)), 1.0);
}
"""
)

BACKDROP_VERTEX = """
#version 330
in vec2 in_pos;
out vec2 v_ndc;
void main() { v_ndc = in_pos; gl_Position = vec4(in_pos, 0.9999, 1.0); }
"""

BACKDROP_FRAGMENT = (
    COMMON
    + """
in vec2 v_ndc;
out vec4 f_color;
uniform mat4 u_inv_vp;

vec3 room(vec3 o, vec3 d) {
    float w = u_radius * 16.0;
    float hgt = u_radius * 14.0;
    float t = 1e9;
    int face = 0;
    if (d.z < 0.0) { float tz = (-w - o.z) / d.z; if (tz < t) { t = tz; face = 1; } }
    if (d.z > 0.0) { float tz = (w - o.z) / d.z; if (tz < t) { t = tz; face = 2; } }
    if (d.x != 0.0) { float tx = (sign(d.x) * w - o.x) / d.x; if (tx < t) { t = tx; face = 3; } }
    if (d.y > 0.0) { float ty = (hgt - o.y) / d.y; if (ty < t) { t = ty; face = 4; } }
    vec3 p = o + d * t;
    vec3 wall = u_bg_top;
    if (face == 4) return wall * 1.1;
    float shade = 0.75 + 0.25 * smoothstep(0.0, hgt, p.y);
    if (face == 1) {  // the back wall has a window
        vec2 q = vec2(p.x + w * 0.35, p.y - hgt * 0.5);
        vec2 size = vec2(w * 0.3, hgt * 0.32);
        float inside = step(abs(q.x), size.x) * step(abs(q.y), size.y);
        float bar = step(abs(q.x), w * 0.006) + step(abs(q.y), w * 0.006);
        vec3 sky = mix(vec3(1.4, 1.38, 1.3), vec3(0.9, 1.1, 1.5), clamp(q.y / size.y, 0.0, 1.0));
        vec3 c = wall * shade * (1.0 + 0.6 * exp(-length(q) / (w * 0.5)));
        return mix(c, sky * 2.0, inside * (1.0 - clamp(bar, 0.0, 1.0)));
    }
    return wall * shade * 0.85;
}

void main() {
    vec2 uv = v_ndc * 0.5 + 0.5;
    vec3 c;
    if (u_bg_kind == 3) {
        vec4 far = u_inv_vp * vec4(v_ndc, 1.0, 1.0);
        vec3 d = normalize(far.xyz / far.w - u_cam);
        f_color = vec4(tonemap(room(u_cam, d)), 1.0);
        return;
    }
    f_color = vec4(backdrop(uv), 1.0);
}
"""
)

# compiled twice, with FXAA 1 and 0: llvmpipe evaluates both arms of a ``?:``, so a uniform
# switch would pay for FXAA on every pixel of every frame
GRADE_FRAGMENT = """
#version 330
#define FXAA {fxaa}
uniform sampler2D u_image;
uniform vec3 u_tint;
uniform float u_saturation;
uniform float u_contrast;
uniform float u_vignette;
uniform bool u_split;
uniform vec3 u_split_low;
uniform vec3 u_split_high;
uniform vec2 u_viewport;
out vec4 f_color;
const vec3 LUMA = vec3(0.2126, 0.7152, 0.0722);

// FXAA (after Lottes): where the luma contrast says edge, blend along the edge's direction.
// Moving frames use it instead of multisampling; flat areas leave after five fetches.
float luma_at(ivec2 q) {
    return dot(texelFetch(u_image, clamp(q, ivec2(0), ivec2(u_viewport) - 1), 0).rgb, LUMA);
}

vec3 fxaa(ivec2 p) {
    vec3 m = texelFetch(u_image, p, 0).rgb;
    float lnw = luma_at(p + ivec2(-1, 1));
    float lne = luma_at(p + ivec2(1, 1));
    float lsw = luma_at(p + ivec2(-1, -1));
    float lse = luma_at(p + ivec2(1, -1));
    float lm = dot(m, LUMA);
    float lo = min(lm, min(min(lnw, lne), min(lsw, lse)));
    float hi = max(lm, max(max(lnw, lne), max(lsw, lse)));
    bool edge = hi - lo >= max(0.0312, hi * 0.125);
    // a loop, not an if: llvmpipe skips it where no pixel of a block is on an edge
    for (int k = 0; k < 1 && edge; k++) {
        vec2 dir = vec2(-((lnw + lne) - (lsw + lse)), (lnw + lsw) - (lne + lse));
        float reduce = max((lnw + lne + lsw + lse) * 0.03125, 1.0 / 128.0);
        dir = clamp(dir / (min(abs(dir.x), abs(dir.y)) + reduce), -8.0, 8.0) / u_viewport;
        vec2 uv = (vec2(p) + 0.5) / u_viewport;
        vec3 a = 0.5 * (texture(u_image, uv - dir / 6.0).rgb
                        + texture(u_image, uv + dir / 6.0).rgb);
        vec3 b = a * 0.5 + 0.25 * (texture(u_image, uv - dir * 0.5).rgb
                                   + texture(u_image, uv + dir * 0.5).rgb);
        float lb = dot(b, LUMA);
        m = (lb < lo || lb > hi) ? a : b;
    }
    return m;
}

// the mood's grade, the same maths as post.grade_image (no lift, gamma 1); rows are flipped
// here so that the read-back comes top row first, as images are stored
void main() {
    ivec2 p = ivec2(gl_FragCoord.x, u_viewport.y - gl_FragCoord.y);
#if FXAA
    vec3 c = fxaa(p) * u_tint;
#else
    vec3 c = texelFetch(u_image, p, 0).rgb * u_tint;
#endif
    if (u_split) {
        float l = dot(c, LUMA);
        c += u_split_low * (1.0 - l) * (1.0 - l) + u_split_high * l * l;
    }
    c = clamp(c, 0.0, 1.0);
    c = (c - 0.5) * u_contrast + 0.5;
    float l = dot(c, LUMA);
    c = l + (c - l) * u_saturation;
    vec2 q = gl_FragCoord.xy / u_viewport * 2.0 - 1.0;
    c *= 1.0 - u_vignette * max(dot(q, q) - 0.35, 0.0) * 0.75;
    f_color = vec4(clamp(c, 0.0, 1.0), 1.0);
}
"""
