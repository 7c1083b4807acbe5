"""Code that runs inside Lambda. Shipped as one asset; never imports ``infra``."""
