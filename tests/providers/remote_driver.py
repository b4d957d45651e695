"""A runner in a process of its own, for the remote crash-resume tests to SIGKILL.

``python remote_driver.py SPEC OUT_DIR [RUN_ID]`` runs (or resumes) SPEC on the SQLite store under
``PODIUM_HOME`` with the providers' base URLs and keys from the environment, and prints the run
document as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path


async def main(spec: Path, out_dir: Path, run_id: str | None) -> None:
    from podium.catalog.catalog import load_catalog
    from podium.execute import local_runner
    from podium.settings import load_settings
    from podium.spec.loader import load_pipeline
    from podium.store.open import open_store

    settings = load_settings()
    catalog = load_catalog(settings.catalog_dirs)
    store = open_store(settings)
    runner, registry, executor = local_runner(settings, catalog, store)
    outcome = await runner.run(load_pipeline(spec, {}), resume_run_id=run_id, out_dir=out_dir)
    await registry.aclose()
    await executor.shutdown()
    store.close()
    print(json.dumps(outcome.to_json()))


if __name__ == "__main__":
    asyncio.run(
        main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
    )
