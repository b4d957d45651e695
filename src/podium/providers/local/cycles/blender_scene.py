"""Runs *inside* Blender (3.4's Python API): builds a studio scene from a job file, path-traces it
with Cycles on the CPU and writes the linear radiance as raw float32 RGBA.

    blender -b --factory-startup -noaudio --python-exit-code 1 -P blender_scene.py -- job.json

Podium's side (:mod:`podium.providers.local.cycles.job`) writes the job: meshes as raw binary
arrays already in Blender's Z-up frame, materials as Principled BSDF inputs, area lights with
their power, the backdrop, and the camera's world matrix. Blender ships no numpy, so arrays
travel through the ``array`` module and ``foreach_set``. Blender 3.4 names the Principled
inputs ``Transmission``, ``Clearcoat``, ``Anisotropic`` and ``Specular`` (renamed in 4.0), and
its Debian build has no OpenImageDenoise: denoising stays off and noise is fought with samples.
"""

from __future__ import annotations

import array
import json
import math
import sys
from typing import Any

import bpy


def read_array(path: str, typecode: str, count: int) -> array.array:  # type: ignore[type-arg]
    """``count`` values of ``typecode`` from a raw binary file."""
    values = array.array(typecode)
    with open(path, "rb") as fh:
        values.fromfile(fh, count)
    return values


def build_mesh(spec: dict[str, Any]) -> Any:
    """A mesh object from the job's raw arrays, with custom normals and UVs."""
    n, m = spec["vertices"], spec["faces"]
    verts = read_array(spec["positions"], "f", n * 3)
    normals = read_array(spec["normals"], "f", n * 3)
    uvs = read_array(spec["uvs"], "f", n * 2)
    index = read_array(spec["indices"], "i", m * 3)
    me = bpy.data.meshes.new(spec["name"])
    me.vertices.add(n)
    me.vertices.foreach_set("co", verts)
    me.loops.add(m * 3)
    me.loops.foreach_set("vertex_index", index)
    me.polygons.add(m)
    me.polygons.foreach_set("loop_start", array.array("i", range(0, m * 3, 3)))
    me.polygons.foreach_set("loop_total", array.array("i", [3]) * m)
    me.polygons.foreach_set("use_smooth", array.array("b", [1]) * m)
    layer = me.uv_layers.new(name="UVMap")
    loop_uv = array.array("f", [0.0]) * (m * 6)
    for k, vi in enumerate(index):
        loop_uv[2 * k] = uvs[2 * vi]
        loop_uv[2 * k + 1] = uvs[2 * vi + 1]
    layer.data.foreach_set("uv", loop_uv)
    me.update()
    me.validate(clean_customdata=False)
    me.use_auto_smooth = True  # 3.4: custom split normals need auto smooth on
    me.normals_split_custom_set_from_vertices([tuple(normals[3 * i : 3 * i + 3]) for i in range(n)])
    obj = bpy.data.objects.new(spec["name"], me)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def thin_glass(name: str, spec: dict[str, Any]) -> Any:
    """Glass for single-walled meshes: a tinted see-through layer under a Fresnel reflection.

    The product meshes are shells with no thickness; a refracting BSDF would bend every ray
    into the shell and lose it after the last bounce (black patches). Thin glass does not
    bend light, which is what a bottle's wall does to what is seen through it.
    """
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    tree = mat.node_tree
    nodes, links = tree.nodes, tree.links
    nodes.clear()
    clear = nodes.new("ShaderNodeBsdfTransparent")
    clear.inputs["Color"].default_value = (*spec["tint"], 1.0)
    gloss = nodes.new("ShaderNodeBsdfGlossy")
    gloss.inputs["Roughness"].default_value = spec.get("roughness", 0.04)
    # a layer-weight Fresnel with a wide blend: glass on a white sweep needs its rims to read
    fresnel = nodes.new("ShaderNodeLayerWeight")
    fresnel.inputs["Blend"].default_value = 0.35
    # seen from inside, Fresnel turns total-reflective and traps rays in the shell: only the
    # outer face of the wall reflects
    geometry = nodes.new("ShaderNodeNewGeometry")
    front = nodes.new("ShaderNodeMath")
    front.operation = "SUBTRACT"
    front.inputs[0].default_value = 1.0
    weight = nodes.new("ShaderNodeMath")
    weight.operation = "MULTIPLY"
    mix = nodes.new("ShaderNodeMixShader")
    out = nodes.new("ShaderNodeOutputMaterial")
    links.new(geometry.outputs["Backfacing"], front.inputs[1])
    links.new(fresnel.outputs[0], weight.inputs[0])
    links.new(front.outputs[0], weight.inputs[1])
    links.new(weight.outputs[0], mix.inputs["Fac"])
    links.new(clear.outputs[0], mix.inputs[1])
    links.new(gloss.outputs[0], mix.inputs[2])
    links.new(mix.outputs[0], out.inputs["Surface"])
    return mat


def emitter(name: str, spec: dict[str, Any]) -> Any:
    """A plain light-emitting surface (the room's window)."""
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    nodes = mat.node_tree.nodes
    nodes.clear()
    glow = nodes.new("ShaderNodeEmission")
    glow.inputs["Color"].default_value = (*spec["emission"], 1.0)
    out = nodes.new("ShaderNodeOutputMaterial")
    mat.node_tree.links.new(glow.outputs[0], out.inputs["Surface"])
    return mat


def principled(name: str, spec: dict[str, Any]) -> Any:
    """A Principled BSDF material (Blender 3.4 input names), image-textured if asked."""
    if spec.get("tint"):
        return thin_glass(name, spec)
    if spec.get("emission"):
        return emitter(name, spec)
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    nodes = mat.node_tree.nodes
    bsdf = nodes["Principled BSDF"]
    inputs = bsdf.inputs
    inputs["Base Color"].default_value = (*spec["color"], 1.0)
    inputs["Metallic"].default_value = spec.get("metallic", 0.0)
    inputs["Roughness"].default_value = spec.get("roughness", 0.5)
    inputs["Transmission"].default_value = spec.get("transmission", 0.0)
    inputs["IOR"].default_value = spec.get("ior", 1.45)
    inputs["Clearcoat"].default_value = spec.get("clearcoat", 0.0)
    inputs["Clearcoat Roughness"].default_value = 0.04
    inputs["Anisotropic"].default_value = spec.get("anisotropic", 0.0)
    if spec.get("texture"):
        tex = nodes.new("ShaderNodeTexImage")
        tex.image = bpy.data.images.load(spec["texture"])
        mat.node_tree.links.new(tex.outputs["Color"], inputs["Base Color"])
    return mat


def floor_material(spec: dict[str, Any]) -> Any:
    """The floor or sweep: its colour rising to the wall colour, a glossy share, and on a
    plain backdrop a fade to transparent with distance (the backdrop shows behind it)."""
    mat = bpy.data.materials.new("floor")
    mat.use_nodes = True
    tree = mat.node_tree
    nodes, links = tree.nodes, tree.links
    nodes.clear()
    geo = nodes.new("ShaderNodeNewGeometry")
    sep = nodes.new("ShaderNodeSeparateXYZ")
    ramp = nodes.new("ShaderNodeMath")
    ramp.operation = "DIVIDE"
    ramp.use_clamp = True
    ramp.inputs[1].default_value = max(spec["blend_height"], 1e-6)
    mix = nodes.new("ShaderNodeMixRGB")
    mix.inputs["Color1"].default_value = (*spec["floor"], 1.0)
    mix.inputs["Color2"].default_value = (*spec["wall"], 1.0)
    diffuse = nodes.new("ShaderNodeBsdfDiffuse")
    glossy = nodes.new("ShaderNodeBsdfGlossy")
    # a dark floor shows less glare: its reflection is tinted towards its colour
    glossy.inputs["Color"].default_value = (*[0.3 + 0.7 * c for c in spec["floor"]], 1.0)
    # a satin floor: a mirror would show each softbox as a blinding disk
    glossy.inputs["Roughness"].default_value = 0.3
    shader = nodes.new("ShaderNodeMixShader")
    shader.inputs["Fac"].default_value = spec["reflectivity"] * 0.4
    out = nodes.new("ShaderNodeOutputMaterial")
    links.new(geo.outputs["Position"], sep.inputs[0])
    links.new(sep.outputs["Z"], ramp.inputs[0])
    links.new(ramp.outputs[0], mix.inputs["Fac"])
    links.new(mix.outputs[0], diffuse.inputs["Color"])
    links.new(diffuse.outputs[0], shader.inputs[1])
    links.new(glossy.outputs[0], shader.inputs[2])
    surface = shader.outputs[0]
    if spec.get("fade"):
        near, far = spec["fade"]
        flat = nodes.new("ShaderNodeVectorMath")
        flat.operation = "MULTIPLY"
        flat.inputs[1].default_value = (1.0, 1.0, 0.0)
        dist = nodes.new("ShaderNodeVectorMath")
        dist.operation = "LENGTH"
        fade = nodes.new("ShaderNodeMapRange")
        fade.interpolation_type = "SMOOTHSTEP"
        fade.inputs["From Min"].default_value = near
        fade.inputs["From Max"].default_value = far
        clear = nodes.new("ShaderNodeBsdfTransparent")
        faded = nodes.new("ShaderNodeMixShader")
        links.new(geo.outputs["Position"], flat.inputs[0])
        links.new(flat.outputs[0], dist.inputs[0])
        links.new(dist.outputs["Value"], fade.inputs["Value"])
        links.new(fade.outputs[0], faded.inputs["Fac"])
        links.new(surface, faded.inputs[1])
        links.new(clear.outputs[0], faded.inputs[2])
        surface = faded.outputs[0]
    links.new(surface, out.inputs["Surface"])
    return mat


def build_world(spec: dict[str, Any]) -> None:
    """Ambient light for diffuse bounces, a studio gradient for reflections, nothing for the
    camera (the backdrop behind a transparent film is composited by Podium)."""
    world = bpy.data.worlds.new("studio")
    bpy.context.scene.world = world
    world.use_nodes = True
    tree = world.node_tree
    nodes, links = tree.nodes, tree.links
    nodes.clear()
    coords = nodes.new("ShaderNodeTexCoord")
    sep = nodes.new("ShaderNodeSeparateXYZ")
    up = nodes.new("ShaderNodeMapRange")
    up.inputs["From Min"].default_value = -0.3
    up.inputs["From Max"].default_value = 0.3
    env = nodes.new("ShaderNodeMixRGB")
    env.inputs["Color1"].default_value = (*spec["env_low"], 1.0)
    env.inputs["Color2"].default_value = (*spec["env_high"], 1.0)
    amb = nodes.new("ShaderNodeMixRGB")
    amb.inputs["Color1"].default_value = (*spec["ambient_low"], 1.0)
    amb.inputs["Color2"].default_value = (*spec["ambient_high"], 1.0)
    path = nodes.new("ShaderNodeLightPath")
    pick = nodes.new("ShaderNodeMixRGB")
    bg = nodes.new("ShaderNodeBackground")
    out = nodes.new("ShaderNodeOutputWorld")
    links.new(coords.outputs["Generated"], sep.inputs[0])
    links.new(sep.outputs["Z"], up.inputs["Value"])
    links.new(up.outputs[0], env.inputs["Fac"])
    links.new(up.outputs[0], amb.inputs["Fac"])
    links.new(path.outputs["Is Glossy Ray"], pick.inputs["Fac"])
    links.new(amb.outputs[0], pick.inputs["Color1"])
    links.new(env.outputs[0], pick.inputs["Color2"])
    links.new(pick.outputs[0], bg.inputs["Color"])
    links.new(bg.outputs[0], out.inputs["Surface"])
    # a smooth gradient gains nothing from importance sampling, which costs ~40 % of the time
    world.cycles.sampling_method = "NONE"


def add_light(spec: dict[str, Any]) -> None:
    """A disk area light aimed at the product."""
    light = bpy.data.lights.new(spec["name"], "AREA")
    light.shape = "DISK"
    light.size = spec["size"]
    light.energy = spec["power"]
    light.color = spec["color"]
    light.cycles.cast_shadow = bool(spec.get("shadow", True))
    obj = bpy.data.objects.new(spec["name"], light)
    obj.visible_camera = False  # a softbox is seen in reflections, not as a disk in the frame
    bpy.context.scene.collection.objects.link(obj)
    obj.location = spec["position"]
    aim = [t - p for t, p in zip(spec["target"], spec["position"], strict=True)]
    from mathutils import Vector

    obj.rotation_euler = Vector(aim).to_track_quat("-Z", "Y").to_euler()


def add_camera(spec: dict[str, Any]) -> None:
    """The camera from its world matrix; vertical field of view; optional depth of field."""
    from mathutils import Matrix

    cam = bpy.data.cameras.new("camera")
    cam.sensor_fit = "VERTICAL"
    cam.angle = math.radians(spec["fov_deg"])
    cam.clip_start = spec["near"]
    cam.clip_end = spec["far"]
    if spec.get("dof"):
        cam.dof.use_dof = True
        cam.dof.focus_distance = spec["dof"]["focus"]
        cam.dof.aperture_fstop = spec["dof"]["fstop"]
    obj = bpy.data.objects.new("camera", cam)
    bpy.context.scene.collection.objects.link(obj)
    obj.matrix_world = Matrix(spec["matrix"])
    bpy.context.scene.camera = obj


def configure(job: dict[str, Any]) -> None:
    """Cycles on the CPU, no denoiser, fixed seed, transparent film, linear EXR output."""
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    cycles = scene.cycles
    cycles.device = "CPU"
    cycles.samples = job["samples"]
    cycles.use_adaptive_sampling = True
    cycles.adaptive_threshold = 0.02
    cycles.use_denoising = False  # Debian's Blender 3.4 is built without OpenImageDenoise
    cycles.seed = job["seed"]
    cycles.max_bounces = 6
    cycles.diffuse_bounces = 2
    cycles.glossy_bounces = 3
    cycles.transmission_bounces = 4
    cycles.transparent_max_bounces = 8
    cycles.caustics_reflective = False
    cycles.caustics_refractive = False
    cycles.blur_glossy = 1.0
    cycles.sample_clamp_indirect = 10.0  # no denoiser: clamp the rare bright indirect paths
    scene.render.threads_mode = "FIXED" if job.get("threads") else "AUTO"
    if job.get("threads"):
        scene.render.threads = job["threads"]
    scene.render.resolution_x = job["width"]
    scene.render.resolution_y = job["height"]
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = True
    scene.view_settings.view_transform = "Standard"
    scene.render.image_settings.file_format = "OPEN_EXR"
    scene.render.image_settings.color_depth = "32"
    scene.render.filepath = job["exr"]


def main(job_path: str) -> None:
    """Build, render, and dump the job's image as raw float32 RGBA (bottom row first)."""
    with open(job_path, encoding="utf-8") as fh:
        job = json.load(fh)
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj)
    configure(job)
    if job.get("mask_only"):  # a silhouette: every part opaque, whatever it is made of
        plain = {"color": [0.8, 0.8, 0.8], "roughness": 1.0}
        materials = {name: principled(name, plain) for name in job["materials"]}
    else:
        materials = {name: principled(name, spec) for name, spec in job["materials"].items()}
    for spec in job["meshes"]:
        obj = build_mesh(spec)
        obj.data.materials.append(materials[spec["material"]])
    if job.get("floor"):
        floor = build_mesh(job["floor"])
        floor.data.materials.append(floor_material(job["floor_material"]))
        if job.get("mask_only"):
            floor.hide_render = True
    for spec in job.get("set") or []:  # the room of an environment backdrop
        build_mesh(spec).data.materials.append(materials[spec["material"]])
    build_world(job["world"])
    for spec in job["lights"]:
        add_light(spec)
    add_camera(job["camera"])
    bpy.ops.render.render(write_still=True)
    image = bpy.data.images.load(job["exr"])
    pixels = array.array("f", [0.0]) * (job["width"] * job["height"] * 4)
    image.pixels.foreach_get(pixels)
    with open(job["raw"], "wb") as fh:
        pixels.tofile(fh)


if __name__ == "__main__":
    main(sys.argv[sys.argv.index("--") + 1])
