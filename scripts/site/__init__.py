"""Site: serving the database with Datasette on 127.0.0.1 (make serve) and the site as a folder that
runs on its own (make bundle). Imports only what requirements-serve.txt pins.

Modules, in flow order: serve, site_files (what make serve serves, built with the site's own tools),
build_bundle (dist/site/).
"""
