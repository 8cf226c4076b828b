"""The interactive API documentation: Swagger UI at ``/docs`` and ReDoc at ``/redoc``, both
served from the package's own files (``/static/vendor``), so they work without Internet access."""
