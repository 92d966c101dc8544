"""Front ends over the public API: the command line and the local web page."""
