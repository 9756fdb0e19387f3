"""How a FashionEdit service ships as a Bento: its runtime image, the resources it asks for, a traffic hint.

``scripts/build_bentos.py`` runs ``bentoml build`` for every Bento the services' pyproject files declare
(``[tool.fashionedit.bentos]``). The image is declared here, the BentoML way; its Python requirements are
written by that script: third-party packages pinned from the workspace lock (``requirements.lock``) and this
repo's own distributions as wheels in the Bento's ``wheels/`` folder, installed before the service starts.
"""

from __future__ import annotations

import typing as t

from bentoml.images import Image

PYTHON_VERSION = "3.11"
CPU_BASE_IMAGE = "python:3.11-slim-bookworm"
# torch's wheels bring their own CUDA libraries; the CUDA base adds what the NVIDIA container toolkit expects.
# CUDA 13 (torch 2.14's wheels) needs an NVIDIA driver >= 580 on the host; pick the tag your driver supports.
CUDA_BASE_IMAGE = "nvidia/cuda:13.0.2-base-ubuntu24.04"


def runtime_image(*, gpu: bool, system_packages: t.Sequence[str] = ()) -> Image:
    base_image = CUDA_BASE_IMAGE if gpu else CPU_BASE_IMAGE
    image = Image(base_image=base_image, python_version=PYTHON_VERSION, lock_python_packages=False)
    # BentoML 1.4.40 re-creates the image at build time (attrs.evolve), which inserts its default apt-get line
    # a second time; drop the first copy so the Dockerfile runs it once (tests/packaging/test_bentos.py checks).
    del image.commands[0]
    if system_packages:
        image.system_packages(*system_packages)
    # The wheels must be in the image before BentoML installs the requirements that name them.
    return image.build_include("wheels")


def bento_options(*, gpu: bool, concurrency: int, system_packages: t.Sequence[str] = ()) -> dict[str, t.Any]:
    """``image``, ``resources`` and ``traffic`` for ``@bentoml.service`` (merge with ``service_options``).

    ``concurrency`` is the requests one replica serves at once: BentoML's scaling hint, which should match
    the service's own admission limit (``FASHIONEDIT_<NAME>_MAX_CONCURRENCY``).
    """
    return {
        "image": runtime_image(gpu=gpu, system_packages=system_packages),
        "resources": {"gpu": 1} if gpu else {"cpu": "1"},
        "traffic": {"concurrency": concurrency},
    }
