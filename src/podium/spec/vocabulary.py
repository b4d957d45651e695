"""The closed vocabulary of DESIGN.md: tasks, artifact types, input slots, prompt fields."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Task(StrEnum):
    """What a step does."""

    TEXT = "text"
    TEXT_TO_IMAGE = "text-to-image"
    IMAGE_TO_IMAGE = "image-to-image"
    TEXT_TO_VIDEO = "text-to-video"
    IMAGE_TO_VIDEO = "image-to-video"
    TEXT_TO_SPEECH = "text-to-speech"
    TEXT_TO_MUSIC = "text-to-music"
    MIX_AUDIO = "mix-audio"
    COMPOSE_VIDEO = "compose-video"
    TEXT_TO_3D = "text-to-3d"
    MESH_REPAIR = "mesh-repair"
    SCORE = "score"


class ArtifactType(StrEnum):
    """The type of an artifact."""

    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    SUBTITLES = "subtitles"
    MIDI = "midi"
    MESH = "mesh"
    TEXT = "text"
    JSON = "json"


@dataclass(frozen=True)
class Slot:
    """A named input slot of a task.

    Attributes:
        name: slot name (``image``, ``shots`` ...).
        types: artifact types it accepts.
        optional: whether it may be left out.
        many: whether it takes a list.
    """

    name: str
    types: tuple[ArtifactType, ...]
    optional: bool = False
    many: bool = False


A = ArtifactType

TASK_INPUTS: dict[Task, tuple[Slot, ...]] = {
    Task.TEXT_TO_IMAGE: (Slot("reference", (A.IMAGE,), True), Slot("label", (A.IMAGE,), True)),
    Task.IMAGE_TO_IMAGE: (Slot("image", (A.IMAGE,)),),
    Task.TEXT_TO_VIDEO: (
        Slot("first_frame", (A.IMAGE,), True),
        Slot("last_frame", (A.IMAGE,), True),
    ),
    Task.IMAGE_TO_VIDEO: (Slot("image", (A.IMAGE,)), Slot("last_frame", (A.IMAGE,), True)),
    Task.MIX_AUDIO: (Slot("voice", (A.AUDIO,)), Slot("music", (A.AUDIO,))),
    Task.COMPOSE_VIDEO: (
        Slot("shots", (A.VIDEO,), many=True),
        Slot("audio", (A.AUDIO,)),
        Slot("subtitles", (A.SUBTITLES,), True),
        Slot("logo", (A.IMAGE,), True),
    ),
    Task.MESH_REPAIR: (Slot("mesh", (A.MESH,)),),
    Task.SCORE: (Slot("items", (A.IMAGE, A.VIDEO, A.AUDIO), many=True),),
    Task.TEXT_TO_SPEECH: (),
    Task.TEXT_TO_MUSIC: (),
    Task.TEXT_TO_3D: (),
    Task.TEXT: (),
}

# Outputs a task produces, first = the default ``output``.
TASK_OUTPUTS: dict[Task, tuple[ArtifactType, ...]] = {
    Task.TEXT: (A.TEXT,),
    Task.TEXT_TO_IMAGE: (A.IMAGE,),
    Task.IMAGE_TO_IMAGE: (A.IMAGE,),
    Task.TEXT_TO_VIDEO: (A.VIDEO,),
    Task.IMAGE_TO_VIDEO: (A.VIDEO,),
    Task.TEXT_TO_SPEECH: (A.AUDIO, A.SUBTITLES),
    Task.TEXT_TO_MUSIC: (A.AUDIO, A.MIDI),
    Task.MIX_AUDIO: (A.AUDIO,),
    Task.COMPOSE_VIDEO: (A.VIDEO,),
    Task.TEXT_TO_3D: (A.MESH,),
    Task.MESH_REPAIR: (A.MESH,),
    Task.SCORE: (A.JSON,),
}

IMAGE_FIELDS = (
    "subject",
    "style",
    "lighting",
    "composition",
    "perspective",
    "mood",
    "background",
    "material",
    "negative",
    "text",
)
VIDEO_FIELDS = (*IMAGE_FIELDS, "action", "camera", "duration_s", "first_frame", "last_frame")
SPEECH_FIELDS = ("text", "voice", "rate", "emotion")
MUSIC_FIELDS = (
    "genre",
    "mood",
    "tempo_bpm",
    "key",
    "instruments",
    "structure",
    "duration_s",
)
MESH_FIELDS = ("subject", "material", "style")
TEXT_FIELDS = ("template", "text")
# mix-audio, compose-video, mesh-repair and score take no creative prompt, but may carry
# task-specific fields (an end card's headline) in params.

PROMPT_FIELDS: dict[Task, tuple[str, ...]] = {
    Task.TEXT: TEXT_FIELDS,
    Task.TEXT_TO_IMAGE: IMAGE_FIELDS,
    Task.IMAGE_TO_IMAGE: IMAGE_FIELDS,
    Task.TEXT_TO_VIDEO: VIDEO_FIELDS,
    Task.IMAGE_TO_VIDEO: VIDEO_FIELDS,
    Task.TEXT_TO_SPEECH: SPEECH_FIELDS,
    Task.TEXT_TO_MUSIC: MUSIC_FIELDS,
    Task.TEXT_TO_3D: MESH_FIELDS,
    Task.MIX_AUDIO: (),
    Task.COMPOSE_VIDEO: (),
    Task.MESH_REPAIR: (),
    Task.SCORE: (),
}

COMMON_PARAMS = ("aspect_ratio", "width", "height", "fps", "sample_rate", "seed")

FILE_EXTENSIONS: dict[ArtifactType, str] = {
    A.IMAGE: "png",
    A.VIDEO: "mp4",
    A.AUDIO: "wav",
    A.SUBTITLES: "srt",
    A.MIDI: "mid",
    A.MESH: "glb",
    A.TEXT: "txt",
    A.JSON: "json",
}
