"""Scorer service: image pairs to CLIP, CLIP*, PSNR (+ SSIM, LPIPS), as the FashionEdit paper's evaluation computes them.

``metrics`` (PSNR, SSIM, CLIP*, aggregates) and ``preprocess`` (decode once, derive the CLIP
and PSNR inputs) are plain numpy/OpenCV; ``backends`` hold the CLIP embedders; ``serving``
ties them together; ``service`` is the thin BentoML class.
"""
