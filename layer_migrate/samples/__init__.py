"""Bundled samples (a legacy v1 app, payloads, bot map, proxy config); shipped for `layer-migrate demo`."""
