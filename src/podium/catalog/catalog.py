"""Loading model cards from YAML and looking them up.

Cards ship under ``podium/catalog/cards/<provider>/*.yaml``; user directories named by
``PODIUM_CATALOG_PATH`` come after and override a shipped card with the same id. One file may
hold one card (a mapping) or several (a list).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml
from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from podium.catalog import quickyaml
from podium.catalog.card import ModelCard
from podium.errors import PodiumError, Problem, SpecError, not_utf8
from podium.spec.vocabulary import Task

SHIPPED = Path(__file__).parent / "cards"


class Catalog:
    """An immutable set of model cards, by id.

    Args:
        cards: the cards; a later card with the same id replaces an earlier one.
    """

    def __init__(self, cards: Iterable[ModelCard]) -> None:
        self._cards: dict[str, ModelCard] = {}
        for card in cards:
            self._cards[card.id] = card

    def __iter__(self) -> Iterator[ModelCard]:
        return iter(self._cards.values())

    def __len__(self) -> int:
        return len(self._cards)

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and model_id.split("@")[0] in self._cards

    def get(self, model_id: str) -> ModelCard:
        """The card for ``provider/model`` (an ``@version`` suffix is ignored).

        Raises:
            PodiumError: no such model, with the closest ids as a hint.
        """
        key = model_id.split("@")[0]
        if key in self._cards:
            return self._cards[key]
        import difflib

        close = difflib.get_close_matches(key, list(self._cards), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "see `podium models`"
        raise PodiumError(f"unknown model {model_id!r}", hint=hint)

    def for_task(self, task: Task | str) -> list[ModelCard]:
        """Every card that can run ``task``."""
        t = Task(task)
        return [c for c in self._cards.values() if t in c.tasks]

    def providers(self) -> set[str]:
        """Provider names present in the catalog."""
        return {c.provider for c in self._cards.values()}


def _yaml_files(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))


def load_card_file(path: Path) -> list[ModelCard]:
    """Cards in one YAML file.

    Raises:
        SpecError: the file is unreadable, not UTF-8, not valid YAML, or a card is invalid
            (with file:line and field).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        message, line = not_utf8(exc)
        problem = Problem(
            message,
            file=str(path),
            line=line,
            hint="save the card as UTF-8",
            code="card",
        )
        raise SpecError([problem]) from None
    except OSError as exc:
        problem = Problem(
            f"cannot read the card: {exc.strerror or exc}",
            file=str(path),
            hint="make it a readable file, or move it out of the catalog directory",
            code="card",
        )
        raise SpecError([problem]) from None
    try:
        data = quickyaml.load(text)
        items = data if isinstance(data, list) else [data]
        return [
            ModelCard.model_validate({**item, "source_file": str(path)})
            for item in items
            if item is not None
        ]
    except (yaml.YAMLError, ValidationError, TypeError):
        pass  # read it again keeping positions, so every problem says where it is
    return _load_card_file_located(path, text)


def _load_card_file_located(path: Path, text: str) -> list[ModelCard]:
    yaml_rt = YAML(typ="rt")
    try:
        data = yaml_rt.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SpecError(
            [
                Problem(
                    f"not valid YAML: {getattr(exc, 'problem', exc)}",
                    file=str(path),
                    line=mark.line + 1 if mark else None,
                    col=mark.column + 1 if mark else None,
                    hint="fix the YAML syntax",
                )
            ]
        ) from None
    items = data if isinstance(data, list) else [data]
    cards: list[ModelCard] = []
    problems: list[Problem] = []
    for item in items:
        if item is None:
            continue
        try:
            cards.append(ModelCard.model_validate({**item, "source_file": str(path)}))
        except (ValidationError, TypeError) as exc:
            line = getattr(getattr(item, "lc", None), "line", None)
            if isinstance(exc, ValidationError):
                for err in exc.errors():
                    loc = ".".join(str(x) for x in err["loc"])
                    problems.append(
                        Problem(
                            err["msg"],
                            file=str(path),
                            line=(line + 1) if line is not None else None,
                            path=loc,
                            hint="see `podium models show` for a valid card",
                            code="card",
                        )
                    )
            else:
                problems.append(Problem(str(exc), file=str(path), code="card"))
    if problems:
        raise SpecError(problems)
    return cards


def load_catalog(extra_dirs: Iterable[Path] = (), *, shipped: bool = True) -> Catalog:
    """The shipped cards, then cards in ``extra_dirs`` (later ids override earlier ones)."""
    roots = ([SHIPPED] if shipped else []) + [Path(d) for d in extra_dirs]
    cards: list[ModelCard] = []
    for root in roots:
        for path in _yaml_files(root):
            cards.extend(load_card_file(path))
    return Catalog(cards)
