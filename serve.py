"""Start the Sift API with the settings' defaults: `python serve.py` is `sift serve`."""

from engine.cli import serve

if __name__ == "__main__":
    serve()
