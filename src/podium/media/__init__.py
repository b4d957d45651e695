"""Media: ffmpeg invocation, probing, loudness and conformance measurement, decoding checks."""
