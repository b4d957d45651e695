"""Model catalog: cards shipped in the package plus user directories (``PODIUM_CATALOG_PATH``)."""

from podium.catalog.card import Limits, ModelCard, ParamSpec, Price, Priors
from podium.catalog.catalog import Catalog, load_catalog

__all__ = ["Catalog", "Limits", "ModelCard", "ParamSpec", "Price", "Priors", "load_catalog"]
