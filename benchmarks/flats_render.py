"""Render time of the technical-flat renderer at 512x512 and 1024x1024.

    python benchmarks/flats_render.py [--renders 40]

For each size: the first render (cold: fabric textures are built and cached),
then the median and p90 over ``--renders`` renders of different seeded outfits
(warm), and part_boxes(). The baseline, measured in the same run on the same
images, is encoding each flat as PNG with fashionedit.contracts.encode_image
(what a service does with every flat it returns).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from fashionedit.contracts import encode_image
from fashionedit.contracts.garment import GarmentAttributes
from fashionedit.flats import complete_attributes, part_boxes, render_flat
from fashionedit.flats.render import _texture_canvas, _texture_tile


def _ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=40)
    args = parser.parse_args()
    outfits = [complete_attributes(GarmentAttributes(), seed) for seed in range(args.renders)]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"{'size':>10} {'cold ms':>8} {'median ms':>10} {'p90 ms':>7} {'boxes ms':>9} {'png ms':>7} {'render/png':>10}")
    for side in (512, 1024):
        size = (side, side)
        _texture_tile.cache_clear()
        _texture_canvas.cache_clear()
        cold = _ms(lambda size=size: render_flat(outfits[0], size))
        render_times, png_times, box_times = [], [], []
        for attrs in outfits:
            rendered: list = []
            render_times.append(_ms(lambda attrs=attrs, size=size, out=rendered: out.append(render_flat(attrs, size))))
            png_times.append(_ms(lambda image=rendered[0]: encode_image(image)))
            box_times.append(_ms(lambda attrs=attrs, size=size: part_boxes(attrs, size)))
        median, png = statistics.median(render_times), statistics.median(png_times)
        p90 = statistics.quantiles(render_times, n=10)[-1]
        print(
            f"{side}x{side:<5} {cold:8.1f} {median:10.1f} {p90:7.1f} {statistics.median(box_times):9.2f} {png:7.1f} "
            f"{median / png:10.2f}"
        )


if __name__ == "__main__":
    main()
