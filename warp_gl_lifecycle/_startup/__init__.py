"""The directory ``run`` puts first on its child processes' PYTHONPATH: it holds their start-up ``sitecustomize``."""
