"""A runner in a process of its own, for the crash-resume test to SIGKILL.

``python crash_driver.py SPEC PRODUCT [RUN_ID]`` runs (or resumes) the pipeline on the SQLite
store under ``PODIUM_HOME`` and prints the run document as JSON. It builds the runner the way
`podium run` does, without the CLI's start-up cost.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path


async def main(spec: Path, product: str, run_id: str | None) -> None:
    from podium.catalog.catalog import load_catalog
    from podium.execute import local_runner
    from podium.settings import load_settings
    from podium.spec.loader import load_pipeline
    from podium.store.open import open_store
    from podium.testing import catalog_dirs

    settings = load_settings()
    catalog = load_catalog(catalog_dirs(settings))
    store = open_store(settings)
    runner, registry, executor = local_runner(settings, catalog, store)
    loaded = load_pipeline(spec, {"product": product})
    outcome = await runner.run(loaded, resume_run_id=run_id, out_dir=spec.parent / product)
    await registry.aclose()
    await executor.shutdown()
    store.close()
    print(json.dumps(outcome.to_json()))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
