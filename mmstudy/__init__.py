"""mmstudy: build, stress and audit multimodal recommendation pipelines."""
__version__ = "0.1.0"
