"""Mesh helpers of the local 3D engines: repair (MeshFix per component) and GLB export."""
