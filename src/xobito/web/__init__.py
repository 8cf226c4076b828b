"""The browser side: static files under ``/static`` (``assets.py``), shared by the API docs
pages and the dashboard."""
