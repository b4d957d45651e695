"""Path-traced studio renders with Blender's Cycles (``local/studio-cycles``).

:mod:`.job` turns a studio scene into a job file, :mod:`.blender` runs Blender on it with
:mod:`.blender_scene` (the script that runs inside Blender), and :mod:`.film` tonemaps the
linear result like the raster engine and lays it over the backdrop.
"""
