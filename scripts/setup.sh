#!/usr/bin/env bash
# Install everything Podium needs: Debian packages (when root), a .venv with the project,
# its dev tools and the CPU build of torch for the diffusers extra. Idempotent and fast when done.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.podium-setup
DEB_PACKAGES="fluidsynth fluid-soundfont-gm espeak-ng libespeak-ng1 libosmesa6 libegl1 libegl-mesa0 libgl1-mesa-dri libgles2 fonts-dejavu-core"
if [ "${PODIUM_WITH_BLENDER:-0}" = "1" ]; then DEB_PACKAGES="$DEB_PACKAGES blender"; fi

hash_inputs() { cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1; }

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(hash_inputs)" ]; then
  exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  missing=""
  for p in $DEB_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || echo "setup: apt-get update failed; trying the install anyway"
    apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 \
      || echo "setup: some Debian packages could not be installed ($missing); engines that need them fall back"
  fi
else
  echo "setup: not root; skipping Debian packages (FluidSynth, espeak-ng, Mesa). Engines fall back where they can."
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# torch first, pinned, so nothing pulls a multi-GB CUDA build through a range.
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
"$VENV/bin/python" -m pip install -q -e ".[dev,diffusers]"
hash_inputs > "$STAMP"
echo "setup: done ($VENV)"
